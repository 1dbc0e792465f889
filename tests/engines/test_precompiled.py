"""The kernels compiled at install: read only when they match the sources, never written by a fit.

:mod:`bayesmixed.engines.precompiled` lets numba's cache objects read the package's own
folder before the user's cache.  A stale folder (an edited kernel, another numba or
Python) must be ignored as a whole, a fit must write what it compiles to the user's cache
only, and a build must be loaded by a fresh process with an empty numba cache without
compiling anything (the point of the exercise: the first ``bayes:`` fit of a new user).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bayesmixed.engines import precompiled


def write_manifest(folder, **changes) -> None:
    recorded = precompiled.manifest() | changes
    folder.mkdir(exist_ok=True)
    (folder / precompiled.MANIFEST).write_text(json.dumps(recorded))


def test_usable_only_for_exactly_these_sources(tmp_path):
    assert not precompiled.usable(tmp_path)  # no manifest
    write_manifest(tmp_path)
    assert precompiled.usable(tmp_path)
    sources = dict(precompiled.manifest()["sources"])
    sources["engines/bayes/fast_kernels.py"] = "0" * 64  # a callee edited since the build
    write_manifest(tmp_path, sources=sources)
    assert not precompiled.usable(tmp_path)
    write_manifest(tmp_path, numba="0.1.0")
    assert not precompiled.usable(tmp_path)
    write_manifest(tmp_path, python="cpython-3.0")
    assert not precompiled.usable(tmp_path)
    (tmp_path / precompiled.MANIFEST).write_text("{not json")
    assert not precompiled.usable(tmp_path)


def test_manifest_covers_every_compiled_source():
    sources = precompiled.manifest()["sources"]
    assert set(sources) == set(precompiled.SOURCES)
    assert all(isinstance(digest, str) and len(digest) == 64 for digest in sources.values())


def test_folder_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("BAYESMIXED_PRECOMPILED", "off")
    assert precompiled.folder() is None
    assert not precompiled.usable()
    monkeypatch.setenv("BAYESMIXED_PRECOMPILED", str(tmp_path))
    assert precompiled.folder() == tmp_path
    monkeypatch.delenv("BAYESMIXED_PRECOMPILED")
    assert precompiled.folder() == precompiled.FOLDER


class FakeFile:
    def __init__(self, entries=None) -> None:
        self.entries, self.flushed = dict(entries or {}), False

    def load(self, key):
        return self.entries.get(key)

    def save(self, key, data) -> None:
        self.entries[key] = data

    def flush(self) -> None:
        self.flushed = True


def test_read_first_reads_the_package_then_the_user_and_writes_the_user():
    package, user = FakeFile({"a": 1}), FakeFile({"a": 2, "b": 3})
    both = precompiled.ReadFirst(package, user)
    assert both.load("a") == 1 and both.load("b") == 3 and both.load("c") is None
    both.save("c", 4)
    both.flush()
    assert user.entries["c"] == 4 and "c" not in package.entries and user.flushed


def test_read_first_survives_an_unreadable_package_entry():
    class Broken(FakeFile):
        def load(self, key):
            raise EOFError("truncated pickle")

    both = precompiled.ReadFirst(Broken(), FakeFile({"a": 2}))
    assert both.load("a") == 2 and both.load("b") is None


def test_build_refuses_a_process_that_compiled_already(monkeypatch):
    from bayesmixed.engines.bayes import fast_kernels

    monkeypatch.setitem(fast_kernels._KERNELS, "evaluate", None)
    with pytest.raises(RuntimeError, match="not compiled the kernels yet"):
        precompiled.build()


LOAD = """
import json, sys
from bayesmixed.engines.bayes import fast_cfunc, fast_compiled, fast_kernels
logp, expand = fast_cfunc.compiled()
hits = [logp._cache_hits, expand._cache_hits, fast_kernels.residual_kernel().stats.cache_hits,
        fast_compiled.compiled().stats.cache_hits]
print(json.dumps({"hits": [int(h if isinstance(h, int) else sum(h.values())) for h in hits]}))
"""


def run(code_or_args, env: dict, cwd) -> subprocess.CompletedProcess:
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], env=os.environ | env, cwd=cwd, capture_output=True,
        text=True, timeout=600, check=True,
    )  # fmt: skip


def numba_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.suffix in {".nbi", ".nbc"}]


@pytest.mark.slow
def test_a_build_is_loaded_by_a_fresh_process_without_compiling(tmp_path):
    built, first, second = tmp_path / "built", tmp_path / "cache1", tmp_path / "cache2"
    build = run(
        ["-m", "bayesmixed", "precompile", "--folder", str(built)],
        {"NUMBA_CACHE_DIR": str(first)}, tmp_path,
    )  # fmt: skip
    assert "compiled the Bayesian kernels" in build.stdout
    assert precompiled.usable(built)
    assert numba_files(built) and not numba_files(first)  # the build wrote its folder only

    loaded = run(LOAD, {"NUMBA_CACHE_DIR": str(second), "BAYESMIXED_PRECOMPILED": str(built)},
                 tmp_path)  # fmt: skip
    hits = json.loads(loaded.stdout.strip().splitlines()[-1])["hits"]
    assert all(h >= 1 for h in hits), hits  # every kernel came from the build
    assert not numba_files(second)  # and nothing was compiled into the user's cache

    ignored = run(LOAD, {"NUMBA_CACHE_DIR": str(second), "BAYESMIXED_PRECOMPILED": "off"},
                  tmp_path)  # fmt: skip
    hits = json.loads(ignored.stdout.strip().splitlines()[-1])["hits"]
    assert hits == [0, 0, 0, 0]  # compiled from nothing, into the user's cache
    assert numba_files(second)
