"""Stata number formats, checked on numbers as Stata printed them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayesmixed.results.format import abbrev, fmt_chi2, fmt_f, fmt_fc, fmt_g, fmt_level


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (0.65752281, ".6575228"),  # [ME] mixed
        (13.836781, "13.83678"),
        (6.2098956, "6.209896"),
        (0.039012388, ".0390124"),
        (-0.08254461, "-.0825446"),
        (-1.3365241, "-1.336524"),
        (-0.00160481, "-.0016048"),
        (5.049260, "5.04926"),  # trailing zero dropped
        (35.67140, "35.6714"),
        (25337.49, "25337.49"),
        (0.0000778, ".0000778"),  # three significant digits still fixed
        (0.0000493, ".0000493"),
        (4.80e-06, "4.80e-06"),  # fewer than three: exponential
        (1.04e-09, "1.04e-09"),
        (-1.04e-09, "-1.04e-09"),
        (6.02e-07, "6.02e-07"),
        (12345678.0, "12345678"),
        (123456789.0, "1.23e+08"),
        (9.99999999, "10"),
        (0.999999999, "1"),
        (0.0, "0"),
        (float("nan"), "."),
        (None, "."),
    ],
)
def test_fmt_g_9(value, printed):
    assert fmt_g(value) == printed


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (-2612.040148, "-2612.0401"),
        (-1014.926803, "-1014.9268"),
        (1430.50166, "1430.5017"),
        (-135371.953, "-135371.95"),
        (-13460.9200, "-13460.92"),
        (769.906921, "769.90692"),
        (293.695632, "293.69563"),
    ],
)
def test_fmt_g_10_for_log_likelihoods(value, printed):
    assert fmt_g(value, 10) == printed


def test_fixed_formats():
    assert fmt_fc(39282) == "39,282"
    assert fmt_fc(2.3333, 1) == "2.3"
    assert fmt_f(0.0, 4) == "0.0000"
    assert fmt_f(float("nan"), 2) == "."
    assert fmt_level(95.0) == "95" and fmt_level(99.5) == "99.5"


def test_chi2_statistic_format():
    assert fmt_chi2(472.65) == "472.65"
    assert fmt_chi2(0.0) == "0.00"
    assert fmt_chi2(0.001) == "1.00e-03"
    assert fmt_chi2(123456.7) == "1.23e+05"


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("videorelevant", "videorelev~t"),
        ("capped_daily_grams_log", "capped_dai~g"),
        ("transformed_grams_lambda_1", "transforme~1"),
        ("weight", "weight"),
    ],
)
def test_abbrev_as_stata(name, short):
    assert abbrev(name, 12) == short


@given(st.floats(min_value=1e-99, max_value=1e99) | st.floats(min_value=-1e99, max_value=-1e-99))
def test_fmt_g_fits_its_width_and_keeps_three_digits(x):
    text = fmt_g(x)
    assert len(text) <= 9
    assert math.isclose(float(text), x, rel_tol=5e-3)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_fmt_g_never_overflows_its_width(x):
    assert len(fmt_g(x)) <= 9
