"""The per-component loops of :mod:`.fast_density`, compiled by numba.

Every evaluation factors one small matrix per component (48 schools of 2 x 2 on jsp).
Stacked NumPy calls do that at ~2.5 us of interpreter overhead each, some 40 calls per
evaluation; :func:`evaluate` does the same arithmetic, the fixed effects' p x p part
included, in one call (jsp: ~25 against ~175 us).  numba is a PyMC dependency already,
so nothing new is installed.  The functions are compiled once for every model (plain
array arguments, no model constants baked in) and cached on disk: ~5 s on an empty
cache at load 2, ~0.3 s to load later (:mod:`.fast_compiled` builds the whole log
posterior on top); ``bayesmixed precompile`` builds them at install
(:mod:`..precompiled`), so a first fit only loads them.  :func:`kernels` returns None
when numba is missing or fails; :mod:`.fast_density` then keeps its stacked-NumPy path,
which the tests compare with these kernels.
"""

from __future__ import annotations

import importlib.util
import threading

import numpy as np

from ..quiet_import import IMPORT_LOCK


def available() -> bool:
    return importlib.util.find_spec("numba") is not None


_KERNELS: dict = {}
_LOCK = threading.Lock()


def kernels():
    """:func:`evaluate` compiled, or None.

    Compiled on first use (a call on a 1 x 1 problem, so a numba that cannot compile here
    fails now, not inside the sampler) and cached on disk for later processes.  None when
    numba is missing or fails: the stacked-NumPy path computes the same numbers.
    """
    with IMPORT_LOCK, _LOCK:  # one compile, also when :func:`prefetch`'s thread is at it
        if "evaluate" not in _KERNELS:
            _KERNELS["evaluate"] = _compile() if available() else None
    return _KERNELS["evaluate"]


def _compile():
    try:
        import numba

        jit = cached_jit(numba)
        for helper in (cholesky_lower, factor_components, fixed_effects, gradient_components):
            globals()[helper.__name__] = jit(helper)  # evaluate calls the compiled ones
        compiled = jit(evaluate)
        one, row, eye = np.ones((1, 1, 1)), np.ones((1, 1, 2)), np.eye(2)
        compiled(one, one, row, eye, 1.0, np.eye(1), np.zeros(1), np.zeros(1), True, np.zeros(1))
    except Exception:  # noqa: BLE001 -- any numba failure: fall back to NumPy
        return None
    return compiled


def cached_jit(numba):
    """numba.njit for these kernels: cached on disk, the install's build read first."""
    from .. import precompiled

    def jit(function):
        compiled = numba.njit(cache=True, nogil=True, error_model="numpy")(function)
        precompiled.attach(compiled)
        return compiled

    return jit


def evaluate(lam, ztz, zxy, xyxy, s2, prec, prec_mean, mean, integrate, beta):
    """What :meth:`.fast_density.IntegratedGaussian._evaluate` computes, in one call.

    Returns (l without its constants, tr(GV) + n, Z'GZ per component, dl/dbeta); nan in
    the first place when a factor is not positive definite.
    """
    logdet_m, zkz, ys = factor_components(lam, ztz, zxy, s2)
    p = xyxy.shape[0] - 1
    if np.isnan(logdet_m):
        return np.nan, 0.0, np.zeros(ztz.shape), np.zeros(p)
    q = (xyxy - zkz / s2) / s2  # [X y]'V^-1[X y]
    extra, rvr, tr_extra, b, hinv, d_beta = fixed_effects(q, prec, prec_mean, mean, integrate, beta)
    if np.isnan(extra):
        return np.nan, 0.0, np.zeros(ztz.shape), d_beta
    zgz = gradient_components(ys, ztz, zxy, s2, b, hinv, integrate)
    return -0.5 * (logdet_m + rvr + extra), rvr + tr_extra, zgz, d_beta


def fixed_effects(q, prec, prec_mean, mean, integrate, beta):
    """beta* (or the given beta), H^-1, r'V^-1 r and the log|H| + prior terms, by loops.

    q is [X y]'V^-1[X y]; H = X'V^-1 X + P.  Returns (log|H| + d'Pd, r'V^-1 r,
    tr(H^-1 A), beta, H^-1, dl/dbeta).
    """
    p = q.shape[0] - 1
    b = beta.copy()
    hinv = np.zeros((p, p))
    extra = 0.0
    tr_extra = 0.0
    if integrate:
        h = np.empty((p, p))
        for i in range(p):
            for j in range(p):
                h[i, j] = q[i, j] + prec[i, j]
        logdet_h = cholesky_lower(h, p)
        if np.isnan(logdet_h):
            return np.nan, 0.0, 0.0, b, hinv, np.zeros(p)
        linv = np.zeros((p, p))  # L^-1 by forward substitution; H^-1 = L^-T L^-1
        for col in range(p):
            for i in range(col, p):
                acc = 1.0 if i == col else 0.0
                for r in range(col, i):
                    acc -= h[i, r] * linv[r, col]
                linv[i, col] = acc / h[i, i]
        for i in range(p):
            for j in range(p):
                acc = 0.0
                for r in range(max(i, j), p):
                    acc += linv[r, i] * linv[r, j]
                hinv[i, j] = acc
        for i in range(p):
            acc = 0.0
            for j in range(p):
                acc += hinv[i, j] * (q[j, p] + prec_mean[j])
            b[i] = acc
        quad = 0.0
        for i in range(p):
            for j in range(p):
                quad += (b[i] - mean[i]) * prec[i, j] * (b[j] - mean[j])
                tr_extra += hinv[i, j] * q[i, j]
        extra = logdet_h + quad
    rvr = q[p, p]
    d_beta = np.empty(p)
    for i in range(p):
        ab = 0.0
        for j in range(p):
            ab += q[i, j] * b[j]
        rvr += b[i] * ab - 2.0 * b[i] * q[i, p]
        d_beta[i] = q[i, p] - ab
    return extra, rvr, tr_extra, b, hinv, d_beta


def cholesky_lower(m, w):
    """Lower Cholesky factor of m[:w, :w] in place; returns log|m|, or nan if not PD."""
    logdet = 0.0
    for j in range(w):
        d = m[j, j]
        for r in range(j):
            d -= m[j, r] * m[j, r]
        if d <= 0.0:
            return np.nan
        d = np.sqrt(d)
        m[j, j] = d
        logdet += 2.0 * np.log(d)
        for i in range(j + 1, w):
            acc = m[i, j]
            for r in range(j):
                acc -= m[i, r] * m[j, r]
            m[i, j] = acc / d
    return logdet


def factor_components(lam, ztz, zxy, s2):
    """log|M|, [X y]'Z K Z'[X y] and Y = R^-1 Lambda' per component (K = Y'Y).

    M = I + Lambda' Z'Z Lambda / s2 = R R' (R lower), so K = Lambda M^-1 Lambda' = Y'Y.
    """
    c, w, _ = lam.shape
    p1 = zxy.shape[2]
    ys = np.zeros((c, w, w))
    zkz = np.zeros((p1, p1))
    logdet = 0.0
    t = np.zeros((w, w))
    m = np.zeros((w, w))
    yz = np.zeros((w, p1))
    for g in range(c):
        lg, ag = lam[g], ztz[g]
        for i in range(w):  # t = A Lambda
            for j in range(w):
                acc = 0.0
                for r in range(w):
                    acc += ag[i, r] * lg[r, j]
                t[i, j] = acc
        for i in range(w):  # m = I + Lambda' t / s2, lower triangle
            for j in range(i + 1):
                acc = 0.0
                for r in range(w):
                    acc += lg[r, i] * t[r, j]
                m[i, j] = acc / s2 + (1.0 if i == j else 0.0)
        ld = cholesky_lower(m, w)  # R, in place (lower)
        if np.isnan(ld):
            return np.nan, zkz, ys
        logdet += ld
        yg = ys[g]
        for col in range(w):  # Y = R^-1 Lambda': forward substitution, column by column
            for i in range(w):
                acc = lg[col, i]
                for r in range(i):
                    acc -= m[i, r] * yg[r, col]
                yg[i, col] = acc / m[i, i]
        for i in range(w):  # yz = Y Z'[X y]
            for j in range(p1):
                acc = 0.0
                for r in range(w):
                    acc += yg[i, r] * zxy[g, r, j]
                yz[i, j] = acc
        for i in range(p1):
            for j in range(p1):
                acc = 0.0
                for r in range(w):
                    acc += yz[r, i] * yz[r, j]
                zkz[i, j] += acc
    return logdet, zkz, ys


def gradient_components(ys, ztz, zxy, s2, beta, hinv, integrate):
    """Z'GZ per component (see :mod:`.fast_density`), from the factor's Y.

    With V = Y Z'Z (so Z'Z K Z'Z = V'V), B Z'a = (Z'a - V'(Y Z'a) / s2) / s2 gives
    u = B Z'r, W = B Z'X and B Z'Z; Z'GZ = u u' - B Z'Z (+ W H^-1 W' if integrated).
    """
    c, w, _ = ys.shape
    p = zxy.shape[2] - 1
    out = np.zeros((c, w, w))
    v = np.zeros((w, w))
    zr = np.zeros(w)
    yr = np.zeros(w)
    u = np.zeros(w)
    yx = np.zeros((w, p))
    wm = np.zeros((w, p))
    wh = np.zeros((w, p))
    for g in range(c):
        yg, ag, xg = ys[g], ztz[g], zxy[g]
        for i in range(w):
            for j in range(w):
                acc = 0.0
                for r in range(w):
                    acc += yg[i, r] * ag[r, j]
                v[i, j] = acc
            acc = xg[i, p]
            for j in range(p):
                acc -= xg[i, j] * beta[j]
            zr[i] = acc
        for i in range(w):
            acc = 0.0
            for r in range(w):
                acc += yg[i, r] * zr[r]
            yr[i] = acc
        for i in range(w):
            acc = 0.0
            for r in range(w):
                acc += v[r, i] * yr[r]
            u[i] = (zr[i] - acc / s2) / s2
        og = out[g]
        for i in range(w):
            for j in range(w):
                acc = 0.0
                for r in range(w):
                    acc += v[r, i] * v[r, j]
                og[i, j] = u[i] * u[j] - (ag[i, j] - acc / s2) / s2
        if integrate:
            for i in range(w):
                for j in range(p):
                    acc = 0.0
                    for r in range(w):
                        acc += yg[i, r] * xg[r, j]
                    yx[i, j] = acc
            for i in range(w):
                for j in range(p):
                    acc = 0.0
                    for r in range(w):
                        acc += v[r, i] * yx[r, j]
                    wm[i, j] = (xg[i, j] - acc / s2) / s2
            for i in range(w):
                for j in range(p):
                    acc = 0.0
                    for r in range(p):
                        acc += wm[i, r] * hinv[r, j]
                    wh[i, j] = acc
            for i in range(w):
                for j in range(w):
                    acc = 0.0
                    for r in range(p):
                        acc += wh[i, r] * wm[j, r]
                    og[i, j] += acc
    return out


# -- residual cells and AR(1) panels (:mod:`.fast_residual`) -------------------------------
def residual_kernel():
    """:func:`residual_evaluate` compiled (after :func:`kernels`, whose helpers it calls), or
    None; compiled on first use by a residual model only, and cached on disk."""
    with IMPORT_LOCK, _LOCK:
        if "residual" not in _KERNELS:
            _KERNELS["residual"] = None
            if "evaluate" not in _KERNELS:
                _KERNELS["evaluate"] = _compile() if available() else None
            if _KERNELS["evaluate"] is not None:
                _KERNELS["residual"] = _compile_residual()
    return _KERNELS["residual"]


def _compile_residual():
    try:
        import numba

        jit = cached_jit(numba)
        globals()["combine"] = jit(combine)
        globals()["residual_moments"] = jit(residual_moments)
        compiled = jit(residual_evaluate)
        one, row, eye = np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 2)), np.eye(2)[None]
        compiled(np.ones((1, 1, 1)), one, row, eye, np.ones(1), np.eye(1), np.zeros(1),
                 np.zeros(1), True, np.zeros(1))  # fmt: skip
    except Exception:  # noqa: BLE001 -- any numba failure: the NumPy path remains
        return None
    return compiled


def combine(coef, terms):
    """sum_k coef[k] terms[k] over the leading axis, by loops."""
    flat = terms.reshape(terms.shape[0], -1)
    out = np.zeros(flat.shape[1])
    for k in range(flat.shape[0]):
        ck = coef[k]
        for i in range(flat.shape[1]):
            out[i] += ck * flat[k, i]
    return out.reshape(terms.shape[1:])


def residual_evaluate(lam, ztz_t, zxy_t, xyxy_t, coef, prec, prec_mean, mean, integrate, beta):
    """What :meth:`.fast_residual.ResidualGaussian.__call__` computes from the combined
    cross-products at unit error variance: (l without constants and log|V|, Z'GZ per
    component, dl/dbeta, e'A_k e + tr(A_k Cov) per term); nan first if not PD."""
    ztz, zxy, xyxy = combine(coef, ztz_t), combine(coef, zxy_t), combine(coef, xyxy_t)
    logdet_m, zkz, ys = factor_components(lam, ztz, zxy, 1.0)
    p = xyxy.shape[0] - 1
    moments = np.zeros(ztz_t.shape[0])
    if np.isnan(logdet_m):
        return np.nan, np.zeros(ztz.shape), np.zeros(p), moments
    q = xyxy - zkz
    extra, rvr, _, b, hinv, d_beta = fixed_effects(q, prec, prec_mean, mean, integrate, beta)
    if np.isnan(extra):
        return np.nan, np.zeros(ztz.shape), d_beta, moments
    zgz = gradient_components(ys, ztz, zxy, 1.0, b, hinv, integrate)
    moments = residual_moments(ys, ztz_t, zxy_t, xyxy_t, zxy, b, hinv, integrate)
    return -0.5 * (logdet_m + rvr + extra), zgz, d_beta, moments


def residual_moments(ys, ztz_t, zxy_t, xyxy_t, zxy, b, hinv, integrate):
    """E[(W g - y)' T_k (W g - y) | y] per term, g = (b, beta): e'A_k e + tr(A_k Cov).

    K = Y'Y is Cov(b | beta, y) per component, E[b | y] = K Z'(y - X beta^), and with
    beta integrated F = K Z'X gives Cov(b) = K + F H^-1 F', Cov(b, beta) = -F H^-1.
    """
    n_terms, c, w, _ = ztz_t.shape
    p = zxy.shape[2] - 1
    out = np.zeros(n_terms)
    v = np.empty(p + 1)
    for j in range(p):
        v[j] = -b[j]
    v[p] = 1.0
    kmat = np.zeros((w, w))
    cov = np.zeros((w, w))
    r = np.zeros(w)
    bh = np.zeros(w)
    f = np.zeros((w, p))
    fh = np.zeros((w, p))
    for g in range(c):
        yg, xg = ys[g], zxy[g]
        for i in range(w):
            for j in range(w):
                acc = 0.0
                for t in range(w):
                    acc += yg[t, i] * yg[t, j]
                kmat[i, j] = acc
            acc = 0.0
            for j in range(p + 1):
                acc += xg[i, j] * v[j]
            r[i] = acc
        for i in range(w):
            acc = 0.0
            for j in range(w):
                acc += kmat[i, j] * r[j]
            bh[i] = acc
        for i in range(w):
            for j in range(w):
                cov[i, j] = kmat[i, j] + bh[i] * bh[j]
        if integrate:
            for i in range(w):
                for j in range(p):
                    acc = 0.0
                    for t in range(w):
                        acc += kmat[i, t] * xg[t, j]
                    f[i, j] = acc
            for i in range(w):
                for j in range(p):
                    acc = 0.0
                    for t in range(p):
                        acc += f[i, t] * hinv[t, j]
                    fh[i, j] = acc
            for i in range(w):
                for j in range(w):
                    acc = 0.0
                    for t in range(p):
                        acc += fh[i, t] * f[j, t]
                    cov[i, j] += acc
        for k in range(n_terms):
            ak, xk = ztz_t[k, g], zxy_t[k, g]
            acc = 0.0
            for i in range(w):
                for j in range(w):
                    acc += ak[i, j] * cov[i, j]
                cross = 0.0
                for j in range(p + 1):
                    cross += xk[i, j] * v[j]
                acc -= 2.0 * bh[i] * cross
                if integrate:
                    for j in range(p):
                        acc -= 2.0 * xk[i, j] * fh[i, j]
            out[k] += acc
    for k in range(n_terms):
        xk = xyxy_t[k]
        acc = 0.0
        for i in range(p + 1):
            for j in range(p + 1):
                acc += v[i] * xk[i, j] * v[j]
        if integrate:
            for i in range(p):
                for j in range(p):
                    acc += xk[i, j] * hinv[j, i]
        out[k] += acc
    return out
