"""Fits shared by the postestimation tests (each fitted once per session)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import bayesmixed as bm

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "predict.json"
DATA = {"jsp": "jsp2", "prod": "productivity", "bang": "bangladesh"}


@functools.cache
def reference() -> dict:
    return json.loads(REFERENCE.read_text())["models"]


@functools.cache
def data(name: str):
    return bm.datasets.load(DATA[name])


@functools.cache
def fitted(key: str):
    """Our fit of the reference model ``key`` (its Stata command, on the shipped data)."""
    model = reference()[key]
    return bm.stata(model["stata"], data(key.split("_")[0]))


def lme4_label(block, label) -> str:
    """lme4's group name of one of our group labels (``state:region`` for nested ones)."""
    if isinstance(label, tuple):
        return ":".join(str(v) for v in reversed(label))
    return str(label)


def lme4_term(model: dict, block) -> dict:
    """The lme4 ranef record of one of our blocks (``state:region`` for Stata's state)."""
    wanted = block.equation.factor or block.level
    for term in model["ranef"]:
        if term["term"].split(":")[0] == wanted:
            return term
    raise KeyError(wanted)
