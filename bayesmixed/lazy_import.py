"""Modules imported at their first use rather than with :mod:`bayesmixed`.

A leaf module: it imports nothing from :mod:`bayesmixed`, so any stage may use it.  Why:
``scipy.stats`` alone was ~0.5 s of a 1.2-1.9 s ``import bayesmixed`` (measured with
``-X importtime``), for a handful of distribution functions (p-values, critical values)
needed only once a result is printed or tested; a Bayesian fit's ``arviz_stats`` imports
it anyway, in the sampler's shadow.  PyMC and PyTensor are deferred the same way by
:mod:`bayesmixed.engines.bayes.lazy`.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands in for ``import <name>``: the module is imported at the first attribute read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        # only reached for names not set on the proxy itself (a test's monkeypatch sets one)
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


stats = LazyModule("scipy.stats")  # ``from scipy import stats``, on first use
