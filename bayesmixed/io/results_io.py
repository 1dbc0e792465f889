"""Save and load fitted results (Stata's ``estimates save`` / ``estimates use``).

A result is written field by field through the tagged-JSON codec, so adding a
field to a result class only needs a value type the codec knows.  Loading
builds the result class named in the file from a fixed table of three; the
file can choose data, never code.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path

from .archive import ArchiveReader, ArchiveWriter, ResultFileError
from .values import Decoder, Encoder

RESULT_MEMBER = "result.json"


def _result_classes() -> dict[str, type]:
    from ..results.glmm import GLMMResult
    from ..results.mixed import MixedResult

    classes: dict[str, type] = {"MixedResult": MixedResult, "GLMMResult": GLMMResult}
    try:
        from ..results.bayes import BayesResult
    except ImportError:  # the Bayesian result needs xarray; ML users may lack it
        return classes
    classes["BayesResult"] = BayesResult
    return classes


def save(result: object, path: str | Path) -> Path:
    """Write ``result`` to ``path`` (a zip of JSON, ``.npy`` and netCDF members).

    Returns the path written.  Raises :class:`ResultFileError` for an object
    that is not a bayesmixed result.
    """
    kind = type(result).__name__
    if _result_classes().get(kind) is not type(result):
        raise ResultFileError(f"cannot save a {kind}: only bayesmixed fit results can be saved")
    writer = ArchiveWriter(kind)
    enc = Encoder(writer)
    out = {}
    for f in fields(result):
        value = getattr(result, f.name)
        if f.name == "idata":
            from .datatree import save_tree

            out[f.name] = {"$datatree": save_tree(value, writer)}
        else:
            out[f.name] = enc(value)
    from .. import __version__

    writer.add_json(RESULT_MEMBER, {"kind": kind, "saved_by": __version__, "fields": out})
    return writer.write(path)


def load(path: str | Path) -> object:
    """Read a result written by :func:`save`; every member is checksum-verified first."""
    reader = ArchiveReader(path)
    doc = reader.json(RESULT_MEMBER)
    if not isinstance(doc, dict) or doc.get("kind") != reader.kind:
        raise ResultFileError(f"{path}: the result record does not match the manifest")
    cls = _result_classes().get(reader.kind)
    if cls is None:
        raise ResultFileError(f"{path}: unknown result kind {reader.kind!r}")
    saved = doc.get("fields")
    if not isinstance(saved, dict):
        raise ResultFileError(f"{path}: the result record is damaged")
    dec = Decoder(reader)
    values = {}
    for f in fields(cls):
        if f.name not in saved:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ResultFileError(f"{path}: the saved result lacks '{f.name}'")
            continue
        raw = saved[f.name]
        if f.name == "idata":
            from .datatree import load_tree

            values[f.name] = load_tree(raw["$datatree"], reader)
        else:
            values[f.name] = dec(raw)
    unknown = set(saved) - {f.name for f in fields(cls)}
    if unknown:
        raise ResultFileError(
            f"{path}: fields {sorted(unknown)} are unknown to this version of bayesmixed"
        )
    return cls(**values)
