# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 4. Rat pups: litter effects and a residual variance for each sex
#
# 322 pups in 27 litters; dose is a three-level factor (`i.dose`).  Pups of one litter
# share a mother, hence `|| litter:`.  `residuals(independent, by(female))` lets male
# and female pups have different residual variances -- a model for the level-1 errors,
# not only for the means.

# %%
import bayesmixed as bm
from bayesmixed.tutorials._common import bayes

rats = bm.datasets.load("rats")
common = bm.stata("mixed weight i.dose size female || litter:", rats)
bysex = bm.stata(
    "mixed weight i.dose size female || litter:, residuals(independent, by(female))", rats
)
print(bysex)
print(bm.lrtest(common, bysex))

# %%
bbysex = bayes(
    "mixed weight i.dose size female || litter:, residuals(independent, by(female))", rats
)
