"""Fuzzed files: every mutated save file or damaged .dta ends in a clean package error.

Saved results are mutated *and their checksums recomputed* (see
:mod:`.savefile_fuzz`), so what is exercised is the structure validation: each
input must load into a result whose ``str()`` works, or raise
:class:`ResultFileError` -- and never through the last-resort net in
:func:`bayesmixed.io.load`, which would mean a check is missing.  Damaged
``.dta`` files must raise a :class:`BayesmixedError` naming the file.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError
from bayesmixed.io import ResultFileError, load, save

from .fuzz_support import time_limit
from .savefile_fuzz import bayes_result, damage, dta_bytes, mutate

SEEDS_PER_FILE = 120
LAST_RESORT = " while decoding: "  # the wording of load()'s last-resort net


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz")
    prod, rats = bm.datasets.load("productivity"), bm.datasets.load("rats")
    results = {
        "ar1": bm.mixed("gsp private emp || state: , residuals(ar 1, t(year))", prod),
        "factor": bm.mixed("weight i.dose female || litter:", rats),
        "glmm": bm.stata("mepoisson c_use urban || district:", bm.datasets.load("bangladesh")),
    }
    results["bayes"] = bayes_result(bm.mixed("weight female || litter:", rats).design)
    return {k: save(r, folder / f"{k}.bmr").read_bytes() for k, r in results.items()}


def _outcome(path) -> str:
    with time_limit(5.0):
        try:
            result = load(path)
        except ResultFileError as exc:
            return "net" if LAST_RESORT in str(exc) else "refused"
        assert isinstance(str(result), str)
    return "loaded"


def _fuzz(saved_files, tmp_path, seeds: range) -> Counter:
    counts: Counter = Counter()
    path = tmp_path / "mutated.bmr"
    for data in saved_files.values():
        for seed in seeds:
            path.write_bytes(mutate(data, random.Random(seed)))
            counts[_outcome(path)] += 1
    print(f"\nsave-file fuzz: {dict(counts)}")
    return counts


def test_fuzzed_save_files_load_or_are_refused(saved_files, tmp_path):
    counts = _fuzz(saved_files, tmp_path, range(SEEDS_PER_FILE))
    assert counts["net"] == 0, "a bad file reached load()'s last-resort net: add a check"
    assert counts["loaded"] >= 40 and counts["refused"] >= 250


@pytest.mark.slow
def test_fuzzed_save_files_many(saved_files, tmp_path):
    counts = _fuzz(saved_files, tmp_path, range(SEEDS_PER_FILE, SEEDS_PER_FILE + 1000))
    assert counts["net"] == 0


def test_unmutated_files_round_trip(saved_files, tmp_path):
    for name, data in saved_files.items():
        path = tmp_path / f"{name}.bmr"
        path.write_bytes(data)
        assert _outcome(path) == "loaded", name


def test_damaged_dta_files_raise_a_package_error(tmp_path):
    base = dta_bytes()
    path = tmp_path / "damaged.dta"
    counts: Counter = Counter()
    for seed in range(600):
        path.write_bytes(damage(base, random.Random(seed)))
        with time_limit(5.0):
            try:
                bm.datasets.load(path)
                counts["read"] += 1
            except BayesmixedError as exc:
                assert str(path) in str(exc)
                counts["refused"] += 1
    print(f"\ndamaged .dta: {dict(counts)}")
    assert counts["refused"] >= 100


def test_damaged_dta_through_the_do_file_use_command(tmp_path):
    from bayesmixed.dofile.data_cmds import cmd_use
    from bayesmixed.dofile.session import Session

    (tmp_path / "bad.dta").write_bytes(dta_bytes()[:100])
    session = Session(base_dir=tmp_path)
    with pytest.raises(BayesmixedError, match="bad.dta"):
        cmd_use(session, "use bad.dta")


@pytest.mark.parametrize(
    "value",
    [
        {"$dict": [[{"$tuple": [[1]]}, 1]]},  # a tuple key holding a list
        {"$dict": [[1]]},
        {"$dict": 7},
        {"$timestamp": "not a date"},
        {"$float": "zzz"},
        {"$tuple": 5},
    ],
)
def test_malformed_plain_values_found_by_the_fuzzer(value):
    from bayesmixed.io.values import from_plain_json

    with pytest.raises(ResultFileError):
        from_plain_json(value)


@pytest.mark.parametrize(
    "body",
    [
        {"range": [0, 2**70, 1], "name": None},  # len() overflows in pandas
        {"range": [0, 3], "name": None},
        {"values": [1, [2]], "dtype": None, "name": None},
        {"tuples": [{"$tuple": [1]}], "names": ["a", "b"]},
        [],
    ],
)
def test_malformed_indexes_found_by_the_fuzzer(body):
    from bayesmixed.io.values import Decoder

    with pytest.raises(ResultFileError):
        Decoder(reader=None).index(body)
