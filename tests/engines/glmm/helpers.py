"""Hand-built GLMM designs (the Stata/formula front ends are tested elsewhere)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmixed.design.types import Design, REBlock
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term

ROOT = Path(__file__).resolve().parents[3]
REF = json.loads((ROOT / "tests/reference/glmm_lme4.json").read_text())


def load(name: str) -> pd.DataFrame:
    if name == "bangladesh":
        return pd.read_csv(ROOT / "data/bangladesh.csv")
    return pd.read_csv(ROOT / f"tests/reference/{name}.csv")


def make_design(
    frame: pd.DataFrame,
    response: str,
    covariates: list[str],
    levels: list[tuple[tuple[str, ...], list[str], str]],
    family: str = "bernoulli",
    link: str = "logit",
    trials: str | None = None,
) -> Design:
    """levels: (path, slopes, covariance) per equation, highest level first."""
    eqs, blocks = [], []
    for path, slopes, cov in levels:
        eq = RandomEquation(path, tuple(Term((Component(s),)) for s in slopes), covariance=cov)
        keys = list(path)
        if len(keys) > 1:
            codes, groups = pd.factorize(pd.MultiIndex.from_frame(frame[keys]), sort=True)
        else:
            codes, groups = pd.factorize(frame[keys[0]], sort=True)
        z = np.column_stack([frame[s] for s in slopes] + [np.ones(len(frame))])
        eqs.append(eq)
        blocks.append(REBlock(eq, codes, pd.Index(groups), z, eq.effect_names, eq.structure))
    spec = ModelSpec(
        response,
        tuple(Term((Component(c),)) for c in covariates),
        tuple(eqs),
        family=family,
        link=link,
        trials=trials,
        command="meglm",
    )
    x = np.column_stack([frame[c] for c in covariates] + [np.ones(len(frame))])
    return Design(
        spec, frame[response].to_numpy(float), x, [*covariates, "_cons"], blocks, frame.index
    )


BANGLADESH_X = ["urban", "age", "child1", "child2", "child3"]


@cache
def bangladesh(slope: bool) -> Design:
    levels = (
        [(("district",), ["urban"], "unstructured")]
        if slope
        else [(("district",), [], "independent")]
    )
    return make_design(load("bangladesh"), "c_use", BANGLADESH_X, levels)


@cache
def fitted(slope: bool, method: str):
    from bayesmixed.fitting import fit_glmm

    return fit_glmm(bangladesh(slope), intmethod=method, intpoints=7)
