"""The profiled deviance of a linear mixed model, by a blocked Cholesky.

With b = Lambda(theta) u, u ~ N(0, sigma2 I), the penalized least-squares
system for (u, beta) has matrix Omega = [Z Lambda, X, y]'[Z Lambda, X, y] + diag(I, 0, 0).
Its lower Cholesky factor L gives everything (Bates et al. 2015, lme4's
``lmer`` vignette): log|L_Z|^2, the penalized residual sum of squares r^2
(the last diagonal element squared) and, for REML, log|L_X|^2.  The fixed
effects and sigma2 are profiled out, so the optimizer sees theta only.

Layout: the first block (largest) has a block-diagonal Omega_11 factored as a
batch; everything else ("rest": other random-effect blocks, X, y) is a small
dense Schur complement.  Cost per evaluation is independent of n.  When the
random effects split into many small independent components (nested factors)
the rest is not small; :mod:`.components` factors each component instead, and
:func:`.criterion.make_deviance` chooses between the two by a measured time model.

The cross-products hold a reparametrised X and y (:mod:`.crossprod`); the
:class:`Factor` maps beta, its covariance and log|X'V^-1 X| back to the user's
columns, so nothing outside this module sees the internal coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from ...design.standardize import FixedScaling
from ...spec.covariance import CovStructure
from .assembly import ScaledAssembly
from .crossprod import CrossProducts
from .gram import SparseGram, StreamingGram

LOG_2PI = float(np.log(2 * np.pi))
PARALLEL_REST = 400  # dense rest effects from which evaluations run two at a time


@dataclass
class FactorBase:
    """What every factorization of Omega shares: the trailing dense factor and log|L_Z|^2.

    ``l_rest`` ends with the (p+1) x (p+1) factor of [X y]'s Schur complement, from
    which beta, r2 and log|L_XX|^2 are read; its first ``q_r`` rows belong to random
    effects only in the blocked layout (:class:`Factor`), the component layout
    (:mod:`.components`) has q_r = 0.
    """

    lam: list[np.ndarray]
    l_rest: np.ndarray  # dense lower factor of the rest (q_r + p + 1)
    logdet_re: float
    q_r: int
    p: int
    fixed: FixedScaling
    beta_shift: np.ndarray  # b0 of the cross-products: internal beta = beta~ + b0

    @property
    def r2(self) -> float:
        return float(self.l_rest[-1, -1] ** 2)

    @property
    def l_xx(self) -> np.ndarray:
        q, p = self.q_r, self.p
        return self.l_rest[q : q + p, q : q + p]

    @property
    def logdet_x(self) -> float:
        """log|X'V^-1 X / sigma2| for the user's X (the factor holds X~ = X M)."""
        return float(2 * np.sum(np.log(np.diag(self.l_xx)))) + self.fixed.reml_shift

    def beta_internal(self) -> np.ndarray:
        """Solve L_XX' beta~ = L_yX' (back substitution): coefficients of the shifted y on X~."""
        q, p = self.q_r, self.p
        l_yx = self.l_rest[-1, q : q + p]
        return np.linalg.solve(self.l_xx.T, l_yx)

    def beta(self) -> np.ndarray:
        """The fixed effects on the user's columns, M (beta~ + b0)."""
        return self.fixed.to_user(self.beta_internal() + self.beta_shift)

    def to_internal(self, beta: np.ndarray) -> np.ndarray:
        """User coefficients -> the coordinates of this factor (inverse of :meth:`beta`)."""
        return self.fixed.to_internal(beta) - self.beta_shift

    def vcov_beta(self, sigma2: float) -> np.ndarray:
        """Covariance of beta-hat, sigma2 M (L_XX L_XX')^-1 M', on the user's columns."""
        l_inv = np.linalg.inv(self.l_xx)
        return self.fixed.vcov_to_user(sigma2 * (l_inv.T @ l_inv))


def schur_fields(cp: CrossProducts, lams: list[np.ndarray], schur: np.ndarray, logdet: float):
    """The :class:`FactorBase` fields of a factorization with no random effects left in
    ``l_rest`` (q_r = 0): the component and level-by-level layouts, whose random effects
    are all eliminated before [X y]'s Schur complement ``schur`` is factored."""
    return dict(
        lam=lams,
        l_rest=np.linalg.cholesky(schur),
        logdet_re=logdet,
        q_r=0,
        p=cp.p,
        fixed=cp.fixed,
        beta_shift=cp.beta_shift,
    )


@dataclass
class Factor(FactorBase):
    """The pieces of L at one theta in the blocked layout (enough for beta, BLUPs, deviance)."""

    l1: np.ndarray  # (l1, k1, k1) lower factors of the first block
    t1: np.ndarray  # (l1, k1, k1) lambda1 @ L1^-T per group
    w_r1: np.ndarray | sp.csr_matrix | None  # L_{rest,1} (q_r, q1); None if not formed
    w_xy1: np.ndarray  # L_{xy,1} (p+1, q1)


class ProfiledCriterion:
    """theta -> deviance (ML) or REML criterion, for one design, given a ``factor``.

    Parameters
    ----------
    cp : the cross-products in evaluation order.
    structures : covariance structure of each block, in evaluation order.
    reml : profile the restricted likelihood instead of the likelihood.

    Subclasses provide ``factor(theta) -> FactorBase``: the blocked layout here
    (:class:`ProfiledDeviance`), one factor per independent component of the
    random-effects graph in :mod:`.components`.
    """

    def __init__(self, cp: CrossProducts, structures: list[CovStructure], reml: bool) -> None:
        self.cp = cp
        self.structures = structures
        self.reml = reml
        self.sizes = [s.n_theta for s in structures]
        self.splits = np.cumsum(self.sizes)[:-1]
        self.evaluations = 0
        self.tree = None  # a nesting of the levels: the criterion alone by tree.tree_factor
        self._tree_data: tuple | None = None

    #: threads for independent evaluations (:mod:`.batch`); layouts opt in where it pays
    workers = 1

    @property
    def n_theta(self) -> int:
        return int(sum(self.sizes))

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        return np.split(np.asarray(theta, float), self.splits)

    def lambdas(self, theta: np.ndarray) -> list[np.ndarray]:
        parts = self.split(theta)
        return [s.lam(t) for s, t in zip(self.structures, parts)]

    def factor(self, theta: np.ndarray) -> FactorBase:  # pragma: no cover - abstract
        raise NotImplementedError

    def criterion_factor(self, theta: np.ndarray) -> FactorBase:
        """A factor good for the criterion (log determinants, r2, beta), the fastest one.

        Nested designs eliminate level by level (:mod:`.tree`); the layout's own
        :meth:`factor` is kept for the BLUPs and conditional variances at the optimum.
        """
        if self.tree is None or self.cp.copies is not None:
            return self.factor(theta)
        from .tree import gather_tree, tree_factor

        if self._tree_data is None or self._tree_data[0] is not self.cp:
            self._tree_data = (self.cp, gather_tree(self.tree, self.cp))
        return tree_factor(self.tree, self._tree_data[1], self.cp, self.lambdas(theta))

    # -- criteria -----------------------------------------------------------
    def __call__(self, theta: np.ndarray) -> float:
        self.evaluations += 1
        try:
            f = self.criterion_factor(theta)
        except np.linalg.LinAlgError:
            return np.inf
        return self.criterion(f)

    def criterion(self, f: FactorBase) -> float:
        n, p = self.cp.n, self.cp.p
        if self.reml:
            dof = n - p
            return f.logdet_re + f.logdet_x + dof * (1 + LOG_2PI + np.log(f.r2 / dof))
        return f.logdet_re + n * (1 + LOG_2PI + np.log(f.r2 / n))

    def sigma2(self, f: FactorBase) -> float:
        return f.r2 / (self.cp.n - self.cp.p if self.reml else self.cp.n)

    @property
    def dof(self) -> int:
        """Observations less, for REML, the fixed effects: sigma2's divisor."""
        return self.cp.n - (self.cp.p if self.reml else 0)

    def loglik_parts(self, theta: np.ndarray) -> tuple[float, float]:
        """The parts of the beta-profiled log likelihood that depend on theta.

        At theta and a given sigma2 the log (restricted) likelihood is
        -(dof (log 2 pi + log sigma2) + logdet + r2 / sigma2) / 2, so its derivatives
        in log sigma are closed-form given these two numbers: the observed
        information (:func:`.inference.working_covariance`) differences only theta.
        """
        f = self.criterion_factor(theta)
        return f.logdet_re + (f.logdet_x if self.reml else 0.0), f.r2


class ProfiledDeviance(ProfiledCriterion):
    """The blocked layout: first block as a batch of per-group factors, the rest dense."""

    def __init__(self, cp: CrossProducts, structures: list[CovStructure], reml: bool) -> None:
        super().__init__(cp, structures, reml)
        self._rest_index = self._rest_lambda_index()
        self._scalar_rest = all(k == 1 for _, k, _ in self._rest_index[2])
        self._maps_cp: CrossProducts | None = None
        self._maps()

    @property
    def workers(self) -> int:
        """Two threads for independent evaluations when each factors a large dense rest.

        From :data:`PARALLEL_REST` effects on, the dense Cholesky (over 1 ms) and the sparse
        products dominate an evaluation and release the GIL (:mod:`.batch`); below, thread
        hand-offs would cost what they save.  Reads only caches keyed on ``cp``.
        """
        return 2 if self.cp.q_rest >= PARALLEL_REST else 1

    def _maps(self) -> tuple[SparseGram | StreamingGram | None, ScaledAssembly | None]:
        """The Gram map of A_r1 (or, for scalar rest blocks, its :class:`ScaledAssembly`).

        Built for the current ``cp`` and again when it is replaced: structured residuals
        whiten the design, which changes A_r1 (a map of the old one would be wrong).
        """
        cp = self.cp
        if self._maps_cp is cp:
            return self._gram, self._assembly
        gram, assembly = None, None
        if sp.issparse(cp.a_r1) and cp.q_rest > 0:  # one block: nothing to map
            if self._scalar_rest:
                blocks = [np.full(k * g, b) for b, (_, k, g) in enumerate(self._rest_index[2])]
                width = cp.q_rest + cp.p + 1
                assembly = ScaledAssembly.build(
                    cp.a_r1, cp.k[0], cp.a_rr, np.concatenate(blocks), width
                )
            else:
                gram = SparseGram.build(cp.a_r1, cp.k[0])
            if gram is None and assembly is None:  # too large to precompute: stream, compiled
                gram = StreamingGram.build(cp.a_r1, cp.k[0])
        self._gram, self._assembly, self._maps_cp = gram, assembly, cp
        return gram, assembly

    # -- the factorization ---------------------------------------------------
    def factor(self, theta: np.ndarray) -> Factor:
        cp = self.cp
        lam = self.lambdas(theta)
        l1, t1 = self._first_block(lam[0])
        w_xy1 = np.einsum("mga,gab->mgb", cp.a_xy1, t1).reshape(cp.p + 1, -1)
        w_r1 = None  # with the Gram map never formed: it gives L_r1 L_r1' directly
        gram, assembly = self._maps()
        if assembly is not None:
            l_rest = self._assembled_factor(assembly, lam[1:], t1, w_xy1)
        elif gram is not None and self._scalar_rest:
            l_rest = self._scalar_rest_factor(lam[1:], t1, w_xy1)
        elif gram is not None:
            ww, wx = self._gram_products(lam[1:], t1)
            l_rest = self._rest_factor(lam[1:], ww, wx, w_xy1)
        else:
            w_r1 = self._rest_first(lam[1:], t1)
            ww, wx = self._w_products(w_r1, w_xy1)
            l_rest = self._rest_factor(lam[1:], ww, wx, w_xy1)
        q_r = cp.q_rest
        logs = np.concatenate([np.log(np.diagonal(l1, axis1=1, axis2=2)).ravel(),
                               np.log(np.diag(l_rest)[:q_r])])  # fmt: skip
        # with fweight() each pivot counts once per copy of its group (crossprod docstring)
        logdet = 2 * (np.sum(logs) if cp.copies is None else logs @ cp.copies)
        return Factor(
            lam=lam,
            l_rest=l_rest,
            logdet_re=float(logdet),
            q_r=q_r,
            p=cp.p,
            fixed=cp.fixed,
            beta_shift=cp.beta_shift,
            l1=l1,
            t1=t1,
            w_r1=w_r1,
            w_xy1=w_xy1,
        )

    def _rest_first(self, lams: list[np.ndarray], t1: np.ndarray):
        """L_{rest,1} = Lambda_r' A_r1 blockdiag(T): dense when small, else sparse."""
        cp = self.cp
        if not cp.q_rest:
            return np.zeros((0, t1.shape[0] * t1.shape[1]))
        if sp.issparse(cp.a_r1):
            return (self._rest_lambda(lams).T @ (cp.a_r1 @ _block_diag(t1))).tocsr()
        g, k, _ = t1.shape
        right = np.einsum("rga,gab->rgb", cp.a_r1.reshape(cp.q_rest, g, k), t1)
        return self._lam_t(lams, right.reshape(cp.q_rest, g * k))

    def _lam_t(self, lams: list[np.ndarray], mat: np.ndarray) -> np.ndarray:
        """Lambda_r' @ mat for a dense ``mat`` whose rows are the rest effects."""
        out = np.empty_like(mat)
        for lam, (off, k, g) in zip(lams, self._rest_index[2]):
            rows = slice(off, off + k * g)
            if k == 1:  # a scalar: one multiply instead of a batched einsum (crossed designs)
                np.multiply(mat[rows], lam[0, 0], out=out[rows])
                continue
            blk = mat[rows].reshape(g, k, -1)
            out[rows] = np.einsum("ba,gbc->gac", lam, blk).reshape(k * g, -1)
        return out

    def _first_block(self, lam1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Batched Cholesky of lambda' A_g lambda + I and T_g = lambda L_g^-T."""
        a = self.cp.a11
        k = a.shape[1]
        m = lam1.T @ a @ lam1 + np.eye(k)  # batched matmul: ~10x faster than a 3-way einsum
        if k == 1:
            l1 = np.sqrt(m)
            return l1, lam1[None, :, :] / l1
        l1 = np.linalg.cholesky(m)
        # T_g' = L_g^-1 lambda'  =>  T_g = (L_g^-1 lambda')'
        t1 = np.linalg.solve(l1, np.broadcast_to(lam1.T, m.shape)).transpose(0, 2, 1)
        return l1, t1

    def _rest_lambda_index(self) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
        """Sparsity pattern of the block-diagonal Lambda of the rest blocks."""
        rows, cols, meta = [], [], []
        for off, k, g in zip(self.cp.offsets, self.cp.k[1:], self.cp.n_groups[1:]):
            base = off + np.arange(g)[:, None, None] * k
            rows.append(np.broadcast_to(base + np.arange(k)[None, :, None], (g, k, k)).ravel())
            cols.append(np.broadcast_to(base + np.arange(k)[None, None, :], (g, k, k)).ravel())
            meta.append((off, k, g))
        if not rows:
            return np.zeros(0, int), np.zeros(0, int), meta
        return np.concatenate(rows), np.concatenate(cols), meta

    def _rest_lambda(self, lams: list[np.ndarray]) -> sp.csr_matrix:
        rows, cols, meta = self._rest_index
        q = self.cp.q_rest
        if not q:
            return sp.csr_matrix((0, 0))
        vals = np.concatenate(
            [np.broadcast_to(lam, (g, k, k)).ravel() for lam, (_, k, g) in zip(lams, meta)]
        )
        return sp.csr_matrix((vals, (rows, cols)), shape=(q, q))

    def _w_products(self, w_r1, w_xy1) -> tuple[np.ndarray, np.ndarray]:
        """L_r1 L_r1' and L_r1 L_xy1' from an explicit L_r1."""
        if not self.cp.q_rest:
            return np.zeros((0, 0)), np.zeros((0, self.cp.p + 1))
        ww = w_r1 @ w_r1.T
        ww = ww.toarray() if sp.issparse(ww) else ww
        return ww, np.asarray(w_r1 @ w_xy1.T)

    def _gram_products(self, lams, t1) -> tuple[np.ndarray, np.ndarray]:
        """The same products through G_g = T_g T_g' and the precomputed Gram map."""
        g = np.einsum("gab,gcb->gac", t1, t1)
        ww = self._lam_t(lams, self._lam_t(lams, self._gram(g)).T)
        b = np.einsum("mga,gab->mgb", self.cp.a_xy1, g).reshape(self.cp.p + 1, -1)
        wx = self._lam_t(lams, np.asarray(self.cp.a_r1 @ b.T))
        return ww, wx

    def _scalar_rest_factor(self, lams, t1, w_xy1) -> np.ndarray:
        """:meth:`_rest_factor` through the streamed Gram map when every rest block is scalar
        (a precomputed map goes to :meth:`_assembled_factor` instead).

        Lambda_r is then a diagonal d, so Lambda_r'(A_rr - A_r1 G A_r1')Lambda_r + I is
        formed in the factor's own buffer: one copy of A_rr, the Gram map subtracted at
        its nonzeros, two in-place scalings, where the general path makes some ten
        passes over new q_r x q_r arrays (InstEval's 1,158: an evaluation 47-59 ms instead of
        55-69, same runs).
        """
        cp = self.cp
        q = cp.q_rest
        g = np.einsum("gab,gcb->gac", t1, t1)
        d, xr = self._scalar_border(lams, g)
        m = np.empty((q + cp.p + 1, q + cp.p + 1))
        top = m[:q, :q]
        np.copyto(top, self._dense_rr())
        self._gram.subtract_lower_from(m, g)  # dpotrf(lower) reads no more
        top *= d[:, None]
        top *= d[None, :]
        top[np.diag_indices(q)] += 1.0
        m[:q, q:] = xr
        m[q:, :q] = xr.T
        m[q:, q:] = cp.a_xyxy - w_xy1 @ w_xy1.T
        return _cholesky(m)

    def _assembled_factor(self, assembly: ScaledAssembly, lams, t1, w_xy1) -> np.ndarray:
        """:meth:`_scalar_rest_factor` with the top block from one product (:mod:`.assembly`).

        The buffer is filled on and below the diagonal only, so its transpose goes to
        LAPACK as an upper, column-major matrix: no conversion copy and no cleaning, and
        the factor comes back lower triangular with zeros above.
        """
        cp = self.cp
        q = cp.q_rest
        g = np.einsum("gab,gcb->gac", t1, t1)
        m = assembly(np.array([lam[0, 0] for lam in lams]), g)
        diag = np.arange(q)
        m[diag, diag] += 1.0
        m[q:, :q] = self._scalar_border(lams, g)[1].T
        m[q:, q:] = np.tril(cp.a_xyxy - w_xy1 @ w_xy1.T)
        upper, info = lapack.dpotrf(m.T, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError("matrix is not positive definite")
        return upper.T

    def _scalar_border(self, lams, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For scalar rest blocks: each rest effect's Lambda d, and the border
        d (A_r,xy - A_r1 G A_1,xy) (q_r, p + 1) of the bordered matrix both layouts factor."""
        cp = self.cp
        d = np.concatenate([np.full(k * n, lam[0, 0]) for lam, (_, k, n) in
                            zip(lams, self._rest_index[2])])  # fmt: skip
        b = np.einsum("mga,gab->mgb", cp.a_xy1, g).reshape(cp.p + 1, -1)
        return d, (cp.a_xyr.T - np.asarray(cp.a_r1 @ b.T)) * d[:, None]

    def _dense_rr(self) -> np.ndarray:
        """A_rr dense, converted once per cross-products: this layout factors the rest
        densely anyway (the cross-products keep it sparse for :mod:`.components`, which
        reads only its nonzeros).  Keyed on ``cp``, which structured residuals replace."""
        a_rr = self.cp.a_rr
        if not sp.issparse(a_rr):
            return a_rr
        if getattr(self, "_a_rr", (None,))[0] is not self.cp:
            self._a_rr = (self.cp, a_rr.toarray())
        return self._a_rr[1]

    def _rest_factor(self, lams, ww, wx, w_xy1) -> np.ndarray:
        """Dense Cholesky of the Schur complement of everything after block 1."""
        cp = self.cp
        q = cp.q_rest
        m = np.empty((q + cp.p + 1, q + cp.p + 1))
        m[q:, q:] = cp.a_xyxy - w_xy1 @ w_xy1.T
        if q:
            m[:q, :q] = self._lam_t(lams, self._lam_t(lams, self._dense_rr()).T) - ww
            m[:q, :q] += np.eye(q)
            xr = self._lam_t(lams, cp.a_xyr.T).T - wx.T
            m[q:, :q] = xr
            m[:q, q:] = xr.T
        return _cholesky(m)


def _cholesky(m: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor by LAPACK's potrf, in place (faster than numpy's wrapper)."""
    low, info = lapack.dpotrf(m, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError("matrix is not positive definite")
    return low


def _block_diag(t: np.ndarray) -> sp.csr_matrix:
    """Sparse block-diagonal matrix from an (l, k, k) stack."""
    g, k, _ = t.shape
    base = np.arange(g)[:, None, None] * k
    rows = np.broadcast_to(base + np.arange(k)[None, :, None], t.shape).ravel()
    cols = np.broadcast_to(base + np.arange(k)[None, None, :], t.shape).ravel()
    return sp.csr_matrix((t.ravel(), (rows, cols)), shape=(g * k, g * k))
