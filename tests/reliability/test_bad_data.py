"""Bad data, one row per mistake: each names its error class and a message fragment.

Rows with ``None`` as the class are fits that must succeed with the given note
(Stata's behaviour: listwise deletion, collinear columns omitted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.errors import (
    BayesmixedError,
    DataError,
    EstimationError,
    StataSyntaxError,
    VariableError,
)

RNG = np.random.default_rng(3)
N = 60
BASE = pd.DataFrame(
    {
        "y": RNG.normal(size=N),
        "x": RNG.normal(size=N),
        "z": RNG.normal(size=N),
        "g": np.arange(N) % 6,
        "b": RNG.integers(0, 2, N),
        "w": RNG.uniform(size=N),
        "t": np.arange(N) // 6,
    }
)


def mod(**cols) -> pd.DataFrame:
    d = BASE.copy()
    for k, v in cols.items():
        d[k] = v
    return d


def one(col: str, value, row: int = 3) -> pd.DataFrame:
    d = BASE.copy()
    d[col] = d[col].astype(float)
    d.loc[row, col] = value
    return d


# name: (command, data, error class or None, message fragment)
CASES = {
    "nan response dropped": (
        "mixed y x || g:",
        one("y", np.nan),
        None,
        "1 observation deleted due to missing values",
    ),
    "nan group dropped": ("mixed y x || g:", one("g", np.nan), None, "1 observation deleted"),
    "inf response": ("mixed y x || g:", one("y", np.inf), DataError, "y has 1 infinite value"),
    "-inf regressor": ("mixed y x || g:", one("x", -np.inf), DataError, "x has 1 infinite value"),
    "inf group": ("mixed y x || g:", one("g", np.inf), DataError, "g has 1 infinite value"),
    "all-missing response": ("mixed y x || g:", mod(y=np.nan), DataError, "no observations"),
    "string response": ("mixed y x || g:", mod(y=["a"] * N), VariableError, "'y' is not numeric"),
    "numbers stored as text": (
        "mixed y x || g:",
        mod(x=["1.5"] * N),
        VariableError,
        "'x' is not numeric",
    ),
    "one text cell": (
        "mixed y x || g:",
        mod(x=np.array([1.0] * (N - 1) + ["a"], dtype=object)),
        VariableError,
        "'x' is not numeric",
    ),
    "categorical regressor": (
        "mixed y x || g:",
        mod(x=pd.Categorical(["a", "b"] * 30)),
        VariableError,
        "write i.x",
    ),
    "datetime regressor": (
        "mixed y x || g:",
        mod(x=pd.date_range("2000", periods=N)),
        VariableError,
        "not numeric",
    ),
    "complex regressor": (
        "mixed y x || g:",
        mod(x=BASE.x + 1j),
        VariableError,
        "a number is needed",
    ),
    "constant regressor": (
        "mixed y x || g:",
        mod(x=1.0),
        None,
        "note: x omitted because of collinearity.",
    ),
    "collinear regressors": (
        "mixed y x z || g:",
        mod(z=2 * BASE.x),
        None,
        "note: z omitted because of collinearity.",
    ),
    "nullable ints with NA": (
        "mixed y x || g:",
        mod(x=pd.array([1, None] * 30, dtype="Int64")),
        None,
        "30 observations deleted",
    ),
    "one group": ("mixed y x || g:", mod(g=1), DataError, "single g group"),
    "empty sample after if": (
        "mixed y x if x > 100 || g:",
        BASE,
        DataError,
        "the if/in conditions select no rows",
    ),
    "empty in range": (
        "mixed y x in 100/200 || g:",
        BASE,
        DataError,
        "observation range 100/200 is empty",
    ),
    "missing after if": ("mixed y x if y > 50 || g:", BASE, DataError, "no observations"),
    "string if condition": ('mixed y x if "a" || g:', BASE, DataError, "is a string"),
    "empty frame": ("mixed y x || g:", BASE.iloc[:0], DataError, "no observations"),
    "not a frame": ("mixed y x || g:", BASE.to_dict(), BayesmixedError, "pandas DataFrame"),
    "duplicated column names": (
        "mixed y x || g:",
        pd.concat([BASE, BASE[["x"]]], axis=1),
        BayesmixedError,
        "duplicated column names: x",
    ),
    "negative weights": (  # weights are supported since issue 15; Stata's rules apply
        "mixed y x [fw=w] || g:",
        mod(w=-1.0),
        DataError,
        "negative weights encountered in w",
    ),
    "fractional frequency weights": (
        "mixed y x [fw=w] || g:",
        mod(w=1.5),
        DataError,
        "frequency weights must be whole numbers",
    ),
    "constant response": ("mixed y x || g:", mod(y=1.0), DataError, "the response y is constant"),
    "logit non-binary": ("melogit y x || g:", BASE, DataError, "does not vary"),
    "poisson negative counts": ("mepoisson y x || g:", BASE, DataError, "negative values"),
    "logit constant outcome": ("melogit b x || g:", mod(b=1), DataError, "constant"),
    "fewer rows than coefficients": (
        "mixed y x z || g:",
        BASE.iloc[:3],
        EstimationError,
        "cannot be evaluated",
    ),
    "negative factor levels": (
        "mixed y i.t || g:",
        mod(t=np.arange(N) % 3 - 1),
        VariableError,
        "nonnegative whole-number",
    ),
    "non-integer factor": ("mixed y i.x || g:", BASE, VariableError, "nonnegative whole-number"),
    "repeated time in panel": (
        "mixed y x || g:, residuals(ar 1, t(t))",
        mod(t=0),
        DataError,
        "occurs more than once",
    ),
    "unknown variable": ("mixed y nope || g:", BASE, VariableError, "nope"),
    "response among regressors": (
        "mixed y y || g:",
        BASE,
        BayesmixedError,
        "also appears among the regressors",
    ),
    "text group labels fit": ("mixed y x || g:", mod(g=np.array(list("abcdef") * 10)), None, ""),
    "bool response fits": ("mixed y x || g:", mod(y=BASE.y > 0), None, ""),
    "typo in option": (
        "mixed y x || g:, covariance(banana)",
        BASE,
        StataSyntaxError,
        "unknown covariance structure",
    ),
    "poisson count of 1e300": (
        "mepoisson y x || g:",
        mod(y=np.r_[1e300, np.arange(N - 1) % 4].astype(float)),
        EstimationError,
        "the response reaches 1e+300",
    ),
    "poisson infinite count": (
        "mepoisson y x || g:",
        mod(y=np.r_[np.inf, np.arange(N - 1) % 4].astype(float)),
        DataError,
        "y has 1 infinite value",
    ),
    "repeated random slope": ("mixed y x || g: x x", BASE, BayesmixedError, "'x' is repeated"),
    "repeated regressor": (
        "mixed y x x || g:",
        BASE,
        None,
        "note: x omitted because of collinearity",
    ),
    "deeply nested if": (
        "mixed y x if " + "(" * 100 + "x > 0" + ")" * 100 + " || g:",
        BASE,
        StataSyntaxError,
        "levels deep",
    ),
    "negative rseed": ("bayes, rseed(-1): mixed y x || g:", BASE, StataSyntaxError, "got -1"),
    "fractional mcmcsize": (
        "bayes, mcmcsize(1.5): mixed y x || g:",
        BASE,
        StataSyntaxError,
        "got 1.5",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_data(name):
    command, data, error, fragment = CASES[name]
    if error is None:
        r = bm.stata(command, data)
        assert np.isfinite(r.loglik)
        assert fragment in "\n".join(r.design.notes) + str(r)
        return
    with pytest.raises(error) as info:
        bm.stata(command, data)
    assert fragment in str(info.value), str(info.value)


def test_table_size():
    assert len(CASES) >= 30
