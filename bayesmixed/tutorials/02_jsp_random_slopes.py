# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 2. Schools: predictions, shrinkage and random slopes (jsp2)
#
# After `mixed`, `predict u0, reffects` gives each school's BLUP: the school's own
# deviation *shrunk* toward zero, more so for small schools.  Letting the slope on
# `math3` vary by school too, `|| school: math3`, asks whether schools differ in how much
# they add for pupils who started high or low; `cov(unstructured)` lets intercept and
# slope correlate.

# %%
import bayesmixed as bm
from bayesmixed.plot import caterpillar, fitted_lines, shrinkage
from bayesmixed.plot.from_results import conditional_effects, raw_group_means
from bayesmixed.tutorials._common import bayes

jsp = bm.datasets.load("jsp2")
ri = bm.stata("mixed math5 math3 || school:", jsp)
blup, se = conditional_effects(ri)
raw, sizes = raw_group_means(ri)
shrinkage(raw, blup[0][:, 0], sizes=sizes)

# %%
caterpillar([str(g) for g in ri.design.blocks[0].groups], blup[0][:, 0], se[0][:, 0])

# %% [markdown]
# ## Fitted lines, one per school

# %%
jsp["yhat"] = ri.design.X @ ri.beta + blup[0][ri.design.blocks[0].codes, 0]
fitted_lines(jsp[jsp.school <= 10], "yhat", y="math5")

# %% [markdown]
# ## Random slopes: independent vs unstructured, and the likelihood-ratio test

# %%
ind = bm.stata("mixed math5 math3 || school: math3", jsp)
uns = bm.stata("mixed math5 math3 || school: math3, cov(unstructured)", jsp)
print(uns)
print(bm.lrtest(ind, uns))

# %% [markdown]
# The ML fit puts the intercept-slope correlation at the boundary (close to -1): the
# data cannot tell the two variances apart well once `math3` is uncentred.  A point
# estimate at -1 says little; the posterior of the correlation shows how much the data
# actually constrain it, and its LKJ prior keeps it off the boundary.

# %%
buns = bayes("mixed math5 math3 || school: math3, cov(unstructured)", jsp)
if buns is not None:
    print(buns)
