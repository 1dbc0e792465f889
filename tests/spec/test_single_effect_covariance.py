"""One random effect: every covariance structure is a single variance (issue 17).

Stata fits ``|| school:, cov(exchangeable)`` and labels it Identity; it used to
raise a raw IndexError here.
"""

from __future__ import annotations

import pytest

import bayesmixed as bm
from bayesmixed.spec.model import Component, RandomEquation, Term


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="module")
def plain(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp)


@pytest.mark.parametrize("cov", ["exchangeable", "exch", "unstructured", "identity"])
def test_single_intercept_fits_with_any_structure(jsp, plain, cov):
    r = bm.mixed(f"math5 math3 || school:, cov({cov})", data=jsp)
    assert r.loglik == pytest.approx(plain.loglik, abs=1e-6)
    assert float(r.re_cov["school"].to_numpy()[0, 0]) == pytest.approx(
        float(plain.re_cov["school"].to_numpy()[0, 0]), rel=1e-5
    )


def test_exchangeable_single_effect_is_printed_as_identity(jsp):
    text = str(bm.mixed("math5 math3 || school:, cov(exch)", data=jsp))
    assert "school: Identity" in text and "cov(" not in text


def test_exchangeable_reduces_to_identity_only_with_one_effect():
    slope = (Term((Component("x", "c"),)),)
    assert RandomEquation(("g",), (), True, "exchangeable").structure.name == "identity"
    assert RandomEquation(("g",), slope, False, "exchangeable").structure.name == "identity"
    assert RandomEquation(("g",), slope, True, "exchangeable").structure.name == "exchangeable"
