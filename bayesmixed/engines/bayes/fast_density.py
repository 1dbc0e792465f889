"""The integrated log likelihood of a Gaussian mixed model and its exact gradient, in NumPy.

NUTS needs the log density *and* its gradient thousands of times.  PyMC gets both by
compiling a PyTensor graph to C, which cost a new user a minute or more on a cold compile
cache (the quick-start model: 101 s to the first posterior); here both are a few dozen
stacked NumPy calls, with the per-component loops in two small numba kernels
(:mod:`.fast_kernels`, compiled once in ~2.6 s and cached on disk), so sampling starts
at once (the quick start: 19 s cold, 14 s warm; ``benchmarks/first_posterior.py``).

**Components.**  Random effects that never share a row are independent: the levels of
the design split into connected components (one per school in a two-level model, one per
region in a nested three-level model, one for the whole of a crossed design), and
M = I + Lambda'Z'Z Lambda / sigma2 is block diagonal by component.  Each component's
block is padded to the largest (padding rows of Lambda are zero, so they add nothing)
and all are factored at once.  :func:`fast_cost` bounds the work: designs with one large
component (big crossed factors) stay with the compiled PyMC path.

**Gradient.**  With V = sigma2 I + Z Sigma Z' the derivative of the log likelihood with
beta integrated out under a N(m0, P^-1) prior is dl/dV = G / 2, where

    G = V^-1 r r' V^-1 - V^-1 + V^-1 X H^-1 X' V^-1,   H = X'V^-1 X + P,

r = y - X beta* and beta* the conditional posterior mean (with beta given, the last
term drops and r = y - X beta).  By the envelope theorem beta* needs no derivative.  So
dl/dSigma_b = 1/2 sum over the levels of block b of (Z'GZ)_jj, which needs only
component-sized matrices (Woodbury: Z'V^-1 a = (Z'a - Z'Z K Z'a / sigma2) / sigma2,
K = Lambda M^-1 Lambda'), and dl/dsigma2 = tr(G) / 2 follows from Euler's identity for
the linear map (sigma2, Sigma) -> V:  tr(GV) = sigma2 tr(G) + sum_b <Sigma_b, 2 S_b>,
with tr(GV) = r'V^-1 r - n + tr(H^-1 A).  ``tests/engines/bayes/test_fast_density.py``
checks value and gradient against :class:`.laplace_numpy.NumpyObjective` and finite
differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from scipy.sparse.csgraph import connected_components

from .conjugate import SuffStats
from .fast_kernels import kernels

LOG_2PI = float(np.log(2 * np.pi))
#: the compiled loops (:mod:`.fast_kernels`) win on narrow components (jsp's 48 x 2:
#: ~80 against ~175 us an evaluation) and lose to BLAS on wide ones (productivity's crossed
#: year x region x state, one component 74 wide: 7.4 against 2.4 ms); about even at 29
KERNEL_MAX_WIDTH = 24
MAX_COST = 4e6  # flops of the stacked factorization per evaluation (G q^3); see fast_cost


@dataclass(frozen=True)
class Layout:
    """Where each random effect of the design sits among the padded components."""

    comp: list[np.ndarray]  # per block: (n_groups,) component of each level
    slot: list[np.ndarray]  # per block: (n_groups,) first padded slot of each level
    n_comp: int
    width: int  # padded component size


def _components(st: SuffStats, ks: list[int], sizes: list[int]) -> np.ndarray:
    """Connected components of the effects: linked by Z'Z or by belonging to one level."""
    q = st.q
    rows, cols = np.nonzero(st.ztz)
    owner = np.concatenate(
        [off + np.repeat(np.arange(g) * k, k) for off, g, k in _offsets(ks, sizes)]
    )  # each effect -> the first effect of its level
    rows = np.concatenate([rows, np.arange(q)])
    cols = np.concatenate([cols, owner])
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(q, q))
    _, labels = connected_components(graph, directed=False)
    return labels


def _offsets(ks: list[int], sizes: list[int]):
    off = 0
    for k, g in zip(ks, sizes):
        yield off, g, k
        off += g * k


def layout(st: SuffStats, ks: list[int], sizes: list[int]) -> Layout:
    """Components of the design and each level's slot in its padded component."""
    labels = _components(st, ks, sizes)
    n_comp = int(labels.max()) + 1 if len(labels) else 0
    fill = np.zeros(n_comp, int)
    comp, slot = [], []
    for off, g, k in _offsets(ks, sizes):
        first = labels[off + np.arange(g) * k]
        s = np.empty(g, int)
        for j, c in enumerate(first):  # setup only: a loop over levels
            s[j] = fill[c]
            fill[c] += k
        comp.append(first)
        slot.append(s)
    return Layout(comp, slot, n_comp, int(fill.max()) if n_comp else 0)


def fast_cost(lay: Layout) -> float:
    """Flops of one evaluation's stacked products and factorization."""
    return float(lay.n_comp) * float(lay.width) ** 3


def spd_inverse(h: np.ndarray, upper: tuple) -> tuple[np.ndarray, float]:
    """H^-1 and log|H| of a small SPD matrix by LAPACK's potrf/potri (~3 us each, a
    fraction of ``np.linalg.inv`` plus ``slogdet``'s overhead); ``upper``: the strict
    upper-triangle indices, filled from the lower triangle potri computes."""
    chol, info = lapack.dpotrf(h, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("X'V^-1 X + P is not positive definite")
    inv, info = lapack.dpotri(chol, lower=1)
    inv[upper] = inv[upper[1], upper[0]]
    return inv, 2.0 * float(np.log(np.diagonal(chol)).sum())


class IntegratedGaussian:
    """log p(y | sigma, Sigma_b [, beta]) with the random effects (and beta) integrated out.

    ``prior_mean``/``prior_prec``: beta's normal prior (precision 0 = flat) when beta is
    integrated; ``integrate=False`` takes beta as an argument instead.  Each call costs
    some 25 stacked NumPy operations whatever the number of rows: X and y enter through
    the (p+1)-square cross-products [X y]'[X y] and each component's Z'[X y].
    """

    def __init__(
        self,
        st: SuffStats,
        ks,
        sizes,
        prior_mean,
        prior_prec,
        integrate: bool,
        use_kernels: bool = True,
        lay: Layout | None = None,
    ):
        self.ks, self.n, self.p = list(ks), st.n, st.p
        self.lay = lay = layout(st, self.ks, list(sizes)) if lay is None else lay
        c, w = lay.n_comp, lay.width
        self.ztz = np.zeros((c, w, w))
        self.zxy = np.zeros((c, w, st.p + 1))  # Z'[X y] per component
        self.idx = []  # per block: (component, row slot, col slot, r, c) of each entry
        gidx = self._global_index()
        for cc in range(c):
            sel = np.nonzero(gidx[:, 0] == cc)[0]
            loc = gidx[sel, 1]
            self.ztz[cc][np.ix_(loc, loc)] = st.ztz[np.ix_(sel, sel)]
            self.zxy[cc, loc, : st.p] = st.ztx[sel]
            self.zxy[cc, loc, st.p] = st.zty[sel]
        self.xyxy = np.block([[st.xtx, st.xty[:, None]], [st.xty[None, :], np.array([[st.yty]])]])
        # one block with one level per component (two-level models): the block's gradient
        # is a plain sum over components
        self.simple = len(self.ks) == 1 and lay.n_comp == sizes[0]
        self.integrate = integrate
        pos = np.asarray(prior_prec, float)
        # without integration the prior terms are zeros (the compiled kernel's signature
        # is fixed): beta's prior is then the caller's (fast_posterior)
        self.prec = np.diag(pos) if integrate else np.zeros((st.p, st.p))
        self.mean = np.asarray(prior_mean, float) if integrate else np.zeros(st.p)
        self.prec_mean = self.prec @ self.mean
        self.log_prec = 0.5 * float(np.sum(np.log(pos[pos > 0]))) if integrate else 0.0
        self.eye = np.eye(w)
        self.upper = np.triu_indices(st.p, 1)
        self.no_beta = np.zeros(st.p)
        small = w <= KERNEL_MAX_WIDTH  # wider components: BLAS beats the compiled loops
        self._kernels = use_kernels and small
        self._compiled = None

    @property
    def compiled(self):
        """The compiled loops, or None (wide components, no numba), fetched on first use:
        constructing the density does not wait for them, so a sampler's start fit runs
        while :func:`.fast_compiled.prefetch`'s thread loads them."""
        if self._kernels and self._compiled is None:
            self._compiled = kernels()
            self._kernels = self._compiled is not None
        return self._compiled

    @compiled.setter
    def compiled(self, kernel) -> None:
        """Use ``kernel`` (None: the stacked-NumPy path) whatever the default rule says."""
        self._compiled, self._kernels = kernel, False

    def _global_index(self) -> np.ndarray:
        """(q, 2): each effect's component and padded slot; fills :attr:`idx` for Lambda."""
        out = []
        for k, comp, slot in zip(self.ks, self.lay.comp, self.lay.slot):
            e = np.arange(k)
            out.append(np.stack([np.repeat(comp, k), (slot[:, None] + e).ravel()], axis=1))
            r, cl = (a.ravel() for a in np.indices((k, k)))  # any square root, not only L
            g = len(comp)
            self.idx.append(
                (
                    np.repeat(comp, len(r)),
                    (slot[:, None] + r).ravel(),
                    (slot[:, None] + cl).ravel(),
                    np.tile(r, g),
                    np.tile(cl, g),
                )
            )
        return np.concatenate(out) if out else np.zeros((0, 2), int)

    def padded_lambda(self, lams: list[np.ndarray]) -> np.ndarray:
        if self.simple:
            return np.ascontiguousarray(
                np.broadcast_to(lams[0], (self.lay.n_comp,) + lams[0].shape)
            )
        w = self.lay.width
        big = np.zeros(self.lay.n_comp * w * w)
        for lam, (target, source) in zip(lams, self._flat_idx()):
            big[target] = lam.ravel()[source]
        return big.reshape(self.lay.n_comp, w, w)

    def _flat_idx(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per block: flat positions in the padded (c, w, w) array and in the k x k factor
        (found once; fancy indexing by four arrays cost ~10 us a block per evaluation)."""
        if not hasattr(self, "_flat"):
            w = self.lay.width
            self._flat = [
                ((cc * w + rs) * w + cs, r * k + cl)
                for k, (cc, rs, cs, r, cl) in zip(self.ks, self.idx)
            ]
        return self._flat

    def block_sums(self, zgz: np.ndarray) -> list[np.ndarray]:
        """1/2 sum over each block's levels of the diagonal blocks of Z'GZ."""
        if self.simple:
            return [0.5 * zgz.sum(axis=0)]
        flat = zgz.ravel()
        return [
            0.5 * flat[target].reshape(-1, k, k).sum(axis=0)
            for k, (target, _) in zip(self.ks, self._flat_idx())
        ]

    def factor_numpy(self, lam: np.ndarray, s2: float, ztz: np.ndarray, zxy: np.ndarray):
        """log|M|, [X y]'Z K Z'[X y] and K by stacked NumPy calls (no numba).  The
        cross-products are arguments: :mod:`.fast_residual` combines its own per call, and
        chains may call one density from several threads."""
        p1 = self.p + 1
        lt = np.swapaxes(lam, 1, 2)
        m = self.eye + (lt @ ztz @ lam) / s2
        chol = np.linalg.cholesky(m)
        logdet_m = 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        ys = np.linalg.solve(chol, lt)  # Y = R^-1 Lambda', K = Lambda M^-1 Lambda' = Y'Y
        yz = (ys @ zxy).reshape(-1, p1)
        return logdet_m, yz.T @ yz, np.swapaxes(ys, 1, 2) @ ys

    def _evaluate(self, lam: np.ndarray, s2: float, beta):
        """(l without the constants, tr(GV) + n, Z'GZ per component, dl/dbeta)."""
        if self.compiled is not None:
            b = self.no_beta if beta is None else np.asarray(beta, float)
            out = self.compiled(
                lam, self.ztz, self.zxy, self.xyxy, s2, self.prec, self.prec_mean, self.mean,
                self.integrate, b,
            )  # fmt: skip
            if not np.isfinite(out[0]):
                raise np.linalg.LinAlgError("a factor of the marginal likelihood is not PD")
            return out
        p = self.p
        logdet_m, zkz, kmat = self.factor_numpy(lam, s2, self.ztz, self.zxy)
        if not np.isfinite(logdet_m):
            raise np.linalg.LinAlgError("I + Lambda'Z'Z Lambda / sigma2 is not positive definite")
        q = (self.xyxy - zkz / s2) / s2  # [X y]'V^-1[X y]
        b, hinv, extra, rvr, d_beta = self.fixed_part(q, beta)
        tr_extra = 0.0 if hinv is None else float((hinv * q[:p, :p]).sum())
        zgz = self.zgz_numpy(kmat, s2, b, hinv, self.ztz, self.zxy)
        return -0.5 * (logdet_m + rvr + extra), rvr + tr_extra, zgz, d_beta

    def fixed_part(self, q: np.ndarray, beta):
        """beta* (or the given beta), H^-1 (None given beta), log|H| + d'Pd, r'V^-1 r and
        dl/dbeta from q = [X y]'V^-1[X y] (shared with :mod:`.fast_residual`)."""
        p = self.p
        a, cvec, yvy = q[:p, :p], q[:p, p], q[p, p]
        if self.integrate:
            hinv, logdet_h = spd_inverse(a + self.prec, self.upper)
            b = hinv @ (cvec + self.prec_mean)
            d = b - self.mean
            extra = logdet_h + d @ self.prec @ d
        else:
            b, hinv, extra = np.asarray(beta, float), None, 0.0
        return b, hinv, extra, yvy - 2 * b @ cvec + b @ a @ b, cvec - a @ b

    def zgz_numpy(self, kmat, s2: float, b, hinv, ztz, zxy) -> np.ndarray:
        """Z'GZ per component by stacked NumPy calls; B = (I - Z'Z K / s2) / s2."""
        p = self.p
        bmat = (self.eye - ztz @ kmat / s2) / s2
        bzxy = bmat @ zxy  # [W | B Z'y]
        u = bzxy[:, :, p] - bzxy[:, :, :p] @ b  # Z'V^-1 r
        zgz = u[:, :, None] * u[:, None, :] - bmat @ ztz
        if self.integrate:
            wmat = bzxy[:, :, :p]
            zgz = zgz + (wmat @ hinv) @ np.swapaxes(wmat, 1, 2)
        return zgz

    def __call__(self, sigma: float, lams: list[np.ndarray], beta=None):
        """Log likelihood and its gradient: (l, dl/dsigma, [dl/dSigma_b], dl/dbeta or None).

        ``lams``: each block's square root of its (absolute) covariance Sigma_b.
        """
        s2 = sigma * sigma
        loglik, tr_gv, zgz, d_beta = self._evaluate(self.padded_lambda(lams), s2, beta)
        loglik += self.log_prec - 0.5 * self.n * (LOG_2PI + np.log(s2))
        tr_gv -= self.n
        grads = self.block_sums(zgz)
        inner = sum(float((lm @ lm.T * g).sum()) for lm, g in zip(lams, grads))
        d_s2 = 0.5 * (tr_gv - 2.0 * inner) / s2
        d_beta = None if self.integrate else d_beta
        return float(loglik), 2.0 * sigma * d_s2, grads, d_beta
