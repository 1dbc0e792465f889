# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 3. Nested and crossed effects: productivity and Grunfeld
#
# US states (48) are nested in 9 regions: `|| region: || state:` gives each region an
# effect and each state an effect within its region.  Years are not nested in anything:
# every state is observed in every year, so a year effect is *crossed* with the states.
# Stata writes crossed effects with the `_all: R.year` trick -- one "group" holding every
# observation, with an indicator per year.

# %%
import bayesmixed as bm
from bayesmixed.tutorials._common import bayes

prod = bm.datasets.load("productivity")
nested = bm.stata("mixed gsp private emp hwy water other unemp || region: || state:", prod)
crossed = bm.stata(
    "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:", prod
)
print(crossed)
print(bm.lrtest(nested, crossed))

# %% [markdown]
# With only 9 regions, the region variance is poorly determined; the Bayesian fit
# shows that directly as a wide, skewed posterior instead of a symmetric Wald interval.

# %%
bcrossed = bayes(
    "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:", prod
)
if bcrossed is not None:
    print(bcrossed)

# %% [markdown]
# ## Grunfeld: 10 firms crossed with 20 years

# %%
grunfeld = bm.datasets.load("grunfeld")
print(bm.stata("mixed invest mvalue cstock || _all: R.company || year:", grunfeld))
bgrun = bayes("mixed invest mvalue cstock || _all: R.company || year:", grunfeld)
