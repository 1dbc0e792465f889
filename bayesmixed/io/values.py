"""Tagged JSON for the values a result holds.

JSON has no tuples, NaN, NumPy arrays or pandas indexes, so each is written as
a one-key object whose key starts with ``$`` (``{"$tuple": [...]}``,
``{"$array": "arrays/3.npy"}``).  Dicts are always tagged too, so no user
string can be mistaken for a tag.  Decoding dispatches on a fixed table of
tags to fixed constructors: the file chooses among known shapes of data,
never which code runs.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pandas as pd

from ..design.types import Design
from ..engines.optsummary import OptSummary
from ..errors import BayesmixedError
from ..spec.family import Family, get_family
from ..spec.model import ModelSpec
from .archive import ArchiveReader, ArchiveWriter, ResultFileError

_NUMERIC_KINDS = "biufM"  # bool, int, uint, float, datetime64: stored as .npy
_INDEX_DTYPES = ("object", "str", "string")


def plain_json(value: object) -> object:
    """Encode scalars, strings, lists, tuples and dicts (no arrays)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"$float": repr(v)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, tuple):
        return {"$tuple": [plain_json(v) for v in value]}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[plain_json(k), plain_json(v)] for k, v in value.items()]}
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    raise ResultFileError(f"cannot save a value of type {type(value).__name__}")


def from_plain_json(value: object) -> object:
    """Inverse of :func:`plain_json`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [from_plain_json(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        ((tag, body),) = value.items()
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$tuple" and isinstance(body, list):
            return tuple(from_plain_json(v) for v in body)
        if tag == "$dict":
            return {_key(from_plain_json(k)): from_plain_json(v) for k, v in _pairs(body)}
        if tag == "$timestamp" and isinstance(body, str):
            return _timestamp(body)
    raise ResultFileError(f"unrecognised saved value {str(value)[:80]!r}")


def _key(k: object) -> object:
    try:
        hash(k)
    except TypeError as exc:  # a list, or a tuple holding one
        raise ResultFileError("a saved dict has an unhashable key") from exc
    return k


def _pairs(body: object) -> list:
    """The ``[[key, value], ...]`` body of a ``$dict``, checked."""
    if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
        raise ResultFileError("a saved dict is malformed")
    return body


def _timestamp(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ResultFileError(f"a saved date {text[:40]!r} is malformed") from exc


def _body(body: object, kind: type, tag: str, keys: set[str] | None = None):
    """``body`` if it is a ``kind`` (with exactly ``keys``), else ResultFileError."""
    if not isinstance(body, kind) or (keys is not None and set(body) != keys):
        raise ResultFileError(f"a saved {tag} value is malformed")
    return body


class Encoder:
    """Turns result fields into tagged JSON, writing arrays into ``writer``."""

    def __init__(self, writer: ArchiveWriter) -> None:
        self.writer = writer

    def __call__(self, value: object) -> object:
        if isinstance(value, np.ndarray):
            return {"$array": self.writer.add_array(value)}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [self(v) for v in value]}
        if isinstance(value, dict):
            return {"$dict": [[plain_json(k), self(v)] for k, v in value.items()]}
        if isinstance(value, pd.Index):
            return {"$index": self.index(value)}
        if isinstance(value, pd.Series):
            body = {"index": self.index(value.index), "values": self(value.to_numpy())}
            return {"$series": {**body, "name": plain_json(value.name)}}
        if isinstance(value, OptSummary):
            return {"$opt": {f.name: self(getattr(value, f.name)) for f in fields(value)}}
        if isinstance(value, Family):
            return {"$family": [value.name, value.link.name, *value.state()]}
        if isinstance(value, ModelSpec):
            from .spec_json import spec_to_dict

            return {"$spec": spec_to_dict(value)}
        if isinstance(value, Design):
            from .design_json import design_to_dict

            return {"$design": design_to_dict(value, self)}
        return plain_json(value)

    def index(self, idx: pd.Index) -> dict:
        if isinstance(idx, pd.RangeIndex):
            return {"range": [idx.start, idx.stop, idx.step], "name": plain_json(idx.name)}
        if isinstance(idx, pd.MultiIndex):
            tuples = [plain_json(tuple(t)) for t in idx]
            return {"tuples": tuples, "names": [plain_json(n) for n in idx.names]}
        dtype = idx.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in _NUMERIC_KINDS:
            return {"array": self(idx.to_numpy()), "name": plain_json(idx.name)}
        kept = str(dtype) if str(dtype) in _INDEX_DTYPES else None
        values = [plain_json(v) for v in idx.tolist()]
        return {"values": values, "dtype": kept, "name": plain_json(idx.name)}


class Decoder:
    """Inverse of :class:`Encoder`, reading arrays from ``reader``."""

    def __init__(self, reader: ArchiveReader) -> None:
        self.reader = reader

    def __call__(self, value: object) -> object:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not (isinstance(value, dict) and len(value) == 1):
            return from_plain_json(value)
        ((tag, body),) = value.items()
        if tag == "$array":
            return self.reader.array(body)
        if tag == "$tuple":
            return tuple(self(v) for v in _body(body, list, tag))
        if tag == "$dict":
            return {_key(from_plain_json(k)): self(v) for k, v in _pairs(body)}
        if tag == "$index":
            return self.index(body)
        if tag == "$series":
            return self.series(_body(body, dict, tag, {"index", "values", "name"}))
        if tag == "$opt":
            return self.opt(_body(body, dict, tag))
        if tag == "$family":
            return _family(_body(body, list, tag))
        if tag == "$spec":
            from .spec_json import spec_from_dict

            return spec_from_dict(_body(body, dict, tag))
        if tag == "$design":
            from .design_json import design_from_dict

            return design_from_dict(_body(body, dict, tag), self)
        return from_plain_json(value)

    def series(self, body: dict) -> pd.Series:
        values, index = self(body["values"]), self.index(body["index"])
        if not isinstance(values, np.ndarray) or values.ndim != 1 or len(values) != len(index):
            raise ResultFileError("a saved series does not match its index")
        return pd.Series(values, index=index, name=_label(from_plain_json(body["name"])))

    def opt(self, body: dict) -> OptSummary:
        names = {f.name for f in fields(OptSummary)}
        if not set(body) <= names:
            extra = sorted(set(body) - names)[:5]
            raise ResultFileError(f"the saved optimizer summary has unknown fields {extra}")
        try:
            return OptSummary(**{k: self(v) for k, v in body.items()})
        except TypeError as exc:  # a required field is missing
            raise ResultFileError(f"the saved optimizer summary is incomplete ({exc})") from exc

    def index(self, body: object) -> pd.Index:
        body = _body(body, dict, "index")
        try:
            return self._index(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultFileError(f"a saved index is malformed ({exc!r})"[:200]) from exc

    def _index(self, body: dict) -> pd.Index:
        if "range" in body:
            start, stop, step = _body(body["range"], list, "range")
            if not all(type(v) is int and abs(v) < 2**53 for v in (start, stop, step)):
                raise ResultFileError("a saved range index is malformed")
            return pd.RangeIndex(start, stop, step, name=_label(from_plain_json(body["name"])))
        if "tuples" in body:
            tuples = [from_plain_json(t) for t in _body(body["tuples"], list, "index")]
            names = [_label(from_plain_json(n)) for n in _body(body["names"], list, "index")]
            if not all(isinstance(t, tuple) and len(t) == len(names) for t in tuples):
                raise ResultFileError("a saved multi-index is malformed")
            if not tuples:
                return pd.MultiIndex.from_arrays([[] for _ in names], names=names)
            return pd.MultiIndex.from_tuples(tuples, names=names)
        name = _label(from_plain_json(body["name"]))
        if "array" in body:
            values = self(body["array"])
            if not isinstance(values, np.ndarray) or values.ndim != 1:
                raise ResultFileError("a saved index array is not one-dimensional")
            return pd.Index(values, name=name)
        dtype = body.get("dtype")
        if dtype is not None and dtype not in _INDEX_DTYPES:
            raise ResultFileError(f"unsupported saved index dtype {str(dtype)[:40]!r}")
        values = [_label(from_plain_json(v)) for v in _body(body["values"], list, "index")]
        return pd.Index(values, dtype=dtype, name=name, tupleize_cols=False)


def _label(value: object) -> object:
    """An index value or name: a scalar (what the encoder writes for labels)."""
    if isinstance(value, (list, dict, tuple)) and not (
        isinstance(value, tuple) and all(not isinstance(v, (list, dict)) for v in value)
    ):
        raise ResultFileError(f"a saved label {str(value)[:40]!r} is not a scalar")
    return value


def _family(body: list) -> Family:
    ok = len(body) >= 2 and all(isinstance(v, str) for v in body[:2])
    if not ok or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in body[2:]):
        raise ResultFileError("a saved family is malformed")
    try:
        return get_family(body[0], body[1]).restore(tuple(float(v) for v in body[2:]))
    except BayesmixedError as exc:
        raise ResultFileError(f"the saved family is unknown ({exc})") from exc
