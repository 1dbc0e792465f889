"""``contrast`` of interactions after mixed (issue 15): r.a#r.b contrasts and joint tests.

Reference: tests/reference/contrast_interaction.R (lme4 + emmeans, ML, the rats data) ->
contrast_interaction.json: emmeans' interaction contrasts (trt.vs.ctrl x trt.vs.ctrl) on
the balanced reference grid, which is Stata's "asbalanced", and the joint Wald chi2 of
each term (computed in R from fixef/vcov and checked there against emmeans' joint test).
Model A is a 3 x 2 interaction (dose#female), model B a 3 x 3 one (dose#sizeg), where
every r.a#r.b contrast combines four cells with signs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Output
from bayesmixed.errors import BayesmixedError

REF_DIR = Path(__file__).parents[1] / "reference"
REF = json.loads((REF_DIR / "contrast_interaction.json").read_text())
RTOL = 1e-6


@pytest.fixture(scope="module")
def data():
    frame = pd.read_csv(REF_DIR / "margins_rats.csv")
    frame["sizeg"] = (frame["size"] >= 12).astype(int) + (frame["size"] >= 14).astype(int)
    return frame


@pytest.fixture(scope="module")
def fits(data):
    return {
        "dose_female": bm.stata("mixed weight i.dose##i.female size || litter:", data),
        "dose_sizeg": bm.stata("mixed weight i.dose##i.sizeg female || litter:", data),
    }


SECOND = {"dose_female": "female", "dose_sizeg": "sizeg"}


def emmeans_order(n_a: int, n_b: int) -> list[int]:
    """emmeans lists (a, b) contrasts with a fastest; Stata (and we) with b fastest."""
    return [j + n_a * k for j in range(n_a) for k in range(n_b)]


def close(actual, expected):
    np.testing.assert_allclose(
        np.asarray(actual, float), np.atleast_1d(np.asarray(expected, float)), rtol=RTOL
    )


@pytest.mark.parametrize("model", list(SECOND))
def test_fits_match_lme4(fits, model):
    assert fits[model].loglik == pytest.approx(REF[model]["loglik"], abs=1e-6)


@pytest.mark.parametrize("model", list(SECOND))
def test_interaction_contrasts_match_emmeans(fits, data, model):
    b = SECOND[model]
    c = fits[model].contrast(f"r.dose#r.{b}, effects", data=data)
    ref = REF[model]["interaction"]
    n_b = len(np.unique(data[b])) - 1
    order = emmeans_order(2, n_b)
    for col in ("estimate", "se", "z", "p", "lower", "upper"):
        close(c.table[col], np.asarray(ref[col])[order])
    (t,) = c.tests
    assert t.df == ref["df"] == 2 * n_b
    assert t.chi2 == pytest.approx(ref["chi2"], rel=RTOL)
    assert t.p == pytest.approx(ref["joint_p"], rel=RTOL)
    assert c.labels[0] == "(1 vs 0) (1 vs 0)"
    if n_b == 2:
        assert c.labels == ["(1 vs 0) (1 vs 0)", "(1 vs 0) (2 vs 0)",
                            "(2 vs 0) (1 vs 0)", "(2 vs 0) (2 vs 0)"]  # fmt: skip


@pytest.mark.parametrize("model", list(SECOND))
def test_joint_tests_of_main_effects_and_interaction(fits, data, model):
    b = SECOND[model]
    c = fits[model].contrast(f"dose {b} dose#{b}", data=data)
    refs = [REF[model]["main_a"], REF[model]["main_b"], REF[model]["interaction"]]
    assert [t.term for t in c.tests] == ["dose", b, f"dose#{b}"]
    for t, ref in zip(c.tests, refs):
        assert t.df == ref["df"]
        assert t.chi2 == pytest.approx(ref["chi2"], rel=RTOL)
        assert t.p == pytest.approx(ref["joint_p"], rel=RTOL)
    # a main effect in an interaction model: the balanced average over the other factor
    main = fits[model].contrast("r.dose", data=data)
    close(main.table["estimate"], refs[0]["estimate"])
    close(main.table["se"], refs[0]["se"])


def test_printed_layout(fits, data):
    fit = fits["dose_female"]
    text = str(fit.contrast("dose female dose#female", data=data))
    assert "Contrast " not in text  # no operator: the joint tests only
    assert "       dose#female |          2        0.97     0.6144" in text
    assert "              dose |          2       26.83     0.0000" in text
    listed = str(fit.contrast("r.dose#r.female", data=data))
    assert "(2 vs 0) (1 vs 0)  |          1        0.71     0.4004" in listed
    assert "            Joint  |          2        0.97     0.6144" in listed
    assert "(1 vs 0) (1 vs 0)  |   .0841439   .1050209" in listed


def test_errors(fits, data):
    plain = bm.stata("mixed weight i.dose i.female size || litter:", data)
    with pytest.raises(BayesmixedError, match="not testable"):
        plain.contrast("dose#female", data=data)
    fit = fits["dose_female"]
    with pytest.raises(BayesmixedError, match="r. on every factor"):
        fit.contrast("r.dose#female", data=data)
    with pytest.raises(BayesmixedError, match="only the r. operator"):
        fit.contrast("ar.dose", data=data)
    with pytest.raises(BayesmixedError, match="factor variables required"):
        fit.contrast("r.dose#r.size", data=data)
    with pytest.raises(BayesmixedError, match="one factor"):
        fit.pwcompare("dose#female", data=data)


def test_dofile_contrast_of_an_interaction(tmp_path, data):
    path = tmp_path / "t.do"
    path.write_text(
        "use rats\nmixed weight i.dose##i.female size || litter:\ncontrast r.dose#r.female dose\n"
    )
    session = run_do(path)
    text = next(e.text for e in session.log if isinstance(e, Output) and "contrast" in e.command)
    fit = bm.stata("mixed weight i.dose##i.female size || litter:", bm.datasets.load("rats"))
    assert text == str(fit.contrast("r.dose#r.female dose", data=bm.datasets.load("rats")))
    assert "dose#female |" in text and "Joint" in text
