"""The marginal covariance V = sum_m phi_m V_m + sigma2 I of a fitted LMM, by components.

Satterthwaite and Kenward-Roger degrees of freedom need V^-1, the derivative
matrices V_m = dV/dphi_m and traces of their products.  pbkrtest forms them as
n x n matrices; here the observations are split into the connected components of
the grouping structure (the top-level groups of a nested model: schools, litters),
where V is block diagonal, so every product costs sum_c n_c^3 instead of n^3.  A
crossed design is one component and costs a dense n x n factorisation; beyond
``MAX_COMPONENT`` observations in one component the computation is refused.

The covariance parameters phi are *linear*: for each block the span of the
covariance matrices its structure can produce (diagonal matrices for
``independent``, I and 11' - I for ``exchangeable``, every symmetric matrix for
``unstructured``), found numerically from the structure object itself so no
structure is special-cased here.  Both methods are invariant to linear
reparametrisation, and with a linear V the second derivatives that
Kenward-Roger's adjustment would otherwise need vanish -- the choice pbkrtest makes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import NotSupportedError

MAX_COMPONENT = 6000


@dataclass
class Component:
    """One block of V: its rows, X, residual r = y - X beta and V^-1 pieces."""

    rows: np.ndarray
    x: np.ndarray
    v_inv: np.ndarray
    derivs: list[np.ndarray]  # V_m restricted to the component (last: identity)


@dataclass
class MarginalCov:
    """V at the estimates, split into components, with its parameters phi."""

    components: list[Component]
    phi: np.ndarray
    names: list[str]
    resid: np.ndarray

    @property
    def n_par(self) -> int:
        return len(self.phi)


def cov_basis(structure, k: int) -> list[np.ndarray]:
    """Orthonormal (Frobenius) basis of the covariance matrices a structure spans.

    Evaluated on a fixed set of random working vectors, so the result is
    deterministic; the rank cut is relative to the largest singular value.
    """
    rng = np.random.default_rng(20261202)
    m = structure.n_theta
    samples = [
        structure.cov_from_working(rng.normal(scale=0.5, size=m)).ravel()
        for _ in range(3 * k * k + 3)
    ]
    _, s, vt = np.linalg.svd(np.array(samples), full_matrices=False)
    rank = int(np.sum(s > 1e-9 * s[0]))
    basis = []
    for row in vt[:rank]:
        e = row.reshape(k, k)
        basis.append((e + e.T) / 2)
    return basis


def marginal_cov(result) -> MarginalCov:
    """Build V (by components) at a fitted LMM's estimates."""
    design = result.design
    if design.residual is not None or result.residual_params is not None:
        raise NotSupportedError(
            "dfmethod(satterthwaite) and dfmethod(kroger) are not available for models "
            "with a residuals() structure yet"
        )
    n = design.n
    blocks = design.blocks
    labels = _component_labels(n, [b.codes for b in blocks], [b.n_groups for b in blocks])
    bases, phi, names = [], [], []
    for b, cov in zip(blocks, result.cov_blocks):
        basis = cov_basis(b.structure, b.k)
        bases.append(basis)
        for j, e in enumerate(basis):
            phi.append(float(np.sum(e * cov)))
            names.append(f"{b.level}:{j}")
    phi.append(float(result.sigma2))
    names.append("sigma2")
    phi = np.array(phi)
    resid = design.y - design.X @ result.beta
    comps = [
        _component(result, np.flatnonzero(labels == c), bases, phi) for c in range(labels.max() + 1)
    ]
    return MarginalCov(comps, phi, names, resid)


def _component_labels(n: int, codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Connected components of the observation-group graph (one label per row)."""
    if not codes:
        return np.arange(n)
    offsets = n + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.concatenate([np.arange(n)] * len(codes))
    cols = np.concatenate([off + c for off, c in zip(offsets, codes)])
    total = n + int(sum(sizes))
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(total, total))
    _, lab = connected_components(graph, directed=False)
    _, obs = np.unique(lab[:n], return_inverse=True)
    return obs


def _component(result, rows: np.ndarray, bases, phi: np.ndarray) -> Component:
    if len(rows) > MAX_COMPONENT:
        raise NotSupportedError(
            f"small-sample degrees of freedom need a dense {len(rows)} x {len(rows)} "
            f"covariance (crossed or very large groups); the limit is {MAX_COMPONENT}"
        )
    design = result.design
    derivs = []
    for b, basis in zip(design.blocks, bases):
        z = b.Z[rows]
        same = b.codes[rows][:, None] == b.codes[rows][None, :]
        for e in basis:
            derivs.append((z @ e @ z.T) * same)
    derivs.append(np.eye(len(rows)))
    v = sum(p * d for p, d in zip(phi, derivs))
    chol = sla.cho_factor(v, lower=True)
    v_inv = sla.cho_solve(chol, np.eye(len(rows)))
    return Component(rows, design.X[rows], v_inv, derivs)
