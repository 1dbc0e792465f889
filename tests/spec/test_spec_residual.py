"""Residual structures: maps, correlation matrices, names, parameter packing."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.errors import SpecificationError
from bayesmixed.spec.model import ResidualSpec
from bayesmixed.spec.residual import (
    ar_acf,
    ar_to_pacf,
    corr_to_cpc,
    cpc_to_corr,
    ma_acf,
    make_structure,
    pacf_to_ar,
    residual_model,
)

RNG = np.random.default_rng(3)
TIMES = np.array([1.0, 2.0, 4.0, 5.0, 9.0])
LEVELS = np.array([0, 1, 3, 4, 5])
LABELS = (1, 2, 3, 4, 5, 9)


def test_ar1_acf_and_gaps_use_time_lags():
    s = make_structure("ar", 1)
    z = s.working(np.array([0.6]))
    r = s.correlation(z, TIMES, LEVELS)
    assert r[0, 2] == pytest.approx(0.6**3)
    assert r[3, 4] == pytest.approx(0.6**4)


def test_ar2_yule_walker_closed_form():
    phi = np.array([0.5, 0.3])
    acf = ar_acf(phi, 4)
    rho1 = phi[0] / (1 - phi[1])
    assert acf[1] == pytest.approx(rho1)
    assert acf[2] == pytest.approx(phi[0] * rho1 + phi[1])
    assert acf[3] == pytest.approx(phi[0] * acf[2] + phi[1] * acf[1])


def test_ma_acf_closed_form_and_cutoff():
    acf = ma_acf(np.array([0.4, -0.2]), 4)
    den = 1 + 0.16 + 0.04
    assert acf[1] == pytest.approx((0.4 - 0.08) / den)
    assert acf[2] == pytest.approx(-0.2 / den)
    assert acf[3] == acf[4] == 0.0


def test_pacf_maps_round_trip():
    pacf = np.tanh(RNG.normal(size=4))
    phi = pacf_to_ar(pacf)
    assert np.allclose(ar_to_pacf(phi), pacf)
    roots = np.roots(np.concatenate([-phi[::-1], [1.0]]))
    assert np.all(np.abs(roots) > 1)  # stationary for every z


def test_cpc_round_trip_is_positive_definite():
    w = np.tanh(RNG.normal(size=10))
    r = cpc_to_corr(w, 5)
    assert np.allclose(np.diag(r), 1) and np.all(np.linalg.eigvalsh(r) > 0)
    assert np.allclose(corr_to_cpc(r), w)


@pytest.mark.parametrize(
    "kind,order",
    [
        ("exchangeable", None),
        ("ar", 1),
        ("ar", 3),
        ("ma", 2),
        ("toeplitz", 2),
        ("exponential", None),
        ("unstructured", None),
        ("banded", 2),
    ],
)
def test_correlation_is_a_correlation_and_working_round_trips(kind, order):
    s = make_structure(kind, order, LABELS, max_size=5)
    z = 0.3 * RNG.normal(size=s.n_corr)
    r = s.correlation(z, TIMES, LEVELS)
    assert r.shape == (5, 5) and np.allclose(r, r.T) and np.allclose(np.diag(r), 1)
    assert np.all(np.linalg.eigvalsh(r) > 0)
    assert np.allclose(s.working(s.natural(z)), z)
    batch = s.correlation(z, np.stack([TIMES, TIMES + 1]), np.stack([LEVELS, LEVELS]))
    assert batch.shape == (2, 5, 5) and np.allclose(batch[0], r)


def test_toeplitz_zero_beyond_order_and_exponential_real_times():
    t = make_structure("toeplitz", 1)
    r = t.correlation(np.array([np.arctanh(0.4)]), TIMES, LEVELS)
    assert r[0, 1] == pytest.approx(0.4) and r[0, 2] == 0.0
    e = make_structure("exponential")
    times = np.array([0.0, 0.5, 1.7])
    r = e.correlation(e.working(np.array([0.8])), times, LEVELS[:3])
    assert r[0, 2] == pytest.approx(0.8**1.7)


def test_banded_keeps_pairs_within_band_by_level():
    s = make_structure("banded", 1, LABELS)
    n = len(LABELS)
    assert s.n_levels + s.n_corr == (1 + 1) * (2 * n - 1) // 2  # Stata: (q+1)(2n-q)/2
    r = s.correlation(np.full(s.n_corr, 0.2), TIMES, LEVELS)
    assert r[0, 1] != 0 and r[1, 2] == 0  # levels 1 and 3 are two apart
    assert make_structure("banded", 0, LABELS).diagonal
    assert make_structure("banded", 7, LABELS).label == "Unstructured"


def test_exchangeable_stays_positive_definite_at_extremes():
    s = make_structure("exchangeable", max_size=5)
    for z in (-30.0, 30.0, 0.0):
        r = s.correlation(np.array([z]), TIMES, LEVELS)
        assert np.all(np.linalg.eigvalsh(r) > -1e-12)


def test_model_packing_names_and_title():
    m = residual_model(ResidualSpec("ar", 1, "year", "g"), by_labels=(0, 1))
    assert m.n_params == 3 and m.title == "Residual: AR(1), by g"
    z, log_sd = m.unpack(np.array([0.1, 0.2, 0.3]))
    assert z.tolist() == [[0.1], [0.2]] and log_sd.tolist() == [[0.0], [0.3]]
    assert np.allclose(m.pack(z, log_sd), [0.1, 0.2, 0.3])
    rows = m.printed(np.array([0.1, 0.2, 0.3]), 2.0)
    assert [r[0] for r in rows] == ["0: rho", "0: var(e)", "1: rho", "1: var(e)"]
    assert rows[3][1] == pytest.approx(2.0 * np.exp(0.6))


def test_independent_by_and_unstructured_labels():
    m = residual_model(ResidualSpec("independent", None, None, "female"), by_labels=(0, 1))
    assert m.title == "Residual: Independent, by female"
    assert [r[0] for r in m.printed(np.array([0.5]), 1.0)] == ["0: var(e)", "1: var(e)"]
    u = residual_model(ResidualSpec("unstructured", None, "t"), level_labels=(1, 2, 3))
    names = [r[0] for r in u.printed(u.start(), 1.0)]
    assert names == ["var(e1)", "var(e2)", "var(e3)", "cov(e1,e2)", "cov(e1,e3)", "cov(e2,e3)"]
    assert [r[0] for r in make_structure("ma", 2).printed(np.zeros(2), [1.0])][:2] == [
        "theta1",
        "theta2",
    ]


def test_panel_cov_scales_by_group_sd():
    m = residual_model(ResidualSpec("independent", None, None, "g"), by_labels=("a", "b"))
    c = m.panel_cov(np.array([np.log(2.0)]), TIMES[:3], np.zeros(3, int), np.array([0, 1, 1]))
    assert np.allclose(c, np.diag([1.0, 4.0, 4.0]))


def test_unknown_structure_is_a_specification_error():
    with pytest.raises(SpecificationError, match="unknown residual structure"):
        make_structure("spherical")
