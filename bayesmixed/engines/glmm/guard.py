"""Numerical failures caused by the data, told to the user as such.

Finite but enormous values (a count of 1e300, a covariate of 1e200) pass
every data check, yet the GLM log likelihood then overflows: ``exp(eta)``
or ``y * eta`` is infinite, and a linear solve on infinite weights raises
NumPy's ``LinAlgError`` from deep inside the engine.  Stata would not
converge either.  This module turns such failures into an
:class:`~bayesmixed.errors.EstimationError` that names the extreme values,
but only when the data do hold values that large: a linear-algebra failure
on ordinary data is a bug and is left to surface as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from ...errors import EstimationError
from .response import Response

#: magnitude beyond which squares and exponentials of a value overflow doubles
EXTREME = 1e100


def extremes(resp: Response) -> str | None:
    """Which inputs hold values beyond :data:`EXTREME`, in words, or None."""
    found = []
    for what, values in (("the response", resp.y), ("a covariate", resp.X)):
        big = float(np.max(np.abs(values), initial=0.0))
        if big > EXTREME:
            found.append(f"{what} reaches {big:.3g}")
    big = float(np.max(np.abs(resp.offset), initial=0.0))
    if big > np.log(np.finfo(float).max):
        found.append(f"the offset reaches {big:.3g}")
    return "; ".join(found) or None


def overflow_error(resp: Response, where: str) -> EstimationError:
    """The error for a log likelihood that is not finite at ``where``."""
    detail = extremes(resp)
    cause = f" ({detail})" if detail else ""
    return EstimationError(
        f"the {resp.family.name} log likelihood is not finite {where}{cause}: the values are "
        "too large for double precision. Rescale the variables or check them for "
        "data-entry errors."
    )


@contextlib.contextmanager
def data_failures(resp: Response) -> Iterator[None]:
    """Re-raise a ``LinAlgError`` as an EstimationError when the data explain it."""
    try:
        yield
    except np.linalg.LinAlgError as exc:
        if extremes(resp) is None:
            raise  # ordinary data: a bug, not the user's problem
        raise overflow_error(resp, f"during the fit ({exc})") from exc
