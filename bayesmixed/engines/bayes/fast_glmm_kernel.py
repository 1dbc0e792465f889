"""The GLMM log posterior of :mod:`.fast_glmm` in one compiled call, and its C callback.

Why: through nutpie's Python callback the NumPy density costs ~120 us an evaluation and
holds the GIL, so chains run one after another; the workshop's random-slope ``melogit``
took ~30 s.  Here the same arithmetic -- beta's priors, each block's Lambda and its priors
(:func:`.fast_compiled.block_lambda`), b = Lambda u, eta = [X Z][beta; b] + offset, the
family's log density and score, and the chain rule back through Lambda
(:func:`.fast_compiled.block_gradient`) -- runs as one numba function, called by nutpie
as a C function (:mod:`.fast_cfunc`'s header scheme), chains on every core.

The family enters as its canonical cumulant (:attr:`Family.cumulant`): for y | eta with
log density y eta - n c(eta) + const, c = log(1 + e^eta) (Bernoulli and binomial, logit)
or e^eta (Poisson, log); the score is y - n c'(eta).  Other links and families keep the
NumPy density.  Constants are left out and added back by the caller, measured once
against :class:`.fast_glmm.GlmmPosterior`; ``tests/engines/bayes/test_fast_glmm.py``
checks value and gradient against it.

Caching caveat (numba's, as in :mod:`.fast_cfunc`): a cached function keeps its callees'
compiled code; after an edit to :mod:`.fast_compiled`, touch this file too.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .. import precompiled
from ..quiet_import import IMPORT_LOCK
from . import fast_cfunc, fast_compiled

#: :attr:`Family.cumulant` -> the kernel's code
CUMULANTS = {"logistic": 0, "exp": 1}
#: (dtype, ndim) of each array argument of :func:`logp_grad` after x; None: a scalar
ARRAYS = (
    (np.int64, 2), (np.int64, 1), (np.float64, 2), (np.float64, 1), (np.float64, 2),
    (np.int64, 1), (np.float64, 2), (np.int64, 1), (np.int64, 1), (np.float64, 1),
    (np.float64, 1), (np.float64, 1), (np.float64, 1), (np.int64, 2), None, None,
)  # fmt: skip
SCALARS = (14, 15)  # p (number of coefficients), the cumulant's code
HEADER = fast_cfunc.SLOT * len(ARRAYS) + 2

_COMPILED: dict = {}
_LOCK = threading.Lock()
# set by :func:`_compile` to the compiled helpers (numba resolves globals when compiling)
kernel = carray = block_lambda = block_gradient = coef_term = block_arrays = None
_i1 = _i2 = _f1 = _f2 = finish = header_views = None


def compiled():
    """(kernel, logp callback, expand callback), compiled once and cached; or None."""
    with IMPORT_LOCK, _LOCK:
        if "f" not in _COMPILED:
            _COMPILED["f"] = _compile()
    return _COMPILED["f"]


def _compile():
    if fast_compiled.compiled() is None or fast_cfunc.compiled() is None:
        return None
    try:
        import numba
        from numba import types

        jit = fast_compiled.fast_kernels.cached_jit(numba)
        for name in ("block_lambda", "block_gradient", "coef_term", "block_arrays"):
            globals()[name] = getattr(fast_compiled, name)  # the compiled helpers
        globals()["_cumulant"] = jit(_cumulant)
        globals()["_columns"] = jit(_columns)
        compiled_kernel = jit(logp_grad)
        globals().update(kernel=compiled_kernel, carray=numba.carray)
        for view in ("_i1", "_i2", "_f1", "_f2", "finish", "header_views"):
            globals()[view] = getattr(fast_cfunc, view)
        double_p = types.CPointer(types.double)
        logp_sig = types.int64(types.uint64, double_p, double_p, double_p, types.voidptr)
        callback = precompiled.cfunc(logp_callback, logp_sig, error_model="numpy")
    except Exception:  # noqa: BLE001 -- any numba failure: the NumPy density remains
        return None
    return compiled_kernel, callback, fast_cfunc.compiled()[1]


# -- the kernel (plain Python until compiled) ----------------------------------------------
def _cumulant(code, eta):
    """(c(eta), c'(eta)) of the canonical cumulant: log(1 + e^eta) or e^eta."""
    if code == 0:
        e = math.exp(-abs(eta))
        mean = 1.0 / (1.0 + e) if eta >= 0.0 else e / (1.0 + e)
        return max(eta, 0.0) + math.log1p(e), mean
    mu = math.exp(eta)
    return mu, mu


def logp_grad(x, blocks, scales, spar, scale_c, bpar, coefs, cpar, indptr, indices, data,
              offset, y, trials, levels, p, cumulant):  # fmt: skip
    """log posterior (without constants) and its gradient at x = [beta, covariance, u].

    blocks/scales/spar/scale_c/bpar as :func:`.fast_compiled.logp_grad` (offsets into x
    start after beta); coefs/cpar: beta's prior codes and parameters; indptr/indices/data:
    [X Z] in CSR form; levels: (B, 4) int rows (groups, k, first u in x, first b among
    the columns of [X Z]).
    """
    n_blocks = blocks.shape[0]
    lams, sds, grad = block_arrays(blocks, x.shape[0])
    coef = np.zeros(_columns(levels, p))  # [beta; b]: the columns of [X Z]
    logp = 0.0
    for j in range(p):
        coef[j] = x[j]
        lp_j, d_j = coef_term(coefs[j], cpar[j], x[j])
        logp += lp_j
        grad[j] = d_j
    for b in range(n_blocks):
        first = blocks[b, 4]
        logp += block_lambda(x, blocks[b], scales[first:], spar[first:], scale_c[first:],
                             bpar[b], lams[b], sds[b])  # fmt: skip
        groups, k, u0, b0 = levels[b, 0], levels[b, 1], levels[b, 2], levels[b, 3]
        for g in range(groups):
            for r in range(k):
                acc = 0.0
                for c in range(k):
                    acc += lams[b, r, c] * x[u0 + g * k + c]
                coef[b0 + g * k + r] = acc
    n_rows = indptr.shape[0] - 1
    g_all = np.zeros(coef.shape[0])
    loglik = 0.0
    for i in range(n_rows):
        eta = offset[i]
        for t in range(indptr[i], indptr[i + 1]):
            eta += data[t] * coef[indices[t]]
        c, dc = _cumulant(cumulant, eta)
        loglik += y[i] * eta - trials[i] * c
        score = y[i] - trials[i] * dc
        for t in range(indptr[i], indptr[i + 1]):
            g_all[indices[t]] += data[t] * score
    for j in range(p):
        grad[j] += g_all[j]
    for b in range(n_blocks):
        groups, k, u0, b0 = levels[b, 0], levels[b, 1], levels[b, 2], levels[b, 3]
        g_lam = np.zeros((k, k))
        for g in range(groups):
            for r in range(k):
                u_gr = x[u0 + g * k + r]
                logp -= 0.5 * u_gr * u_gr
                acc = 0.0
                for c in range(k):
                    acc += g_all[b0 + g * k + c] * lams[b, c, r]
                    g_lam[c, r] += g_all[b0 + g * k + c] * u_gr
                grad[u0 + g * k + r] = acc - u_gr
        first = blocks[b, 4]
        block_gradient(x, blocks[b], scales[first:], spar[first:], scale_c[first:], bpar[b],
                       lams[b], sds[b], g_lam, grad)  # fmt: skip
    return logp + loglik, grad


def _columns(levels, p):
    out = p
    for b in range(levels.shape[0]):
        out += levels[b, 0] * levels[b, 1]
    return out


def logp_callback(dim, x_ptr, grad_ptr, logp_ptr, user):
    """nutpie's logp signature (as :func:`.fast_cfunc.logp_callback`); 0 on success."""
    n = np.int64(dim)
    h, fl = header_views(user, HEADER)
    x = carray(x_ptr, (n,))
    value, grad = kernel(
        x, _i2(h, 0), _i1(h, 4), _f2(h, 8), _f1(h, 12), _f2(h, 16), _i1(h, 20), _f2(h, 24),
        _i1(h, 28), _i1(h, 32), _f1(h, 36), _f1(h, 40), _f1(h, 44), _f1(h, 48), _i2(h, 52),
        np.int64(fl[0]), np.int64(fl[1]),
    )  # fmt: skip
    return finish(value, grad, n, grad_ptr, logp_ptr, fl[2])


# -- packing a model -------------------------------------------------------------------------
def pack(post) -> tuple | None:
    """The kernel's arguments (after x) for a :class:`.fast_glmm.GlmmPosterior`; None
    when its family has no canonical cumulant the kernel knows."""
    code = CUMULANTS.get(post.family.cumulant)
    if code is None:
        return None
    blocks, codes, spar, scale_c, bpar = fast_compiled.pack_blocks(post.blocks, post.p)
    coefs, cpar = fast_compiled.pack_coefs(post.coefs)
    a = post.A
    n = post.y.shape[0]
    trials = np.ones(n) if post.trials is None else np.asarray(post.trials, float)
    levels, u0, b0 = [], post.p + sum(b.size for b in post.blocks), post.p
    for g, k in post.dims:
        levels.append([g, k, u0, b0])
        u0 += g * k
        b0 += g * k
    return (
        blocks, codes, spar, scale_c, bpar, coefs, cpar, a.indptr.astype(np.int64),
        a.indices.astype(np.int64), a.data.astype(float), np.asarray(post.offset, float),
        np.asarray(post.y, float), trials, np.array(levels, np.int64), int(post.p), code,
    )  # fmt: skip


class CompiledGlmm:
    """:meth:`logp_grad` of a GlmmPosterior in one compiled call (constants added back)."""

    def __init__(self, post, kernel_fn, args: tuple, x0: np.ndarray) -> None:
        """``x0``: the sampler's start, where the constant is measured."""
        self.kernel, self.args, self.n = kernel_fn, args, post.n
        self.const = post.logp_grad(x0)[0] - kernel_fn(x0, *args)[0]

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self.kernel(np.asarray(x, float), *self.args)
        return value + self.const, grad

    def header(self) -> fast_cfunc.Header:
        return fast_cfunc.Header(self.args, self.const, ARRAYS, SCALARS)
