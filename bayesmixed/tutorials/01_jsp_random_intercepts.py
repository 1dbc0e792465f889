# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 1. Schools: from pooled OLS to random intercepts (jsp2)
#
# 887 pupils in 48 London schools, with math scores in year 3 (`math3`) and year 5
# (`math5`).  Pupils in one school share teachers and neighbourhoods, so their scores
# are not independent.  Three ways to deal with it:
#
# * **pooled OLS** with cluster-robust standard errors: the same coefficients, honest SEs;
# * a **random intercept** per school: $y_{ij} = \beta_0 + \beta_1 x_{ij} + u_j + e_{ij}$,
#   $u_j \sim N(0, \sigma_u^2)$ -- Stata: `mixed math5 math3 || school:`;
# * the same model **Bayesian**: priors on $\beta$, $\sigma_u$, $\sigma_e$, and a posterior
#   for every school effect, not only a point estimate.

# %%
import bayesmixed as bm
from bayesmixed.dofile.regress import fit_ols
from bayesmixed.plot import scores_by_school
from bayesmixed.tutorials._common import bayes

jsp = bm.datasets.load("jsp2")
scores_by_school(jsp, first=10)

# %% [markdown]
# ## Pooled OLS with cluster-robust standard errors (`regress math5 math3, vce(cluster school)`)

# %%
ols = fit_ols(jsp, "math5", ["math3"], cluster="school", robust=False)
print(ols)

# %% [markdown]
# ## Random intercepts by maximum likelihood

# %%
ri = bm.stata("mixed math5 math3 || school:", jsp)
print(ri)
icc = ri.re_cov["school"].iloc[0, 0] / (ri.re_cov["school"].iloc[0, 0] + ri.sigma2)
print(f"intraclass correlation: {icc:.3f}")

# %% [markdown]
# The school variance is about a seventh of the total: pupils of one school are alike.
# The fixed slope hardly moves from OLS, but its standard error now reflects the
# clustering through the model rather than through a correction.
#
# ## The Bayesian fit (`bayes: mixed math5 math3 || school:`)
#
# What the posterior adds: the school variance has a whole distribution (skewed, bounded
# at zero), and each school's effect comes with a credible interval that accounts for
# the uncertainty of the variance itself -- the BLUP's standard error does not.

# %%
bri = bayes("mixed math5 math3 || school:", jsp)
if bri is not None:
    print(bri)
