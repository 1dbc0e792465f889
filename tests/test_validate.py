"""Whole-number settings: one check, the same message at every door."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.bayes_options import from_prefix, split_keywords
from bayesmixed.errors import BayesmixedError, SpecificationError, StataSyntaxError
from bayesmixed.syntax import parse_command
from bayesmixed.syntax.options import interpret
from bayesmixed.validate import COUNT, SEED, seed_or_generator, whole_number


@pytest.mark.parametrize("value", [3, 3.0, np.int64(3), np.float32(3.0)])
def test_whole_numbers_pass_as_int(value):
    out = whole_number(value, "n")
    assert out == 3 and type(out) is int


@pytest.mark.parametrize(
    "value, minimum, shown",
    [
        (2.7, COUNT, "2.7"),
        (0, COUNT, "0"),
        (-1, SEED, "-1"),
        ("abc", COUNT, "'abc'"),
        ("5", COUNT, "'5'"),
        (True, COUNT, "True"),
        (float("nan"), SEED, "nan"),
        (float("inf"), COUNT, "inf"),
        (None, COUNT, "None"),
        ([3], COUNT, "[3]"),
    ],
)
def test_bad_values_name_the_setting_and_the_value(value, minimum, shown):
    with pytest.raises(SpecificationError) as info:
        whole_number(value, "draws", minimum)
    message = str(info.value)
    assert message.startswith("draws must be a ")
    assert message.endswith(f"got {shown}")


def test_seed_or_generator():
    rng = np.random.default_rng(1)
    assert seed_or_generator(rng) is rng
    assert seed_or_generator(None) is None
    assert seed_or_generator(7.0) == 7
    with pytest.raises(SpecificationError, match="seed must be a nonnegative whole number"):
        seed_or_generator(-1)


# ------------------------------------------------------------ bayes: prefix


@pytest.mark.parametrize(
    "option, fragment",
    [
        ("rseed(-1)", "rseed() must be a nonnegative whole number, got -1"),
        ("rseed(abc)", "rseed() must be a nonnegative whole number, got abc"),
        ("rseed(1.5)", "rseed() must be a nonnegative whole number, got 1.5"),
        ("mcmcsize(1.5)", "mcmcsize() must be a positive whole number, got 1.5"),
        ("mcmcsize(0)", "mcmcsize() must be a positive whole number, got 0"),
        ("nchains(0)", "nchains() must be a positive whole number, got 0"),
        ("burnin(-5)", "burnin() must be a nonnegative whole number, got -5"),
        ("thinning(0)", "thinning() must be a positive whole number, got 0"),
        ("mcmcsize", "mcmcsize() must be a positive whole number, got nothing"),
    ],
)
def test_bayes_prefix_integer_options(option, fragment):
    command = f"bayes, {option}: mixed y x || g:"
    with pytest.raises(StataSyntaxError) as info:
        parse_command(command)
    assert fragment in str(info.value)
    expected = command.index("(") + 1 if "(" in option else command.index(option)
    assert info.value.column == expected


def test_bayes_prefix_good_integers_reach_the_engine():
    command = parse_command("bayes, mcmcsize(500) burnin(0) nchains(2) rseed(1e3): mixed y x || g:")
    options = from_prefix(interpret(command).estimation.prefix_options)
    assert options == {"draws": 500, "tune": 0, "chains": 2, "seed": 1000}


def test_from_prefix_checks_a_hand_made_dict():
    with pytest.raises(SpecificationError, match=r"mcmcsize\(\) must be a positive whole number"):
        from_prefix({"mcmcsize": 2.5})


# ---------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    "keywords, fragment",
    [
        ({"draws": 1.5}, "draws must be a positive whole number, got 1.5"),
        ({"tune": -1}, "tune must be a nonnegative whole number, got -1"),
        ({"chains": 0}, "chains must be a positive whole number, got 0"),
        ({"seed": -1}, "seed must be a nonnegative whole number, got -1"),
        ({"seed": "abc"}, "seed must be a nonnegative whole number, got 'abc'"),
    ],
)
def test_api_keywords(keywords, fragment):
    with pytest.raises(SpecificationError) as info:
        split_keywords("nuts", keywords)
    assert fragment in str(info.value)


def test_api_keywords_are_normalised():
    _, out = split_keywords("nuts", {"draws": 100.0, "seed": None, "target_accept": 0.9})
    assert out == {"draws": 100, "seed": None, "target_accept": 0.9}
    assert type(out["draws"]) is int


def test_api_refuses_before_fitting():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"y": rng.normal(size=20), "x": rng.normal(size=20), "g": np.arange(20) % 4}
    )
    with pytest.raises(BayesmixedError, match="draws must be a positive whole number, got 2.7"):
        bm.mixed("y x || g:", data, method="nuts", draws=2.7)
