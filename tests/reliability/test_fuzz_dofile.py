"""Fuzz the do-file runner: any do-file either runs or stops with a BayesmixedError.

Seeded do-files from :mod:`.dofile_fuzz` -- workshop commands on tiny data, damaged
in the ways users damage them -- run in-process through :func:`run_do`, some writing
a report.  Any other exception type (an ``IndexError`` from the lexer, a
``RecursionError`` from deep parentheses, a ``UnicodeDecodeError``) is a failure, as is
an input that runs longer than its time limit (a hang).
"""

from __future__ import annotations

import collections

import pytest

from bayesmixed.dofile import run_do
from bayesmixed.errors import BayesmixedError

from .dofile_fuzz import DoFileFuzzer, workshop_commands, write_tiny_datasets
from .fuzz_support import time_limit

FILES = 120
SECONDS_PER_FILE = 10.0  # a tiny ML fit takes well under a second; a hang is caught here


def test_fuzzed_do_files_run_or_raise_bayesmixed_errors(tmp_path):
    write_tiny_datasets(tmp_path)
    fuzzer = DoFileFuzzer(seed=19, commands=workshop_commands())
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    for k in range(FILES):
        name = f"f{k:03d}.do"
        raw, damage = fuzzer.make(name)
        path = tmp_path / name
        path.write_bytes(raw)
        out = tmp_path / "report" if k % 8 == 0 else None
        try:
            with time_limit(SECONDS_PER_FILE):
                run_do(path, out=out)
        except BayesmixedError as err:
            assert str(err).strip(), f"{name}: empty message"
            counts["error"] += 1
        except Exception as err:  # the bug this test exists to find
            failures.append(f"{name} {damage}: {type(err).__name__}: {str(err)[:200]}")
        else:
            counts["ran"] += 1
        for kind in damage:
            counts[f"damage:{kind}"] += 1
    print(f"\ndo-file fuzz: {FILES} files, {dict(sorted(counts.items()))}")
    assert not failures, "\n".join(failures)
    assert counts["ran"] >= FILES // 10, "too few valid files: the generator lost its realism"
    assert counts["error"] >= FILES // 4, "too few errors: the damage does not bite"


@pytest.mark.parametrize("seed", range(3))
def test_generator_is_deterministic(seed):
    commands = workshop_commands()
    assert DoFileFuzzer(seed, commands).make("a.do") == DoFileFuzzer(seed, commands).make("a.do")
