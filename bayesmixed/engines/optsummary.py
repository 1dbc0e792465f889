"""What an optimizer did, recorded by every likelihood engine (cf. MixedModels.jl's OptSummary).

It lives at the engine stage, apart from the result classes, because the engines
(:mod:`.ml.optimize`, :mod:`.glmm.fit`) create it and nothing upstream of the
results may import them; the results and :mod:`bayesmixed.io` read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class OptSummary:
    """What the optimizer did: start, end, evaluations, time (cf. MixedModels.jl)."""

    optimizer: str
    theta_start: np.ndarray
    theta_end: np.ndarray
    criterion_start: float
    criterion_end: float
    evaluations: int
    converged: bool
    message: str
    seconds: float
    boundary_snapped: bool = False
