"""Small designs for the Bayesian engine's tests, built without the parser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayesmixed.design import build_design
from bayesmixed.design.types import Design
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term

ROOT = Path(__file__).resolve().parents[3]


def terms(*names: str) -> tuple[Term, ...]:
    return tuple(Term((Component(n),)) for n in names)


def jsp_spec(cov: str = "unstructured", reml: bool = False) -> ModelSpec:
    eq = RandomEquation(("school",), terms("math3"), True, cov)
    return ModelSpec("math5", terms("math3"), (eq,), reml=reml)


def jsp_design(cov: str = "unstructured", reml: bool = False) -> Design:
    return build_design(jsp_spec(cov, reml), pd.read_csv(ROOT / "data/jsp2.csv"))


def grunfeld_design() -> Design:
    eqs = (
        RandomEquation(("_all",), (), True, "identity", factor="company"),
        RandomEquation(("year",)),
    )
    spec = ModelSpec("invest", terms("mvalue", "cstock"), eqs)
    return build_design(spec, pd.read_csv(ROOT / "data/grunfeld.csv"))


def toy_design(cov: str = "unstructured", seed: int = 0, n_groups: int = 6) -> Design:
    """A tiny random-slope plus crossed-intercept data set with known structure."""
    rng = np.random.default_rng(seed)
    n = n_groups * 5
    frame = pd.DataFrame(
        {
            "g": np.repeat(np.arange(n_groups), 5),
            "h": np.tile(np.arange(5), n_groups),
            "x": rng.normal(size=n),
        }
    )
    frame["y"] = 1 + 0.5 * frame.x + rng.normal(size=n_groups)[frame.g] + rng.normal(size=n)
    eqs = (
        RandomEquation(("_all",), (), True, "identity", factor="h"),
        RandomEquation(("g",), terms("x"), True, cov),
    )
    return build_design(ModelSpec("y", terms("x"), eqs), frame)


def slope_design(seed: int = 0, n_groups: int = 8) -> Design:
    """One random-slope equation (the blocked path), tiny."""
    design = toy_design("unstructured", seed, n_groups)
    frame = pd.DataFrame({"g": design.blocks[1].codes, "x": design.X[:, 0], "y": design.y})
    eq = RandomEquation(("g",), terms("x"), True, "unstructured")
    return build_design(ModelSpec("y", terms("x"), (eq,)), frame)
