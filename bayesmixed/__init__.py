"""bayesmixed: multilevel and mixed models from Stata syntax, fitted by ML/REML and Bayes.

>>> import bayesmixed as bm
>>> df = bm.datasets.load("jsp2")
>>> r = bm.mixed("math5 math3 || school: math3, cov(unstructured)", data=df)
>>> print(r)                      # Stata's layout
>>> r.coef, r.loglik, r.re_cov    # the numbers, as data
"""

from . import datasets
from .api import fit, mixed, stata
from .errors import BayesmixedError
from .postestimation.estat import estat_ic
from .postestimation.lrtest import lrtest

__all__ = ["BayesmixedError", "datasets", "estat_ic", "fit", "lrtest", "mixed", "stata"]
__version__ = "0.1.0"
