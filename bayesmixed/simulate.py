"""Simulate new responses from a fitted linear mixed model.

A parametric bootstrap, a power analysis and a check of an estimator all
start the same way: draw y* = X beta + sum_j Z_j b_j + e with b_j ~ N(0, Sigma_j)
independently per group and e ~ N(0, sigma2 I), holding the design (X, the
group codes and the small per-block Z) fixed.  The n x q matrix Z is never
formed: each block adds ``sum_k Z[:, k] * b[codes, k]``.

:class:`SimulationModel` holds only what a draw needs (the mean X beta, the
compact blocks and a square root of each covariance), so it is cheap to send
to Dask workers and each worker draws its own responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import NotSupportedError, SpecificationError
from .results.mixed import MixedResult
from .validate import optional_whole_number, seed_or_generator


@dataclass
class SimulationModel:
    """The generative model of one fitted design, ready to draw responses.

    Attributes
    ----------
    mean : (n,) fixed part X beta.
    codes : group code of each observation, per block.
    z : (n, k) effect values, per block.
    roots : (k, k) matrices R with R R' = Sigma, per block.
    sigma : residual standard deviation.
    """

    mean: np.ndarray
    codes: list[np.ndarray]
    z: list[np.ndarray]
    n_groups: list[int]
    roots: list[np.ndarray]
    sigma: float

    @classmethod
    def from_result(
        cls,
        result: MixedResult,
        *,
        beta: Mapping[str, float] | np.ndarray | None = None,
        re_cov: list[np.ndarray] | None = None,
        sigma2: float | None = None,
    ) -> SimulationModel:
        """The model at the estimates of ``result``, optionally with other parameters.

        Parameters
        ----------
        beta : new fixed effects, all of them as an array in ``coef`` order or
            some of them by name (the others keep their estimates).  Power
            analysis sets the effect of interest here.
        re_cov : covariance matrix of each block's effects, in the order of
            ``result.cov_blocks``.
        sigma2 : residual variance.
        """
        _check_simulable(result)
        design = result.design
        b = _beta(result, beta)
        covs = result.cov_blocks if re_cov is None else _covs(result, re_cov)
        s2 = result.sigma2 if sigma2 is None else float(sigma2)
        if not np.isfinite(s2) or s2 <= 0:
            raise SpecificationError(f"sigma2 must be a positive number, got {sigma2}")
        return cls(
            mean=design.X @ b,
            codes=[blk.codes for blk in design.blocks],
            z=[blk.Z for blk in design.blocks],
            n_groups=[blk.n_groups for blk in design.blocks],
            roots=[_root(np.asarray(c, float)) for c in covs],
            sigma=float(np.sqrt(s2)),
        )

    @property
    def n(self) -> int:
        return len(self.mean)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One simulated response vector (n,)."""
        y = self.mean + self.sigma * rng.standard_normal(self.n)
        for codes, z, g, root in zip(self.codes, self.z, self.n_groups, self.roots):
            effects = rng.standard_normal((g, root.shape[0])) @ root.T  # (g, k)
            y += np.einsum("nk,nk->n", z, effects[codes])
        return y


def simulate(
    result: MixedResult,
    size: int | None = None,
    seed: int | np.random.Generator | None = None,
    **params,
) -> np.ndarray:
    """Draw new responses for the estimation sample of ``result``.

    Parameters
    ----------
    result : a fitted linear mixed model (``bayesmixed.mixed`` / ``fit``).
    size : number of response vectors; ``None`` returns one vector (n,),
        an integer an array (size, n).  Rows follow ``result.design.rows``.
    seed : seed or generator, for reproducible draws.
    **params : ``beta``, ``re_cov`` or ``sigma2`` to simulate from other
        parameter values (see :meth:`SimulationModel.from_result`).
    """
    count = optional_whole_number(size, "size")
    model = SimulationModel.from_result(result, **params)
    rng = np.random.default_rng(seed_or_generator(seed))
    if count is None:
        return model.draw(rng)
    return np.stack([model.draw(rng) for _ in range(count)])


def _check_simulable(result: object) -> None:
    if not isinstance(result, MixedResult):
        raise NotSupportedError(
            f"simulation needs a linear mixed model fitted by ML/REML (got "
            f"{type(result).__name__}); GLMMs and Bayesian fits are not supported yet"
        )
    if result.design.weights is not None:
        raise NotSupportedError(
            "simulation from a weighted fit is not supported: a weighted row or group stands "
            "for several observations, each of which would need its own draw; simulate "
            "from the fit of the expanded data instead"
        )
    if result.design.residual is not None or result.residual_params is not None:
        raise NotSupportedError(
            "simulation from models with a residuals() structure is not supported yet; "
            "only independent, homoskedastic errors"
        )


def _beta(result: MixedResult, beta) -> np.ndarray:
    names = list(result.design.fixed_names)
    out = np.asarray(result.beta, float).copy()
    if beta is None:
        return out
    if isinstance(beta, Mapping):
        unknown = [k for k in beta if k not in names]
        if unknown:
            raise SpecificationError(
                f"unknown fixed effect(s) {', '.join(map(str, unknown))}; "
                f"the model has {', '.join(names)}"
            )
        for key, value in beta.items():
            out[names.index(key)] = float(value)
        return out
    arr = np.asarray(beta, float)
    if arr.shape != out.shape:
        raise SpecificationError(
            f"beta must have {len(names)} values ({', '.join(names)}), got shape {arr.shape}"
        )
    return arr


def _covs(result: MixedResult, re_cov) -> list[np.ndarray]:
    blocks = result.design.blocks
    if len(re_cov) != len(blocks):
        raise SpecificationError(
            f"re_cov needs one covariance matrix per random-effects equation ({len(blocks)}), "
            f"got {len(re_cov)}"
        )
    out = []
    for blk, cov in zip(blocks, re_cov):
        c = np.atleast_2d(np.asarray(cov, float))
        if c.shape != (blk.k, blk.k):
            raise SpecificationError(
                f"re_cov for {blk.key} must be {blk.k} x {blk.k} "
                f"({', '.join(blk.effect_names)}), got {c.shape}"
            )
        out.append(c)
    return out


def _root(cov: np.ndarray) -> np.ndarray:
    """A square root R R' = cov that also works for singular (boundary) estimates."""
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(cov).max())):
        raise SpecificationError("a random-effects covariance matrix is not symmetric")
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    if w.min() < -1e-8 * max(1.0, w.max()):
        raise SpecificationError(
            "a random-effects covariance matrix is not positive semi-definite "
            f"(smallest eigenvalue {w.min():.3g})"
        )
    return v * np.sqrt(np.clip(w, 0.0, None))
