"""Moment starts for theta: near the truth when several intercept blocks share the rows.

The truths are simulated with many groups, so the method-of-moments answer is close to
them; the tolerances (a quarter of the relative standard deviation) are far below the
errors of counting nested effects twice (grouse's shape started at 10 times its optimum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.design import build_design
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.engines.ml.start import moment_start
from bayesmixed.syntax import formula_to_spec


def _start(formula: str, data: pd.DataFrame) -> dict[str, float]:
    design = build_design(formula_to_spec(formula, data), data)
    dev = make_deviance(design, False)
    default = [b.structure.theta_start() for b in (design.blocks[i] for i in dev.cp.order)]
    theta = moment_start(design, dev.cp.order, default)
    keys = [design.blocks[i].key for i in dev.cp.order]
    return dict(zip(keys, theta[: len(keys)]))


def _nested(seed=1, outer=300, inner=4, rows=5, sd_outer=1.0, sd_inner=0.6, sd_e=0.8):
    rng = np.random.default_rng(seed)
    o = np.repeat(np.arange(outer), inner * rows)
    i = np.repeat(np.arange(outer * inner), rows)
    y = rng.normal(0, sd_outer, outer)[o] + rng.normal(0, sd_inner, outer * inner)[i]
    return pd.DataFrame({"y": y + rng.normal(0, sd_e, y.size), "o": o, "i": i})


def _crossed(seed=2, n=20000, a=400, b=300, sd_a=0.7, sd_b=0.5, sd_e=1.0):
    rng = np.random.default_rng(seed)
    ia, ib = rng.integers(0, a, n), rng.integers(0, b, n)
    y = rng.normal(0, sd_a, a)[ia] + rng.normal(0, sd_b, b)[ib] + rng.normal(0, sd_e, n)
    return pd.DataFrame({"y": y, "a": ia, "b": ib})


def test_nested_intercepts_start_near_the_truth():
    start = _start("y ~ 1 + (1 | o) + (1 | i)", _nested())
    assert start["o"] == pytest.approx(1.0 / 0.8, rel=0.25)
    assert start["i"] == pytest.approx(0.6 / 0.8, rel=0.25)


def test_crossed_intercepts_start_near_the_truth():
    start = _start("y ~ 1 + (1 | a) + (1 | b)", _crossed())
    assert start["a"] == pytest.approx(0.7, rel=0.25)
    assert start["b"] == pytest.approx(0.5, rel=0.25)


def test_random_slopes_are_not_counted_as_noise():
    """Two random slopes (relative variance 1 at their own start) beside nested
    intercepts: sigma_e^2 excludes the slopes' share, so the intercepts start near
    their truth (2) instead of near 2 / sqrt(3)."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(300), 16)
    z = rng.normal(size=(g.size, 2))
    v1, v2 = np.repeat(np.arange(g.size // 4), 4), np.repeat(np.arange(g.size // 2), 2)
    y = (rng.normal(size=(300, 2))[g] * z).sum(1)
    y += 2 * rng.normal(size=v1.max() + 1)[v1] + 2 * rng.normal(size=v2.max() + 1)[v2]
    y += rng.normal(size=g.size)
    data = pd.DataFrame({"y": y, "z1": z[:, 0], "z2": z[:, 1], "g": g, "v1": v1, "v2": v2})
    start = _start("y ~ 1 + (0 + z1 + z2 | g) + (1 | v1) + (1 | v2)", data)
    assert start["v1"] == pytest.approx(2.0, rel=0.25)
    assert start["v2"] == pytest.approx(2.0, rel=0.25)
