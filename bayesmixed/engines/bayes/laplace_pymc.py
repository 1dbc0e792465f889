"""The Laplace mode's objective on the PyMC model: the fallback of :mod:`.laplace`.

Used for the models :func:`.laplace_numpy.covers` leaves out (residual cells, correlated
residual structures, inverse-Wishart or uniform priors).  The mode is found on PyMC's
unconstrained coordinates, with the model's log density and gradient compiled by
PyTensor's C backend (its modules are cached on disk, unlike numba's JIT): the cost the
NumPy path avoids, 44 s on a cold cache for jsp.
"""

from __future__ import annotations

import numpy as np
from pymc.blocking import DictToArrayBijection, RaveledVars

from ..ml.fit import estimate_lmm
from .build import BuiltModel, trace_names
from .covariance import structure_graph


class PyMCObjective:
    """-log posterior, its gradient and the trace variables at a working vector x."""

    def __init__(self, built: BuiltModel, jacobian: bool = False):
        self.built = built
        model = built.model
        self.start = model.initial_point()
        self.info = DictToArrayBijection.map(self.start).point_map_info
        self._logp = model.compile_logp(jacobian=jacobian, mode="FAST_RUN")
        self._dlogp = model.compile_dlogp(jacobian=jacobian, mode="FAST_RUN")
        self.names = names = [n for n in trace_names(built) if not n.startswith("b[")]
        outs = model.replace_rvs_by_values([model[n] for n in names])
        self._values = model.compile_fn(
            outs, inputs=model.value_vars, point_fn=False, on_unused_input="ignore", mode="FAST_RUN"
        )
        self.value_names = [v.name for v in model.value_vars]

    def point(self, x: np.ndarray) -> dict:
        return DictToArrayBijection.rmap(RaveledVars(x, self.info), self.start)

    def f(self, x):
        v = -float(self._logp(self.point(x)))
        return v if np.isfinite(v) else 1e300

    def g(self, x):
        return -np.asarray(self._dlogp(self.point(x)), float)

    def values(self, x) -> dict[str, np.ndarray]:
        pt = self.point(x)
        out = self._values(*[pt[n] for n in self.value_names])
        return dict(zip(self.names, (np.asarray(o, float) for o in out)))

    def initial(self) -> np.ndarray:
        """Start at the exact ML (or REML) fit, mapped through the model's transforms.

        The likelihood surface of a variance component can be flat far from the optimum,
        where a quasi-Newton method stalls; the ML engine gets there in milliseconds.
        """
        built = self.built
        ml = estimate_lmm(built.design, reml=built.integrate_beta)
        covs = dict(zip(built.names, ml.cov_blocks))
        start = dict(self.start)
        model = built.model
        for rv in model.free_RVs:
            natural = _natural_value(rv.name, covs, ml, built)
            if natural is None:
                continue
            value_var = model.rvs_to_values[rv]
            transform = model.rvs_to_transforms.get(rv)
            value = transform.forward(natural, *rv.owner.inputs).eval() if transform else natural
            if np.all(np.isfinite(value)):
                start[value_var.name] = np.asarray(value, float).reshape(
                    start[value_var.name].shape
                )
        return DictToArrayBijection.map(start).data


def _natural_value(name: str, covs: dict, ml, built: BuiltModel):
    """The ML estimate of one free variable on its natural scale (None: leave as is)."""
    floor = 1e-3 * float(np.std(built.design.y))
    if name in ("sigma", "sigma2"):
        sd = max(np.sqrt(ml.sigma2), floor)
        return np.asarray(sd if name == "sigma" else sd**2)
    if name == "beta":
        return np.asarray(ml.beta)
    kind, inner = name.split("[", 1) if "[" in name else ("", "")
    block, _, effect = inner.rstrip("]").split("]")[0].partition(":")
    if block not in covs:
        return None
    cov = covs[block]
    sds = np.maximum(np.sqrt(np.clip(np.diag(cov), 0, None)), floor)
    if kind in ("sd", "var"):
        effects = built.design.blocks[built.names.index(block)].effect_names
        sd = sds[effects.index(effect)] if effect else np.sqrt(np.mean(sds**2))
        return np.asarray(sd if kind == "sd" else sd**2)
    if kind == "corr":
        corr = np.clip(cov / np.outer(sds, sds), -0.95, 0.95)
        np.fill_diagonal(corr, 1.0)
        structure = built.design.blocks[built.names.index(block)].structure
        return structure_graph(structure).corr_value(corr)
    return None
