"""The whole log posterior of :mod:`.fast_posterior` in one compiled call.

:class:`.fast_posterior.FastPosterior` spends ~60 us of Python per evaluation on the
transforms, priors and block sums around the compiled density; NUTS makes ~50,000
evaluations for the quick start.  Here the same arithmetic -- log scales, tanh'd CPCs with
the LKJ density, the logit of an exchangeable correlation, the priors' log densities and
derivatives, the block sums and the chain rule -- runs inside one numba function whose
arguments are plain arrays describing the model (:func:`pack`), so it is compiled once,
for every model, and cached on disk.  Constant terms of the log density are left out and
added back by the caller (:class:`CompiledPosterior` measures the offset once against
:class:`.laplace_numpy.NumpyObjective`), which keeps the kernel free of ``lgamma`` calls.

Prior codes (:data:`SCALE_CODES`, :data:`COEF_CODES`) follow
:data:`.numpy_density.SCALE_LOGPDF` and :data:`.numpy_density.COEF_LOGPDF`;
``tests/engines/bayes/test_fast_compiled.py`` checks value and gradient against
:class:`.fast_posterior.FastPosterior` on every structure and prior.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ...spec.covariance import Exchangeable, Unstructured
from ..quiet_import import IMPORT_LOCK, import_for_results, import_nutpie
from . import fast_kernels

SCALE_CODES = {
    "halfnormal": 0,
    "halfcauchy": 1,
    "halft": 2,
    "exponential": 3,
    "gamma": 4,
    "lognormal": 5,
    "igamma": 6,
    "flat": 7,
}
COEF_CODES = {"normal": 0, "t": 1, "cauchy": 2, "laplace": 3, "flat": 4}
DIAG, EXCH, UNS = 0, 1, 2
evaluate_kernel = fast_kernels.evaluate  # the compiled one once :func:`_compile` ran

_COMPILED: dict = {}
_LOCK = threading.Lock()


def compiled():
    """:func:`logp_grad` compiled (on first use; later processes load it), or None."""
    with IMPORT_LOCK, _LOCK:
        if "f" not in _COMPILED:
            _COMPILED["f"] = _compile()
    return _COMPILED["f"]


def prefetch(kind: str = "gaussian") -> None:
    """Compile (or load) the kernels and import nutpie in a background thread.

    The kernels first: the caller's density asks for them right after its start fit,
    nutpie only when sampling starts.  LLVM's passes run without the GIL, so on an empty
    cache part of the compile overlaps the caller's ML start fit; what the result's
    assembly imports comes last (:func:`..quiet_import.import_for_results`), while the
    chains sample in Rust without the GIL.  Every import and compile here holds
    :data:`..quiet_import.IMPORT_LOCK`.
    """
    if kind == "glmm":  # :mod:`.fast_glmm_kernel`'s kernel (and the helpers it calls)
        load = _glmm_kernels
    elif kind == "residual":  # :mod:`.fast_residual`'s kernel only
        load = fast_kernels.residual_kernel
    elif "f" not in _COMPILED and not _LOCK.locked():
        load = _gaussian_kernels
    else:  # loaded, or being loaded by another fit's thread
        return
    threading.Thread(target=_prepare, args=(load,), name="bayesmixed-kernels", daemon=True).start()


def _prepare(load_kernels) -> None:
    load_kernels()  # first: the caller's density needs them right after its start fit
    import_nutpie()
    import_for_results()


def _glmm_kernels() -> None:
    from . import fast_glmm_kernel

    fast_glmm_kernel.compiled()


def _gaussian_kernels() -> None:
    compiled()
    from . import fast_cfunc

    fast_cfunc.compiled()


def _compile():
    evaluate = fast_kernels.kernels()
    if evaluate is None:
        return None
    try:
        import numba

        jit = fast_kernels.cached_jit(numba)
        globals()["evaluate_kernel"] = evaluate
        helpers = (_softplus, _log_sech, scale_term, coef_term, block_lambda, block_gradient,
                   block_arrays)  # fmt: skip
        for helper in helpers:
            globals()[helper.__name__] = jit(helper)
        kernel = jit(logp_grad)
        kernel(np.zeros(2), *_tiny_model())  # compile now (or load), not inside the sampler
    except Exception:  # noqa: BLE001 -- any numba failure: the Python path remains
        return None
    return kernel


def _tiny_model() -> tuple:
    """The kernel's arguments for a one-level, one-group model, with the real types."""
    i64 = np.int64
    return (
        np.array([[DIAG, 1, 1, 1, 1]], i64), np.zeros(2, i64), np.ones((2, 2)), np.ones(2),
        np.array([[1.0, 0.0, 0.0]]), np.zeros((1, 6), i64), np.zeros((1, 3), i64),
        np.ones((1, 1, 1)), np.ones((1, 1, 2)), np.eye(2), np.eye(1), np.zeros(1), np.zeros(1),
        True, 1.0, np.zeros(0, i64), np.zeros((0, 3)), 1,
    )  # fmt: skip


# -- the kernel (plain Python until compiled) ----------------------------------------------
def scale_term(code, par, w):
    """(log prior of v = exp(w) without constants + log-Jacobian w, d/dw of it)."""
    v = math.exp(w)
    if code == 0:
        lp, d = -0.5 * v * v / par[0], -v / par[0]
    elif code == 1:
        lp, d = -math.log1p(v * v / (par[0] * par[0])), -2.0 * v / (par[0] * par[0] + v * v)
    elif code == 2:
        lp = -0.5 * (par[1] + 1.0) * math.log1p(v * v / (par[1] * par[0]))
        d = -(par[1] + 1.0) * v / (par[1] * par[0] + v * v)
    elif code == 3:
        lp, d = -v / par[0], -1.0 / par[0]
    elif code == 4:
        lp, d = (par[0] - 1.0) * w - v / par[1], (par[0] - 1.0) / v - 1.0 / par[1]
    elif code == 5:
        lp = -w - (w - par[0]) ** 2 / (2.0 * par[1])
        d = -1.0 / v - (w - par[0]) / (v * par[1])
    elif code == 6:
        lp, d = -(par[0] + 1.0) * w - par[1] / v, -(par[0] + 1.0) / v + par[1] / (v * v)
    else:
        lp, d = 0.0, 0.0
    return lp + w, d * v + 1.0


def coef_term(code, par, b):
    """(log prior of one coefficient without constants, its derivative)."""
    e = b - par[0]
    if code == 0:
        return -0.5 * e * e / par[1], -e / par[1]
    if code == 1:
        lp = -0.5 * (par[2] + 1.0) * math.log1p(e * e / (par[2] * par[1]))
        return lp, -(par[2] + 1.0) * e / (par[2] * par[1] + e * e)
    if code == 2:
        return -math.log1p(e * e / (par[1] * par[1])), -2.0 * e / (par[1] * par[1] + e * e)
    if code == 3:
        return -abs(e) / par[1], -math.copysign(1.0, e) / par[1] if e != 0.0 else 0.0
    return 0.0, 0.0


def block_lambda(x, row, sc, spar, scale_c, par, lam, sds):
    """Fill lam (a square root of the block's covariance) and sds; return the log prior.

    ``row``/``par``: the block's rows of :func:`logp_grad`'s ``blocks`` and ``bpar``; sc,
    spar, scale_c start at its first scale.  The log prior has no constants; it includes
    the transforms' log-Jacobians.
    """
    kind, k, ns, off = row[0], row[1], row[2], row[3]
    eta, lo, hi = par[0], par[1], par[2]
    logp = 0.0
    for i in range(ns):
        w = x[off + i]
        logp += scale_term(sc[i], spar[i], w)[0]
        sds[i] = math.exp(scale_c[i] * w)
    for i in range(k):
        for j in range(k):
            lam[i, j] = 0.0
    if kind == EXCH and k > 1:
        xr = x[off + 1]
        rho = lo + (hi - lo) / (1.0 + math.exp(-xr))
        logp += -_softplus(-xr) - _softplus(xr)
        a, b = math.sqrt(1.0 - rho), math.sqrt(1.0 + (k - 1) * rho)
        for i in range(k):
            for j in range(k):
                lam[i, j] = sds[0] * ((a if i == j else 0.0) + (b - a) / k)
    elif kind == UNS and k > 1:
        pos = off + ns
        for r in range(k):
            before = 0.0
            for c in range(r):
                y = x[pos]
                pos += 1
                ls = _log_sech(y)
                lam[r, c] = sds[r] * math.tanh(y) * math.exp(before)
                logp += 2.0 * ls + before  # the CPC transform's log-Jacobian
                before += ls
            lam[r, r] = sds[r] * math.exp(before)
            logp += (2.0 * eta - 2.0 + k - (r + 1)) * before  # LKJ: e_r log C_rr
    else:
        for i in range(k):
            lam[i, i] = sds[0] if ns == 1 else sds[i]
    return logp


def block_arrays(blocks, n):
    """Each block's lam (padded to the widest), its SDs, and a zero gradient of length n."""
    kmax = 1
    for b in range(blocks.shape[0]):
        kmax = max(kmax, blocks[b, 1])
    lams = np.zeros((blocks.shape[0], kmax, kmax))
    return lams, np.zeros((blocks.shape[0], kmax)), np.zeros(n)


def block_gradient(x, row, sc, spar, scale_c, par, lam, sds, g_lam, grad):
    """d/dx of the block's prior and of the likelihood through G = dl/dlam.

    An integrated likelihood depends on Sigma_b = lam lam' only (G = 2 S lam with
    S = dl/dSigma_b); sampled effects b = lam u (:mod:`.fast_glmm_kernel`) on lam itself.
    """
    kind, k, ns, off = row[0], row[1], row[2], row[3]
    eta, lo, hi = par[0], par[1], par[2]
    for i in range(ns):
        g_sd = 0.0
        if kind == EXCH and k > 1:  # lam = sd R: d lam / d sd = lam / sd
            for r in range(k):
                for c in range(k):
                    g_sd += g_lam[r, c] * lam[r, c]
            g_sd /= sds[0]
        elif kind == UNS and k > 1:  # row i of lam is sd_i C_i
            for c in range(k):
                g_sd += g_lam[i, c] * lam[i, c] / sds[i]
        elif ns == 1:
            for r in range(k):
                g_sd += g_lam[r, r]
        else:
            g_sd = g_lam[i, i]
        grad[off + i] = g_sd * scale_c[i] * sds[i] + scale_term(sc[i], spar[i], x[off + i])[1]
    if kind == EXCH and k > 1:
        # lam = sd (a I + (b - a) / k J), a = sqrt(1 - rho), b = sqrt(1 + (k - 1) rho)
        xr = x[off + 1]
        sg = 1.0 / (1.0 + math.exp(-xr))
        rho = lo + (hi - lo) * sg
        a, b = math.sqrt(1.0 - rho), math.sqrt(1.0 + (k - 1) * rho)
        da, db = -0.5 / a, 0.5 * (k - 1) / b
        d_rho = 0.0
        for r in range(k):
            for c in range(k):
                d_lam = sds[0] * ((da if r == c else 0.0) + (db - da) / k)
                d_rho += g_lam[r, c] * d_lam
        grad[off + 1] = d_rho * (hi - lo) * sg * (1.0 - sg) + 1.0 - 2.0 * sg
    elif kind == UNS and k > 1:
        pos = off + ns
        for r in range(k):
            g_c = np.zeros(k)  # row r of sd_r G
            for c in range(r + 1):
                g_c[c] = g_lam[r, c] * sds[r]
            chol_row = np.zeros(k)
            before = np.zeros(k + 1)
            tanh = np.zeros(k)
            for c in range(r):
                tanh[c] = math.tanh(x[pos + c])
                before[c + 1] = before[c] + _log_sech(x[pos + c])
            for c in range(r):
                chol_row[c] = tanh[c] * math.exp(before[c])
            chol_row[r] = math.exp(before[r])
            e_r = 2.0 * eta - 2.0 + k - (r + 1)
            for m in range(r):
                after = 0.0
                for c in range(m + 1, r + 1):
                    after += g_c[c] * chol_row[c]
                t = tanh[m]
                gm = g_c[m] * (1.0 - t * t) * math.exp(before[m]) - t * after
                grad[pos + m] = gm - t * (e_r + (r - m + 1))
            pos += r


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _log_sech(y):
    a = abs(y)
    return math.log(2.0) - a - math.log1p(math.exp(-2.0 * a))


def logp_grad(x, blocks, scales, spar, scale_c, bpar, entries, levels, ztz, zxy, xyxy,
              prec, prec_mean, mean, integrate, n, coefs, cpar, width):  # fmt: skip
    """log posterior (without constants) and its gradient at x.

    blocks: (B, 5) int rows (kind, k, number of scales, offset in x, first scale);
    scales/spar/scale_c: each scale's prior code, parameters and exponent (sd = e^{c w});
    bpar: (B, 3) rows (eta, lo, hi); entries: (E, 6) int rows (block, component, row slot,
    col slot, r, c) placing each block's lam in the padded components; levels: (L, 3) int
    rows (block, component, slot); coefs/cpar: beta's prior codes and parameters when beta
    is sampled (coefs empty when integrated; beta then follows the block part of x).
    """
    n_blocks = blocks.shape[0]
    lams, sds, grad = block_arrays(blocks, x.shape[0])
    kmax = lams.shape[1]
    w0 = x[0]
    logp, d_w0 = scale_term(scales[0], spar[0], w0)
    sigma = math.exp(scale_c[0] * w0)
    for b in range(n_blocks):
        first = blocks[b, 4]
        logp += block_lambda(x, blocks[b], scales[first:], spar[first:], scale_c[first:],
                             bpar[b], lams[b], sds[b])  # fmt: skip
    n_comp = ztz.shape[0]
    lam = np.zeros((n_comp, width, width))
    for e in range(entries.shape[0]):
        b = entries[e, 0]
        lam[entries[e, 1], entries[e, 2], entries[e, 3]] = lams[b, entries[e, 4], entries[e, 5]]
    p = xyxy.shape[0] - 1
    beta = np.zeros(p)
    sampled = coefs.shape[0] > 0
    if sampled:
        start = x.shape[0] - p
        for j in range(p):
            beta[j] = x[start + j]
            lp_j, d_j = coef_term(coefs[j], cpar[j], beta[j])
            logp += lp_j
            grad[start + j] = d_j
    s2 = sigma * sigma
    loglik, tr_gv, zgz, d_beta = evaluate_kernel(
        lam, ztz, zxy, xyxy, s2, prec, prec_mean, mean, integrate, beta
    )
    if math.isnan(loglik):
        return np.nan, grad
    loglik -= 0.5 * n * math.log(s2)
    tr_gv -= n
    s_blocks = np.zeros((n_blocks, kmax, kmax))
    for lv in range(levels.shape[0]):
        b, c, slot = levels[lv, 0], levels[lv, 1], levels[lv, 2]
        k = blocks[b, 1]
        for i in range(k):
            for j in range(k):
                s_blocks[b, i, j] += 0.5 * zgz[c, slot + i, slot + j]
    inner = 0.0
    for b in range(n_blocks):
        k = blocks[b, 1]
        for i in range(k):
            for j in range(k):
                acc = 0.0
                for t in range(k):
                    acc += lams[b, i, t] * lams[b, j, t]
                inner += acc * s_blocks[b, i, j]
    d_s2 = 0.5 * (tr_gv - 2.0 * inner) / s2
    grad[0] = 2.0 * sigma * d_s2 * scale_c[0] * sigma + d_w0
    for b in range(n_blocks):
        first, k = blocks[b, 4], blocks[b, 1]
        g_lam = np.zeros((k, k))  # 2 S lam
        for i in range(k):
            for c in range(k):
                acc = 0.0
                for t in range(k):
                    acc += s_blocks[b, i, t] * lams[b, t, c]
                g_lam[i, c] = 2.0 * acc
        block_gradient(x, blocks[b], scales[first:], spar[first:], scale_c[first:], bpar[b],
                       lams[b], sds[b], g_lam, grad)  # fmt: skip
    if sampled:
        start = x.shape[0] - p
        for j in range(p):
            grad[start + j] += d_beta[j]
    return logp + loglik, grad


# -- packing a model into the kernel's arrays ----------------------------------------------
def pack_blocks(blocks_in, offset: int, leading: tuple = ()) -> tuple:
    """The kernels' block arrays (blocks, scale codes, spar, scale_c, bpar): each block's
    coordinates start at ``offset`` in x, its scales after the ``leading`` ones (sigma)."""
    scale_objs = list(leading)
    blocks, bpar = [], []
    for blk in blocks_in:
        kind = DIAG
        if blk.k > 1 and blk.kind is Exchangeable:
            kind = EXCH
        elif blk.k > 1 and blk.kind is Unstructured:
            kind = UNS
        blocks.append([kind, blk.k, len(blk.scales), offset, len(scale_objs)])
        scale_objs += blk.scales
        lo, hi = blk.bounds if kind == EXCH else (0.0, 0.0)
        bpar.append([getattr(blk, "eta", 1.0), lo, hi])
        offset += blk.size
    codes = np.array([SCALE_CODES[s.prior.dist] for s in scale_objs], np.int64)
    spar = np.zeros((len(scale_objs), 2))
    for i, s in enumerate(scale_objs):
        params = tuple(s.prior.params)[:2]
        spar[i, : len(params)] = params
    scale_c = np.array([0.5 if s.on_variance else 1.0 for s in scale_objs])
    return np.array(blocks, np.int64), codes, spar, scale_c, np.array(bpar, float)


def pack_coefs(priors: list) -> tuple[np.ndarray, np.ndarray]:
    """The kernels' coefficient priors: codes and (mean, scale, df) rows (none: empty)."""
    codes = np.array([COEF_CODES[c.dist] for c in priors], np.int64)
    params = np.zeros((len(priors), 3))
    for j, c in enumerate(priors):
        values = tuple(c.params)[:3]
        params[j, : len(values)] = values
    return codes, params


def pack(post) -> tuple:
    """The kernel's arguments (after x) for a :class:`.fast_posterior.FastPosterior`."""
    obj, dens = post.obj, post.dens
    blocks, codes, spar, scale_c, bpar = pack_blocks(obj.blocks, 1, (obj.sigma,))
    entries = np.concatenate(
        [np.stack([np.full(len(cc), b), cc, rs, cs, r, c], axis=1)
         for b, (cc, rs, cs, r, c) in enumerate(dens.idx)]
    ).astype(np.int64)  # fmt: skip
    levels = np.concatenate(
        [np.stack([np.full(len(comp), b), comp, slot], axis=1)
         for b, (comp, slot) in enumerate(zip(dens.lay.comp, dens.lay.slot))]
    ).astype(np.int64)  # fmt: skip
    coefs, cpar = pack_coefs([] if obj.integrate else obj.coefs)
    return (
        blocks, codes, spar, scale_c, bpar, entries,
        levels, dens.ztz, dens.zxy, dens.xyxy, dens.prec, dens.prec_mean, dens.mean,
        bool(dens.integrate), float(dens.n), coefs, cpar, int(dens.lay.width),
    )  # fmt: skip


class CompiledPosterior:
    """:meth:`logp_grad` of a FastPosterior in one compiled call (constants added back)."""

    def __init__(self, post, kernel) -> None:
        self.kernel, self.args, self.n = kernel, pack(post), post.n
        x0 = post.obj.initial()
        value, _ = kernel(x0, *self.args)
        self.const = post.logp_grad(x0)[0] - value

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self.kernel(np.asarray(x, float), *self.args)
        if not math.isfinite(value):
            raise np.linalg.LinAlgError("a factor of the marginal likelihood is not PD")
        return value + self.const, grad
