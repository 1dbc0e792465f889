"""Many-fit workloads on one design: parametric bootstrap, bootstrap LR tests, power.

Every workload simulates responses from a fitted model
(:mod:`bayesmixed.simulate`), refits through a path that reuses the design's
cross-products (:mod:`.refit`), and runs its replicates on Dask
(:mod:`.runner`: a local cluster by default, or the user's).
"""

from .lrtest import BootstrapLRTestResult, bootstrap_lrtest
from .parametric import BootstrapResult, bootstrap, parameter_names
from .power import PowerResult, power
from .refit import Estimate, Refitter

__all__ = [
    "BootstrapLRTestResult",
    "BootstrapResult",
    "Estimate",
    "PowerResult",
    "Refitter",
    "bootstrap",
    "bootstrap_lrtest",
    "parameter_names",
    "power",
]
