"""The compiled log posterior as a C callback that nutpie's Rust sampler calls directly.

Why: through nutpie's Python callback each evaluation paid ~20 us of interpreter overhead
on top of ~20 us of density, and the GIL let only one chain evaluate at a time.  A numba
``cfunc`` has a C address; nutpie calls it from its worker threads with no Python in the
loop, so chains run on every core.  The function is written once for every model: the
model's arrays (:func:`.fast_compiled.pack`) travel as one int64 header of addresses and
shapes (the ``user_data`` pointer nutpie passes back on every call), which the callback
turns into array views -- the same arrangement nutpie uses for PyMC models compiled with
numba.  Compiled once and cached on disk like the kernels it calls.

Caching caveat (numba's): a cached function keeps the compiled code of the functions it
calls, and its cache is invalidated only by a change to its own source file.  After an
edit to :mod:`.fast_kernels` or :mod:`.fast_compiled`, touch this file too (and
``fast_compiled.py`` after an edit to ``fast_kernels.py``); an installed release replaces
every file, so users never meet a stale kernel.

The sampler object is nutpie's own :class:`nutpie.compile_pymc.CompiledPyMCModel`, fed
our callbacks instead of PyMC's; :func:`available` checks the nutpie version this was
written against, and any failure to build leaves the Python-callback path in charge.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import precompiled
from ..quiet_import import IMPORT_LOCK
from . import fast_compiled

#: (dtype, ndim) of each array argument of :func:`.fast_compiled.logp_grad` after x, in
#: order; the arguments at :data:`SCALARS` are plain numbers, carried in the header
ARRAYS = (
    (np.int64, 2), (np.int64, 1), (np.float64, 2), (np.float64, 1), (np.float64, 2),
    (np.int64, 2), (np.int64, 2), (np.float64, 3), (np.float64, 3), (np.float64, 2),
    (np.float64, 2), (np.float64, 1), (np.float64, 1), None, None, (np.int64, 1),
    (np.float64, 2), None,
)  # fmt: skip
SCALARS = (13, 14, 17)  # integrate (bool), n (float), width (int)
SLOT = 4  # header slots per array: address, then up to three dimensions
HEADER = SLOT * len(ARRAYS) + 2  # + the float block's address and length
ERR_NOT_FINITE = 4  # a positive code: nutpie treats the point as a divergence, not a crash

_COMPILED: dict = {}
_LOCK = threading.Lock()
# set by :func:`_compile` (numba resolves a compiled function's globals when compiling it)
kernel = pointer = carray = None


def compiled():
    """The (logp, expand) cfuncs, compiled on first use and cached on disk; or None."""
    with IMPORT_LOCK, _LOCK:
        if "f" not in _COMPILED:
            _COMPILED["f"] = _compile()
    return _COMPILED["f"]


class Header:
    """A model's arrays behind one int64 header; keeps every array alive while it lives."""

    def __init__(self, args: tuple, const: float, kinds=ARRAYS, scalars=SCALARS) -> None:
        """``kinds``/``scalars``: the callback's layout (:data:`ARRAYS`, :data:`SCALARS`
        for the Gaussian kernel; :mod:`.fast_glmm_kernel` has its own)."""
        self.arrays = [  # the dtype the callback reads, whatever the platform's default int
            np.ascontiguousarray(a, dtype=kind[0]) for a, kind in zip(args, kinds) if kind
        ]
        floats = [float(args[i]) for i in scalars] + [float(const)]
        self.floats = np.array(floats, np.float64)  # the scalars, then the constant
        head = np.zeros(SLOT * len(kinds) + 2, np.int64)
        arrays = iter(self.arrays)
        for i, kind in enumerate(kinds):
            if kind is None:
                continue
            a = next(arrays)
            if a.ndim != kind[1]:  # the callback would read the wrong memory: refuse here
                raise ValueError(f"argument {i}: {a.ndim} dimensions, the callback reads {kind[1]}")
            head[SLOT * i] = a.ctypes.data
            head[SLOT * i + 1 : SLOT * i + 1 + a.ndim] = a.shape
        head[-2], head[-1] = self.floats.ctypes.data, len(self.floats)
        self.head = head

    @property
    def address(self) -> int:
        return int(self.head.ctypes.data)


def _compile():
    kernel = fast_compiled.compiled()
    if kernel is None:
        return None
    try:
        import numba
        from numba import types
        from numba.core import cgutils
        from numba.extending import intrinsic

        @intrinsic
        def pointer(typingctx, address):
            def codegen(context, builder, signature, args):
                return builder.inttoptr(args[0], cgutils.voidptr_t)

            return types.voidptr(address), codegen

        inline = numba.njit(inline="always", cache=True)
        globals().update(kernel=kernel, pointer=pointer, carray=numba.carray)
        for view in (_i1, _i2, _f1, _f2, _f3, finish, header_views):
            globals()[view.__name__] = inline(view)
        double_p = types.CPointer(types.double)
        logp_sig = types.int64(types.uint64, double_p, double_p, double_p, types.voidptr)
        expand_sig = types.int64(types.uint64, types.uint64, double_p, double_p, types.voidptr)
        logp = precompiled.cfunc(logp_callback, logp_sig, error_model="numpy")
        expand = precompiled.cfunc(expand_callback, expand_sig)
    except Exception:  # noqa: BLE001 -- any numba failure: the Python callback remains
        return None
    return logp, expand


# -- array views on the header (plain Python until compiled) -------------------------------
def _i1(h, s):
    return carray(pointer(h[s]), (h[s + 1],), np.int64)


def _i2(h, s):
    return carray(pointer(h[s]), (h[s + 1], h[s + 2]), np.int64)


def _f1(h, s):
    return carray(pointer(h[s]), (h[s + 1],), np.float64)


def _f2(h, s):
    return carray(pointer(h[s]), (h[s + 1], h[s + 2]), np.float64)


def _f3(h, s):
    return carray(pointer(h[s]), (h[s + 1], h[s + 2], h[s + 3]), np.float64)


def header_views(user, size):
    """The int64 header at ``user`` and its block of floats (scalars, then the constant)."""
    h = carray(user, (size,), np.int64)
    return h, carray(pointer(h[size - 2]), (h[size - 1],), np.float64)


def logp_callback(dim, x_ptr, grad_ptr, logp_ptr, user):
    """nutpie's logp signature: fill the gradient and the value; 0 on success."""
    n = np.int64(dim)
    h, fl = header_views(user, HEADER)
    x = carray(x_ptr, (n,))
    value, grad = kernel(
        x, _i2(h, 0), _i1(h, 4), _f2(h, 8), _f1(h, 12), _f2(h, 16), _i2(h, 20), _i2(h, 24),
        _f3(h, 28), _f3(h, 32), _f2(h, 36), _f2(h, 40), _f1(h, 44), _f1(h, 48), fl[0] != 0.0,
        fl[1], _i1(h, 60), _f2(h, 64), np.int64(fl[2]),
    )  # fmt: skip
    return finish(value, grad, n, grad_ptr, logp_ptr, fl[3])


def finish(value, grad, n, grad_ptr, logp_ptr, const):
    """Write a finite value (plus ``const``) and gradient out for nutpie; 0, or
    :data:`ERR_NOT_FINITE` when any of them is NaN or inf (shared by every callback)."""
    total = value
    for i in range(n):
        total += grad[i]
    if not np.isfinite(total):
        return ERR_NOT_FINITE
    out = carray(grad_ptr, (n,))
    for i in range(n):
        out[i] = grad[i]
    carray(logp_ptr, (1,))[0] = value + const
    return 0


def expand_callback(dim, n_expanded, x_ptr, out_ptr, user):
    """nutpie's expand signature: the trace keeps the working coordinates themselves."""
    n = np.int64(dim)
    x = carray(x_ptr, (n,))
    out = carray(out_ptr, (np.int64(n_expanded),))
    for i in range(n):
        out[i] = x[i]
    return 0


def nutpie_model(header: Header, n: int, start, callbacks=None):
    """nutpie's compiled-model object around our callbacks (None when they did not compile).

    ``start(seed)`` gives a chain's first point; ``callbacks``: (logp, expand) cfuncs
    (default: the Gaussian kernel's).  The trace holds one variable, ``x``
    (the working coordinates), turned into the model's values after sampling.
    """
    callbacks = compiled() if callbacks is None else callbacks
    if callbacks is None:
        return None
    from nutpie.compile_pymc import CompiledPyMCModel

    logp, expand = callbacks
    try:
        return _model(CompiledPyMCModel, header, n, start, logp, expand)
    except TypeError:  # a nutpie whose model class changed shape: its Python callback path
        return None


def _model(cls, header: Header, n: int, start, logp, expand):
    return cls(
        _n_dim=n,
        dims={"x": ("x_dim_0",)},
        _coords={"x_dim_0": np.arange(n)},
        _shapes={"x": (n,)},
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=start,
        shared_data={"header": header},  # the model keeps the arrays alive
        shared_var_keys={},
        user_data=header.head,
        n_expanded=n,
        shape_info=(["x"], [slice(0, n)], [(n,)]),
        logp_func=None,
        expand_func=None,
    )
