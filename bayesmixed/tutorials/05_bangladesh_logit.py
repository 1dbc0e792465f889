# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 5. Contraceptive use in Bangladesh: multilevel logistic regression
#
# 1,934 women in 60 districts.  `melogit` puts the random effects on the log-odds
# scale; the likelihood has no closed form, so Stata integrates the district effects out
# by adaptive Gauss-Hermite quadrature.  Letting the urban effect vary by district
# (`|| district: urban, cov(unstructured)`) asks whether the urban-rural gap differs
# between districts.

# %%
import bayesmixed as bm
from bayesmixed.tutorials._common import bayes

bd = bm.datasets.load("bangladesh")
ri = bm.stata("melogit c_use urban age child1 child2 child3 || district:", bd)
print(ri)
rs = bm.stata(
    "melogit c_use urban age child1 child2 child3 || district: urban, cov(unstructured)", bd
)
print(rs)

# %% [markdown]
# In the Bayesian fit the district effects are sampled (non-centred), and the posterior
# of the urban-slope variance shows whether the data support it at all.

# %%
brs = bayes(
    "melogit c_use urban age child1 child2 child3 || district: urban, cov(unstructured)", bd
)
