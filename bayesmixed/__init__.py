"""bayesmixed: multilevel and mixed models from Stata syntax, fitted by ML/REML and Bayes.

>>> import bayesmixed as bm
>>> df = bm.datasets.load("jsp2")
>>> r = bm.mixed("math5 math3 || school: math3, cov(unstructured)", data=df)
>>> print(r)                      # Stata's layout
>>> r.coef, r.loglik, r.re_cov    # the numbers, as data
>>> r.predict("reffects")         # BLUPs, named as Stata names them
>>> r.summary(), r.conf_int(), r.pvalues             # the printed table, as data
>>> r.fixef(), r.ranef(), r.varcorr()                # lme4's accessors, on every result kind
>>> bm.run_do(bm.tutorials.path("workshop.do"), out="report")   # ships in the wheel
"""

from importlib import import_module

from . import datasets, tutorials
from .api import fit, mixed, stata
from .errors import BayesmixedError
from .postestimation.compare import compare
from .postestimation.estat import estat_ic
from .postestimation.estimates import estimates, estimates_table
from .postestimation.lrtest import lrtest

# Imported eagerly (it needs only NumPy): a lazy ``simulate`` would be the
# function on first access and the submodule ``bayesmixed.simulate`` after
# any ``import bayesmixed.simulate``, which rebinds the package attribute.
# Binding the function here, after the submodule is loaded, keeps
# ``bm.simulate`` the function whatever is imported later.
from .simulate import simulate

# Imported on first use so that fitting never pays for matplotlib (the do-file
# runner draws graphs), Dask (resampling) or the archive code.
_LAZY = {
    "run_do": ".dofile",
    "DoFileError": ".dofile",
    "load": ".io",
    "save": ".io",
    "bootstrap": ".resampling",
    "bootstrap_lrtest": ".resampling",
    "power": ".resampling",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'bayesmixed' has no attribute {name!r}")


__all__ = [
    "BayesmixedError",
    "DoFileError",
    "bootstrap",
    "bootstrap_lrtest",
    "compare",
    "datasets",
    "tutorials",
    "estat_ic",
    "estimates",
    "estimates_table",
    "fit",
    "load",
    "lrtest",
    "mixed",
    "power",
    "run_do",
    "save",
    "simulate",
    "stata",
]
__version__ = "0.1.0"
