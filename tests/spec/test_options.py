"""Typed estimation and display options: one default each, values checked on construction."""

from dataclasses import replace

import pytest

from bayesmixed.errors import BayesmixedError, SpecificationError
from bayesmixed.spec.options import DisplayOptions, EstimationOptions


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"level": 5}, "between 10 and 99.99"),
        ({"level": 100}, "between 10 and 99.99"),
        ({"level": float("nan")}, "between 10 and 99.99"),
        ({"level": "95"}, "must be a number"),
        ({"level": True}, "must be a number"),
        ({"eform": "hr"}, "eform must be one of or, irr, eform"),
        ({"stddeviations": 1}, "stddeviations must be True or False"),
        ({"base": None}, "base must be True or False"),
        ({"log": "yes"}, "log must be True, False or None"),
    ],
)
def test_display_options_refuse_bad_values(fields, match):
    with pytest.raises(SpecificationError, match=match):
        DisplayOptions(**fields)


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"intmethod": "quad"}, "unknown integration method 'quad'"),
        ({"intpoints": 0}, "at least 1"),
        ({"intpoints": 7.0}, "whole number"),
        ({"intpoints": True}, "whole number"),
        ({"dispersion": "free"}, "'mean' or 'constant'"),
        ({"bayes_prefix": (("nchains", [object()]),)}, "malformed value"),
        ({"bayes_prefix": (("nchains", 2), ("nchains", 3))}, "given twice"),
    ],
)
def test_estimation_options_refuse_bad_values(fields, match):
    with pytest.raises(BayesmixedError, match=match):
        EstimationOptions(**fields)


def test_level_is_stored_as_a_float_and_options_are_frozen():
    shown = DisplayOptions(level=90)
    assert isinstance(shown.level, float) and shown.level == 90.0
    with pytest.raises(AttributeError):
        shown.level = 80.0  # type: ignore[misc]
    assert replace(shown, level=80).level == 80.0
