"""Display settings of a spec, attached to the result an engine returned.

Engines compute estimates and never read how the user wants them printed; the
API hands the spec's :class:`~bayesmixed.spec.options.DisplayOptions` to
:func:`attach_display`, which writes them into the attributes the renderers
and accessors have always read (``level``, ``display``, ``show_base``,
``eform``).  One function per result class, in a table keyed by class, says
which settings that kind of result shows.
"""

from __future__ import annotations

from collections.abc import Callable

from ..spec.options import DisplayOptions
from .glmm import GLMMResult
from .mixed import MixedResult


def _mixed(result: MixedResult, display: DisplayOptions) -> None:
    result.level = display.level
    result.display = display.component_scale
    result.show_base = display.base
    result.dfmethod = display.dfmethod


def _glmm(result: GLMMResult, display: DisplayOptions) -> None:
    result.level = display.level
    result.eform = display.eform


#: result class -> how its display attributes are set.  A Bayesian result is
#: absent on purpose: it prints Stata's ``bayes:`` default, the 95% equal-tailed
#: credible interval, whatever ``level()`` the model command carried.
_ATTACH: dict[type, Callable[[object, DisplayOptions], None]] = {
    MixedResult: _mixed,
    GLMMResult: _glmm,
}


def attach_display(result: object, display: DisplayOptions) -> object:
    """Set ``result``'s display attributes from ``display``; return ``result``."""
    attach = _ATTACH.get(type(result))
    if attach is not None:
        attach(result, display)
    return result
