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
import pandas as pd

from ..design.residual import ResidualCodes, ResidualData, assemble_residual
from ..design.types import Design, GroupInfo, REBlock
from ..design.weights import Weights
from ..errors import BayesmixedError
from ..spec.covariance import get_structure
from ..spec.model import ModelSpec
from .archive import ResultFileError
from .spec_json import as_list, as_str, equation_from_dict, equation_to_dict


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
        "weights": None if design.weights is None else _weights_to_dict(design.weights, enc),
        "cluster": None if design.cluster is None else enc(np.asarray(design.cluster)),
    }


_DESIGN_KEYS = {
    "spec", "y", "X", "fixed_names", "blocks", "rows", "dropped", "omitted", "base_levels",
    "group_info", "notes", "residual", "signature",
}  # fmt: skip
_LATER_KEYS = {"weights", "cluster"}  # issue 15; files written before lack them


def design_from_dict(d: dict, dec) -> Design:
    """Rebuild a design, checking the type and size of every part against the others."""
    if not _DESIGN_KEYS <= set(d) <= _DESIGN_KEYS | _LATER_KEYS:
        raise ResultFileError("the saved design has missing or unknown parts")
    try:
        design = Design(
            spec=_typed(dec(d["spec"]), ModelSpec, "model specification"),
            y=_float_array(dec(d["y"]), 1),
            X=_float_array(dec(d["X"]), 2),
            fixed_names=_strs(d["fixed_names"]),
            blocks=[_block_from_dict(b, dec) for b in as_list(d["blocks"])],
            rows=_typed(dec(d["rows"]), pd.Index, "row index"),
            dropped=_int(d["dropped"]),
            omitted=_strs(d["omitted"]),
            base_levels=_strs(d["base_levels"]),
            group_info=[_group_info(g) for g in as_list(d["group_info"])],
            notes=_strs(d["notes"]),
        )
        _check_consistent(design, d["signature"])
        if d["residual"] is not None:
            design.residual = _residual_from_dict(_dict(d["residual"]), design, dec)
        if d.get("weights") is not None:
            design.weights = _weights_from_dict(_dict(d["weights"]), design.n, dec)
        if d.get("cluster") is not None:
            design.cluster = _codes(dec(d["cluster"]), design.n, design.n, "vce cluster")
    except (KeyError, TypeError, ValueError, IndexError, BayesmixedError) as exc:
        if isinstance(exc, ResultFileError):
            raise
        raise ResultFileError(f"the saved design is malformed ({exc!r})"[:300]) from exc
    return design


def _check_consistent(design: Design, signature: object) -> None:
    n, p = design.n, design.p
    if design.X.shape[0] != n or len(design.fixed_names) != p or len(design.rows) != n:
        raise ResultFileError("the saved design's arrays do not agree in size")
    for b in design.blocks:
        if b.Z.shape[0] != n or b.codes.shape != (n,) or b.k != len(b.effect_names):
            raise ResultFileError(f"the saved random-effects block '{b.key}' is malformed")
        if n and (b.codes.min() < 0 or b.codes.max() >= b.n_groups):
            raise ResultFileError(f"the saved group codes of '{b.key}' are out of range")
    if data_signature(design) != signature:
        raise ResultFileError("the saved design does not match its data signature")


def _group_info(g: object) -> GroupInfo:
    level, n_groups, lo, avg, hi = as_list(g)
    if not isinstance(avg, (int, float)) or isinstance(avg, bool):
        raise ValueError(f"group average {avg!r}")
    return GroupInfo(as_str(level), _int(n_groups), _int(lo), float(avg), _int(hi))


def _block_to_dict(block: REBlock, enc) -> dict:
    return {
        "equation": equation_to_dict(block.equation),
        "codes": enc(np.asarray(block.codes)),
        "groups": enc(block.groups),
        "Z": enc(np.asarray(block.Z)),
        "effect_names": list(block.effect_names),
        "structure": block.structure.name,
    }


def _block_from_dict(d: object, dec) -> REBlock:
    d = _dict(d)
    names = tuple(_strs(d["effect_names"]))
    return REBlock(
        equation=equation_from_dict(d["equation"]),
        codes=_int_array(dec(d["codes"])),
        groups=_typed(dec(d["groups"]), pd.Index, "group labels"),
        Z=_float_array(dec(d["Z"]), 2),
        effect_names=names,
        structure=get_structure(as_str(d["structure"]), len(names), names),
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
    n = design.n
    panels = _typed(dec(d["panels"]), pd.Index, "panel labels")
    level_labels = _typed(dec(d["level_labels"]), tuple, "time levels")
    by_labels = _typed(dec(d["by_labels"]), tuple, "by() labels")
    codes = _codes(dec(d["panel_codes"]), n, len(panels), "panel")
    levels = _codes(dec(d["levels"]), n, max(len(level_labels), 1), "time-level")
    groups = _codes(dec(d["groups"]), n, max(len(by_labels), 1), "by()")
    times = None if d["times"] is None else _float_array(dec(d["times"]), 1)
    if times is not None and (len(times) != n or not np.isfinite(times).all()):
        raise ResultFileError("the saved residual times are malformed")
    if n == 0:
        raise ResultFileError("the saved residual structure has no observations")
    coded = ResidualCodes(codes, panels, as_str(d["panel_level"]), times, levels, groups)
    return assemble_residual(design.spec.residual, coded, level_labels, by_labels)


def _weights_to_dict(weights: Weights, enc) -> dict:
    levels = {level: enc(np.asarray(v, float)) for level, v in weights.levels.items()}
    return {"kind": weights.kind, "obs": enc(np.asarray(weights.obs, float)), "levels": levels}


def _weights_from_dict(d: dict, n: int, dec) -> Weights:
    kind = as_str(d["kind"])
    if kind not in ("fweight", "pweight") or set(d) != {"kind", "obs", "levels"}:
        raise ResultFileError("the saved weights are malformed")
    obs = _float_array(dec(d["obs"]), 1)
    levels = {as_str(k): _float_array(dec(v), 1) for k, v in _dict(d["levels"]).items()}
    if any(a.shape != (n,) or not np.all(a >= 0) for a in [obs, *levels.values()]):
        raise ResultFileError("the saved weights do not match the design's rows")
    return Weights(kind, obs, levels)


def _codes(a: object, n: int, size: int, what: str) -> np.ndarray:
    codes = _int_array(a)
    if codes.shape != (n,) or (n and (codes.min() < 0 or codes.max() >= size)):
        raise ResultFileError(f"the saved {what} codes are malformed")
    return codes


def _int_array(a: object) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise ValueError(f"expected a 1-d integer array, found {arr.dtype} {arr.shape}")
    return arr


def _typed(value: object, kind: type, what: str):
    if not isinstance(value, kind):
        raise ResultFileError(f"the saved {what} is malformed")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, found {str(value)[:40]}")
    return value


def _strs(value: object) -> list[str]:
    return [as_str(v) for v in as_list(value)]


def _dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, found {str(value)[:40]}")
    return value


def _float_array(a: object, ndim: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind != "f" or arr.ndim != ndim:
        raise ValueError(f"expected a {ndim}-d float array, found {arr.dtype} {arr.shape}")
    return arr
