"""Design <-> JSON + arrays, with the signature of the data it was built from.

A saved result keeps its whole numeric design (y, X, group codes, effect
values) because every accessor and the rendered table read it; the signature
(n, columns, SHA-256 of the numbers) lets a user check later that a data set
is the one the estimates came from, and lets :func:`load` notice an array that
no longer matches what was saved.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..design.residual import ResidualData, _batches, _max_lag
from ..design.types import Design, GroupInfo, REBlock
from ..spec.covariance import get_structure
from ..spec.residual import residual_model
from .archive import ResultFileError
from .spec_json import _equation_from_dict, _equation_to_dict


def data_signature(design: Design) -> dict:
    """n, the variables and fixed-effect columns, and a SHA-256 of every number used."""
    h = hashlib.sha256()
    arrays = [design.y, design.X]
    for block in design.blocks:
        arrays += [block.codes, block.Z]
    for arr in arrays:
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return {
        "n": int(design.n),
        "variables": list(design.spec.variables),
        "fixed_names": list(design.fixed_names),
        "sha256": h.hexdigest(),
    }


def design_to_dict(design: Design, enc) -> dict:
    return {
        "spec": enc(design.spec),
        "y": enc(np.asarray(design.y)),
        "X": enc(np.asarray(design.X)),
        "fixed_names": list(design.fixed_names),
        "blocks": [_block_to_dict(b, enc) for b in design.blocks],
        "rows": enc(design.rows),
        "dropped": int(design.dropped),
        "omitted": list(design.omitted),
        "base_levels": list(design.base_levels),
        "group_info": [
            [g.level, int(g.n_groups), int(g.min), float(g.avg), int(g.max)]
            for g in design.group_info
        ],
        "notes": list(design.notes),
        "residual": None if design.residual is None else _residual_to_dict(design.residual, enc),
        "signature": data_signature(design),
    }


def design_from_dict(d: dict, dec) -> Design:
    try:
        design = Design(
            spec=dec(d["spec"]),
            y=_float_array(dec(d["y"]), 1),
            X=_float_array(dec(d["X"]), 2),
            fixed_names=[str(n) for n in d["fixed_names"]],
            blocks=[_block_from_dict(b, dec) for b in d["blocks"]],
            rows=dec(d["rows"]),
            dropped=int(d["dropped"]),
            omitted=[str(n) for n in d["omitted"]],
            base_levels=[str(n) for n in d["base_levels"]],
            group_info=[GroupInfo(*g) for g in d["group_info"]],
            notes=[str(n) for n in d["notes"]],
        )
        if d["residual"] is not None:
            design.residual = _residual_from_dict(d["residual"], design, dec)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ResultFileError(f"the saved design is malformed ({exc!r})") from exc
    _check_consistent(design, d["signature"])
    return design


def _check_consistent(design: Design, signature: dict) -> None:
    n, p = design.n, design.p
    if design.X.shape[0] != n or len(design.fixed_names) != p:
        raise ResultFileError("the saved design's arrays do not agree in size")
    for b in design.blocks:
        if b.Z.shape[0] != n or b.codes.shape != (n,) or b.k != len(b.effect_names):
            raise ResultFileError(f"the saved random-effects block '{b.key}' is malformed")
        if n and (b.codes.min() < 0 or b.codes.max() >= b.n_groups):
            raise ResultFileError(f"the saved group codes of '{b.key}' are out of range")
    if data_signature(design) != signature:
        raise ResultFileError("the saved design does not match its data signature")


def _block_to_dict(block: REBlock, enc) -> dict:
    return {
        "equation": _equation_to_dict(block.equation),
        "codes": enc(np.asarray(block.codes)),
        "groups": enc(block.groups),
        "Z": enc(np.asarray(block.Z)),
        "effect_names": list(block.effect_names),
        "structure": block.structure.name,
    }


def _block_from_dict(d: dict, dec) -> REBlock:
    codes = np.asarray(dec(d["codes"]))
    if codes.dtype.kind not in "iu":
        raise ValueError("group codes must be integers")
    return REBlock(
        equation=_equation_from_dict(d["equation"]),
        codes=codes,
        groups=dec(d["groups"]),
        Z=_float_array(dec(d["Z"]), 2),
        effect_names=tuple(str(n) for n in d["effect_names"]),
        structure=get_structure(str(d["structure"])),
    )


def _residual_to_dict(res: ResidualData, enc) -> dict:
    return {
        "panel_codes": enc(np.asarray(res.panel_codes)),
        "panels": enc(res.panels),
        "panel_level": res.panel_level,
        "times": None if res.times is None else enc(np.asarray(res.times)),
        "levels": enc(np.asarray(res.levels)),
        "groups": enc(np.asarray(res.groups)),
        "level_labels": enc(tuple(res.model.structure.level_labels)),
        "by_labels": enc(tuple(res.model.by_labels)),
    }


def _residual_from_dict(d: dict, design: Design, dec) -> ResidualData:
    """Rebuild the residual model exactly as the design stage does from these arrays."""
    codes = np.asarray(dec(d["panel_codes"]))
    times = None if d["times"] is None else np.asarray(dec(d["times"]), float)
    levels, groups = np.asarray(dec(d["levels"])), np.asarray(dec(d["groups"]))
    max_lag = _max_lag(times, codes) if times is not None else None
    max_size = int(np.bincount(codes).max())
    model = residual_model(
        design.spec.residual, dec(d["level_labels"]), dec(d["by_labels"]), max_lag, max_size
    )
    batches = [] if model.structure.diagonal else _batches(codes, times, levels, groups)
    return ResidualData(
        model, codes, dec(d["panels"]), str(d["panel_level"]), times, levels, groups, batches
    )


def _float_array(a: object, ndim: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind != "f" or arr.ndim != ndim:
        raise ValueError(f"expected a {ndim}-d float array, found {arr.dtype} {arr.shape}")
    return arr
