"""The Bayesian kernels compiled once, when the package is installed, not on a first fit.

Why: numba compiles the integrated Gaussian density, its C callback for nutpie and the
residual kernels in ~13 s (the GLMM kernel and its callback, :mod:`.bayes.fast_glmm_kernel`,
add ~4 s) on a quiet 2-core machine (measured with numba 0.68: ~9 s of it in
LLVM, because each caller re-optimizes and re-emits the code of everything it calls; neither
a lower ``NUMBA_OPT`` nor IR inlining helped: 12.8 s and 36 s).  Every new user met that on
the first ``bayes:`` fit: the quick start took 24 s in a fresh process against 7 s with the
compiled code present.  ``bayesmixed precompile`` -- run by ``scripts/setup.sh`` right after
the install, as a C extension is built at install -- compiles them in a fresh process and
keeps numba's cache files in the package's own folder (:data:`FOLDER`).

What is read, and when: each kernel's numba cache object reads that folder first and writes
what it compiles itself to numba's usual cache (``NUMBA_CACHE_DIR``, ``__pycache__``), so a
fit never writes into the package and the folder only ever holds what the install built.
numba validates every entry as it does its own (numba version, the source file's hash, the
CPU).  On top of that the folder's manifest records the hash of every kernel source and the
numba and Python versions, and the whole folder is ignored when one differs: a cached
caller embeds its callees' code, which numba's per-file check would not notice.

``BAYESMIXED_PRECOMPILED=off`` ignores the folder (to time a compile from nothing);
``BAYESMIXED_PRECOMPILED=/some/dir`` uses another one.  This module imports only the
standard library at the top, so ``scripts/setup.sh`` can run it as a script to check the
folder without importing the package.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
FOLDER = PACKAGE / "_precompiled"
MANIFEST = "manifest.json"
#: every source whose compiled code the folder holds (a caller's entry embeds its callees)
SOURCES = (
    "engines/bayes/fast_kernels.py",
    "engines/bayes/fast_compiled.py",
    "engines/bayes/fast_cfunc.py",
    "engines/bayes/fast_glmm_kernel.py",
)

_STATE: dict = {"build": None, "usable": None}


def folder() -> Path | None:
    """The folder to read, or None when ``BAYESMIXED_PRECOMPILED=off``."""
    chosen = os.environ.get("BAYESMIXED_PRECOMPILED", "")
    if chosen.lower() in {"off", "0", "no", "false"}:
        return None
    return Path(chosen) if chosen else FOLDER


def manifest() -> dict:
    """What a folder built from this checkout with this numba and Python must record."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        numba_version = version("numba")
    except PackageNotFoundError:
        numba_version = None
    sources = {name: _sha256(PACKAGE / name) for name in SOURCES}
    python = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"
    return {"numba": numba_version, "python": python, "sources": sources}


def usable(where: Path | None = None) -> bool:
    """Whether ``where`` (default :func:`folder`) holds a build of exactly these sources."""
    where = folder() if where is None else where
    if where is None:
        return False
    try:
        recorded = json.loads((where / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return recorded == manifest()


def attach(compiled) -> None:
    """Make a numba dispatcher or cfunc (made with ``cache=True``) read the folder first.

    Call it before the object's first compile.  While :func:`build` runs, the object reads
    and writes the folder being built instead.  Anything unexpected in numba's cache
    object leaves it as numba made it: the kernels then compile as before.
    """
    cache = getattr(compiled, "_cache", None)
    inner = getattr(cache, "_cache_file", None)
    if inner is None or not hasattr(inner, "load"):
        return
    try:
        package = _index_file(cache, _STATE["build"] or _read_folder())
    except Exception:  # noqa: BLE001 -- numba's internals moved: leave its cache alone
        return
    if package is None:
        return
    cache._cache_file = package if _STATE["build"] else ReadFirst(package, inner)


def _read_folder() -> Path | None:
    if _STATE["usable"] is None:
        _STATE["usable"] = usable()
    return folder() if _STATE["usable"] else None


def _index_file(cache, where: Path | None):
    if where is None:
        return None
    from numba.core.caching import IndexDataCacheFile

    stamp = cache._impl.locator.get_source_stamp()
    return IndexDataCacheFile(str(where), cache._impl.filename_base, stamp)


class ReadFirst:
    """numba's index-and-data cache file, reading the package's entries before the user's."""

    def __init__(self, package, user) -> None:
        self.package, self.user = package, user

    def load(self, key):
        try:
            data = self.package.load(key)
        except Exception:  # noqa: BLE001 -- an unreadable entry: numba's own cache decides
            data = None
        return data if data is not None else self.user.load(key)

    def save(self, key, data) -> None:
        self.user.save(key, data)

    def flush(self) -> None:
        self.user.flush()


def cfunc(function, signature, **options):
    """``numba.cfunc(signature, cache=True, **options)(function)``, reading the folder first."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    compiled = CFunc(function, sigutils.normalize_signature(signature), {}, options)
    compiled.enable_caching()
    attach(compiled)
    compiled.compile()
    return compiled


def build(where: Path | None = None, say=print) -> Path:
    """Compile every kernel in this (fresh) process into ``where`` (default :data:`FOLDER`).

    The new folder is filled beside the old one and swapped in complete, so a process
    reading the old one never sees half a build.  Returns the folder.
    """
    from .bayes import fast_cfunc, fast_compiled, fast_glmm_kernel, fast_kernels

    if fast_kernels._KERNELS or fast_compiled._COMPILED:  # they would not be saved again
        raise RuntimeError("build() needs a process that has not compiled the kernels yet")
    target = Path(where) if where is not None else FOLDER
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".precompiling-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; every user of the install reads it
    started = time.perf_counter()
    try:
        _STATE["build"] = staging
        kernels = (fast_cfunc.compiled(), fast_kernels.residual_kernel(),
                   fast_glmm_kernel.compiled())  # fmt: skip
        if any(k is None for k in kernels):
            raise RuntimeError("numba could not compile the kernels here")
        (staging / MANIFEST).write_text(json.dumps(manifest(), indent=1, sort_keys=True))
        _swap_in(staging, target)
    finally:
        _STATE["build"] = None
        shutil.rmtree(staging, ignore_errors=True)
    say(f"compiled the Bayesian kernels into {target} in {time.perf_counter() - started:.1f} s")
    return target


def _swap_in(staging: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


if __name__ == "__main__":  # ``python .../precompiled.py --check``: exit 0 when up to date
    sys.exit(0 if "--check" in sys.argv[1:] and usable() else 1)
