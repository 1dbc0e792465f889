"""Save and load fitted results (Stata's ``estimates save`` / ``estimates use``).

A result is written field by field through the tagged-JSON codec, so adding a
field to a result class only needs a value type the codec knows.  Loading
builds the result class named in the file from a fixed table of three; the
file can choose data, never code.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path

from ..errors import BayesmixedError
from .archive import ArchiveReader, ArchiveWriter, ResultFileError
from .limits import DEFAULT_LIMITS, ReadLimits
from .validate import check_fields, check_renders, check_shapes
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
    that is not a bayesmixed result, and :class:`ResultSaveError` (a subclass)
    when the file cannot be written: ``path`` is a folder, its folder is missing
    or unwritable, the disk is full.  The file is written under a fresh
    temporary name in the same folder and renamed into place, so a reader (or a
    concurrent save) never sees a half-written file and a failure leaves none.
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
    from ..version import __version__

    writer.add_json(RESULT_MEMBER, {"kind": kind, "saved_by": __version__, "fields": out})
    return writer.write(path)


def load(path: str | Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> object:
    """Read a result written by :func:`save`.

    Parameters
    ----------
    path : the saved file.
    limits : size bounds applied before and while reading (see
        :class:`~bayesmixed.io.limits.ReadLimits`); raise them to read a result
        larger than the defaults allow.

    Raises
    ------
    ResultFileError
        For any file that is not a well-formed saved result.  Every member is
        checksum-verified (accidental damage), then every field is checked for
        type, shape and consistency and the result is rendered once (crafted
        or edited files: the checksums do not prove who wrote the file).  As a
        last resort, any other exception raised while decoding is also turned
        into a ResultFileError, so a caller never sees a raw ``TypeError`` for
        a bad file; the checks above are what make that net rarely needed.
    """
    try:
        result = _decode(ArchiveReader(path, limits))
    except ResultFileError as exc:
        if str(path) in str(exc):
            raise
        raise ResultFileError(f"{path}: {exc}") from exc  # say which file
    except BayesmixedError as exc:
        raise ResultFileError(f"{path}: the saved result is malformed ({exc})") from exc
    except RecursionError as exc:
        raise ResultFileError(f"{path}: the saved result is nested too deeply") from exc
    except MemoryError as exc:
        raise ResultFileError(f"{path}: the saved result needs more memory than exists") from exc
    except Exception as exc:  # the documented last-resort net (see the docstring)
        detail = f"{type(exc).__name__} while decoding: {exc}"[:200]
        raise ResultFileError(f"{path}: the saved result is malformed ({detail})") from exc
    return result


def _decode(reader: ArchiveReader) -> object:
    path = reader.path
    doc = reader.json(RESULT_MEMBER)
    if not isinstance(doc, dict) or doc.get("kind") != reader.kind:
        raise ResultFileError(f"{path}: the result record does not match the manifest")
    cls = _result_classes().get(reader.kind)
    if cls is None:
        raise ResultFileError(f"{path}: unknown result kind {reader.kind[:40]!r}")
    saved = doc.get("fields")
    if not isinstance(saved, dict) or not isinstance(doc.get("saved_by"), str):
        raise ResultFileError(f"{path}: the result record is damaged")
    if set(doc) != {"kind", "saved_by", "fields"}:
        raise ResultFileError(f"{path}: the result record has unknown parts")
    unknown = set(saved) - {f.name for f in fields(cls)}
    if unknown:
        raise ResultFileError(
            f"{path}: fields {sorted(unknown)[:5]} are unknown to this version of bayesmixed"
        )
    values = _decode_fields(cls, saved, reader)
    check_fields(cls, values)
    result = cls(**values)
    check_shapes(result)
    reader.check_all_used()
    check_renders(result)
    return result


def _decode_fields(cls: type, saved: dict, reader: ArchiveReader) -> dict:
    dec = Decoder(reader)
    values = {}
    for f in fields(cls):
        if f.name not in saved:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ResultFileError(f"{reader.path}: the saved result lacks '{f.name}'")
            continue
        raw = saved[f.name]
        if f.name == "idata":
            from .datatree import load_tree

            if not (isinstance(raw, dict) and set(raw) == {"$datatree"}):
                raise ResultFileError(f"{reader.path}: the saved ArviZ data is malformed")
            values[f.name] = load_tree(raw["$datatree"], reader)
        else:
            values[f.name] = dec(raw)
    return values
