"""Write hard_models.csv: simulated data for the hard-model checks (seeded, reproducible).

Run from the repository root: ``python tests/reference/hard_models_data.py``;
then ``Rscript tests/reference/hard_models.R`` fits each model with lme4.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240609)
n, groups = 120, 12
g = np.repeat(np.arange(groups), n // groups)
x = rng.normal(size=n)
u = rng.normal(size=groups)
frame = pd.DataFrame(
    {
        "g": g,
        "id": np.arange(n),
        "two": g % 2,
        "x": x,
        "xbig": x * 1000.0,
        # no group effect at all: var(_cons) -> 0
        "y_null": 1.0 + 0.5 * x + rng.normal(size=n),
        # intercept and slope effects perfectly correlated: corr -> +1
        "y_corr": 1.0 + (0.5 + 0.8 * u[g]) * x + 0.8 * u[g] + 0.3 * rng.normal(size=n),
        # random slope with a group effect, fitted on x and on x * 1000
        "y_slope": 2.0 + (1.0 + 0.5 * u[g]) * x + u[g] + rng.normal(size=n),
        # logistic outcome separated by x > 0
        "b_sep": (x > 0).astype(int),
        # logistic outcome that is ordinary
        "b": (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 * x + 0.7 * u[g])))).astype(int),
    }
)
frame.to_csv(Path(__file__).with_name("hard_models.csv"), index=False, float_format="%.17g")
