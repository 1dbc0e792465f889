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

The import rule (checked by ``tests/test_architecture.py``)
----------------------------------------------------------
The package is a pipeline of stages, lowest first::

    errors, validate, maths, lazy_import, bayes_options, datasets   (leaves)
    spec -> syntax -> design -> engines -> results -> fitting -> simulate -> postestimation
    -> plot -> resampling -> io -> api -> report -> dofile -> cli, tutorials, this module

At module level a module imports only from its own stage or an earlier one; there is
no module-level import cycle; and no module imports another module's private
(``_underscored``) name -- a helper two modules share gets a public name in the lower
module, or moves to a leaf (``maths``, ``results.format``, ``engines.ml.criterion``,
``engines.bayes.conjugate``).  The one allowed upward import: a result *method* may
import postestimation (and ``io``, for ``save``) inside the method, so that
``r.predict()`` works while postestimation builds on results.  Imports inside other
functions are not a licence to go upward: where a lower stage needs a higher one, the
higher stage dispatches instead (``lrtest(bootstrap=n)`` is dispatched by :mod:`.api`
to :mod:`.resampling`, which builds on :mod:`.postestimation.lrtest`).
"""

from importlib import import_module

from . import datasets, tutorials
from .api import Result, fit, lrtest, mixed, stata
from .errors import BayesmixedError
from .postestimation.compare import compare
from .postestimation.dispatch import predict
from .postestimation.estat import estat_ic
from .postestimation.estimates import estimates, estimates_table
from .results.base import ResultKind
from .results.bayes import BayesResult
from .results.glmm import GLMMResult
from .results.mixed import MixedResult

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
    "BayesResult",
    "BayesmixedError",
    "DoFileError",
    "GLMMResult",
    "MixedResult",
    "Result",
    "ResultKind",
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
    "predict",
    "run_do",
    "save",
    "simulate",
    "stata",
]
from .version import __version__ as __version__  # noqa: E402  (a leaf: io stamps saved files)
