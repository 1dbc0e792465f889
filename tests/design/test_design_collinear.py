"""Collinearity scan: exact dependencies found, informative columns kept."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.design.collinear import collinear_columns

RNG = np.random.default_rng(3)


def with_cons(*cols):
    return np.column_stack([*cols, np.ones(len(cols[0]))])


def test_independent_columns_are_all_kept():
    X = with_cons(*RNG.normal(size=(4, 500)))
    assert collinear_columns(X, constant=True) == []


def test_exact_combination_of_earlier_columns_is_dropped():
    a, b = RNG.normal(size=(2, 300))
    X = with_cons(a, b, 0.5 * a - 2 * b + 7, RNG.normal(size=300))
    assert collinear_columns(X, constant=True) == [2]


def test_badly_scaled_but_informative_columns_survive():
    # years around 1980 and their square differ from the constant and each other
    # only by a relative amount of ~1e-3 to 1e-6; they still carry information.
    year = np.repeat(np.arange(1970.0, 1987.0), 48)
    X = with_cons(year, year**2, 1e6 * RNG.normal(size=year.size))
    assert collinear_columns(X, constant=True) == []


def test_constant_and_zero_columns_are_dropped():
    n = 50
    X = with_cons(RNG.normal(size=n), np.full(n, 1e8), np.zeros(n))
    assert collinear_columns(X, constant=True) == [1, 2]


def test_without_constant_only_zero_and_dependent_columns_go():
    n = 50
    a = RNG.normal(size=n)
    X = np.column_stack([np.full(n, 3.0), a, np.zeros(n), 2 * a])
    assert collinear_columns(X, constant=False) == [2, 3]


def test_dummies_summing_to_one_lose_the_last_one_to_the_constant():
    codes = RNG.integers(0, 4, 200)
    dummies = [(codes == k).astype(float) for k in range(4)]
    assert collinear_columns(with_cons(*dummies), constant=True) == [3]


@pytest.mark.parametrize("shift", [1e7, 3e7, 1.7e9])
def test_a_covariate_far_from_zero_is_not_constant(shift):
    # issue 19: x + 3e7 (timestamps) was omitted as collinear with the constant
    x = RNG.normal(size=60)
    assert collinear_columns(with_cons(x + shift), constant=True) == []
    assert collinear_columns(with_cons(x + shift, 2 * x + 1), constant=True) == [1]
