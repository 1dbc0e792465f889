"""The analytic gradient of the component layout's criterion against central differences.

The reference is the criterion itself (checked against the blocked layout, lme4 and a
dense oracle elsewhere), differenced with a Richardson-extrapolated central rule in theta:
independent of the gradient's algebra.  A sign or factor error in any of its three terms
(log|M|, r^2, REML's log|X'V^-1X|) is off by far more than the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.design import build_design
from bayesmixed.engines.ml import components
from bayesmixed.engines.ml.component_gradient import ComponentGradient
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.syntax import formula_to_spec, stata_to_spec

from .test_components import VCOMP2, nested, vcomp2

DESIGNS = {
    "vcomp2": (VCOMP2, lambda: vcomp2(n_groups=20)),
    "nested slope": ("y ~ x + (1 + z | g) + (1 | g:s)", lambda: nested(unequal=True)),
    "nested scalar": ("y ~ x + (1 | g) + (1 | g:s)", lambda: nested()),
}


def richardson(f, theta: np.ndarray) -> np.ndarray:
    """Central differences at h and h/2, extrapolated: error O(h^4)."""
    out = np.empty_like(theta)

    def d(i: int, step: float) -> float:
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        return (f(up) - f(down)) / (2 * step)

    for i in range(len(theta)):
        h = 1e-3 * max(1.0, abs(theta[i]))
        out[i] = (4 * d(i, h / 2) - d(i, h)) / 3
    return out


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("name", list(DESIGNS))
def test_gradient_equals_differences_of_the_criterion(name, reml):
    formula, data = DESIGNS[name]
    frame = data()
    design = build_design(formula_to_spec(formula, frame, reml=reml), frame)
    dev = make_deviance(design, reml)
    assert isinstance(dev, components.ComponentDeviance)
    grad = ComponentGradient.build(dev)
    rng = np.random.default_rng(7)
    for _ in range(3):
        theta = 0.3 + rng.uniform(0, 1, dev.n_theta)
        value, g = grad(theta)
        assert value == pytest.approx(dev(theta), rel=1e-13)
        fd = richardson(dev, theta)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


def test_no_gradient_for_frequency_weighted_levels_or_the_blocked_layout():
    frame = nested()
    design = build_design(formula_to_spec("y ~ x + (1 | g)", frame, reml=False), frame)
    assert ComponentGradient.build(make_deviance(design, False)) is None  # one block
    frame["w"] = 1 + frame["g"] % 3  # copies of each g group: a pivot counts w times
    spec = stata_to_spec("mixed y x || g:, fweight(w) || s:", frame)
    dev = make_deviance(build_design(spec, frame), False)
    assert isinstance(dev, components.ComponentDeviance) and dev.cp.copies is not None
    assert ComponentGradient.build(dev) is None
