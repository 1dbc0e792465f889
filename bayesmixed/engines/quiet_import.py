"""Import nutpie and ArviZ's statistics without the seconds their imports cost a fit.

Two costs, measured on the quick start (2 cores, warm caches, ``-X importtime``):

* ArviZ's lazy loader (``lazy_loader.load``, used by ``arviz_base.io_numpyro`` for jax and
  numpyro) records where a missing optional module was asked for by ``inspect.stack()``,
  which looks up the source file of every frame on the stack by scanning ``sys.modules``:
  0.17 s from a shallow stack once PyMC is not loaded, ~2 s a call from inside a fit with
  PyMC loaded.  The frames alone carry what it records (file, line, function), so the
  import runs with a frames-only ``inspect.stack`` (:func:`frames_only_stack`).
* nutpie's ``sample`` module imports ``arviz`` at its top, and ``arviz`` imports
  ``arviz_plots`` and with it ``matplotlib.pyplot``: 0.77 s of a warm 4.5 s quick start,
  plus ~0.3 s of interpreter shutdown for the modules it loads, for a name nutpie uses only
  to convert a trace -- which :mod:`.bayes.fast_nuts` asks for raw (``return_raw_trace``) and
  converts itself.  :func:`import_nutpie` gives nutpie a stand-in ``arviz`` module whose
  first attribute access imports the real one (so nutpie used elsewhere, say by
  ``pm.sample(nuts_sampler="nutpie")``, still works); the stand-in is in ``sys.modules``
  only during nutpie's import, so ``import arviz`` anywhere else gets the real package.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager

#: Held around every import or compile that may import numba's modules: nutpie's import
#: (in :func:`.bayes.fast_compiled.prefetch`'s thread) imports numba, and two threads
#: importing numba's circularly dependent modules at once deadlock; Python then raises
#: ``_DeadlockError`` in one of them (seen: the kernels' compile in the caller failed, the
#: fit fell back to the Python density, 20 s instead of 0.6 s and other draws for the
#: seed).  Taken *first*, before any compile's own lock, so locks never invert; reentrant
#: because those compiles nest (and nutpie's import may reach the stand-in arviz).
IMPORT_LOCK = threading.RLock()


class _DeferredArviz(types.ModuleType):
    """``arviz`` as nutpie's ``sample`` module sees it: the real package on first use."""

    def __getattr__(self, name: str):
        # ``inspect.unwrap`` and doctest finders probe this on every module they meet;
        # everything else (``__version__``, ``__path__`` too) is the real package's
        if name == "__wrapped__":
            raise AttributeError(name)
        with frames_only_stack():
            real = importlib.import_module("arviz")
        return getattr(real, name)


@contextmanager
def frames_only_stack() -> Iterator[None]:
    """``inspect.stack`` without source lines while the block runs (see the module doc).

    Process-wide for the duration, like any monkeypatch: a lock keeps two threads
    importing at once (the kernel thread and the caller) from restoring each other's
    patch in the wrong order.
    """
    with IMPORT_LOCK:
        original = inspect.stack
        inspect.stack = _frames_only
        try:
            yield
        finally:
            inspect.stack = original


def _frames_only(context: int = 1) -> list:
    """``inspect.stack()`` without source lines: one FrameInfo per frame, callers last."""
    frame, out = sys._getframe(1), []
    while frame is not None:
        code = frame.f_code
        out.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return out


def import_nutpie() -> types.ModuleType | None:
    """nutpie, imported without ArviZ's plotting stack; None when it is not installed.

    Under the lock first: another thread may be importing it
    (:func:`.bayes.fast_compiled.prefetch`), and a half-initialised module is already in
    ``sys.modules``.
    """
    with IMPORT_LOCK:
        if "nutpie" in sys.modules:
            return sys.modules["nutpie"]
        placed = "arviz" not in sys.modules
        if placed:
            sys.modules["arviz"] = _DeferredArviz("arviz")
        try:
            with frames_only_stack():
                import nutpie
        except ImportError:
            return None
        finally:
            if placed and isinstance(sys.modules.get("arviz"), _DeferredArviz):
                del sys.modules["arviz"]
        return nutpie


def import_arviz_stats() -> types.ModuleType:
    """``arviz_stats`` (R-hat, ESS, MCSE, LOO), without the lazy loader's stack walk."""
    with IMPORT_LOCK:
        if "arviz_stats" in sys.modules:
            return sys.modules["arviz_stats"]
        with frames_only_stack():
            import arviz_stats
        return arviz_stats


def import_for_results() -> None:
    """What assembling a Bayesian result imports, done ahead (the sampler's thread calls it).

    ``arviz_stats`` for the convergence checks; and xarray's first Dataset looks for dask
    arrays by importing ``dask.array`` whenever dask is installed (the test and scale
    extras): 0.37 s measured on the quick start, in the sampling's shadow when done here.
    """
    import_arviz_stats()
    if importlib.util.find_spec("dask") is None:
        return
    try:
        from xarray.namedarray.pycompat import array_type

        array_type("dask")
    except Exception:  # noqa: BLE001 -- only a head start; the real use imports it anyway
        pass
