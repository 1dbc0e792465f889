"""A strict reader of the ``.npy`` members of a saved result.

Why not ``np.load``: it allocates the array its header describes *before*
reading the data, so a ten-byte edit of the shape asks for terabytes, and a
damaged header surfaces as a tokenizer error rather than a refusal.  Here the
header is parsed with :func:`ast.literal_eval` (no code runs), its dtype and
shape are checked, and the array is built only when the data that follows
has exactly the length the header promises -- so memory is bounded by the
member's own size.  The format is NumPy's documented ``.npy`` (versions 1-3).
"""

from __future__ import annotations

import ast
import struct

import numpy as np

from .errors import ResultFileError

_MAGIC = b"\x93NUMPY"
_MAX_HEADER = 64 * 1024
_MAX_NDIM = 32
_KEYS = {"descr", "fortran_order", "shape"}


def read_npy(data: bytes, name: str) -> np.ndarray:
    """The array stored in ``data`` (the bytes of member ``name``), or ResultFileError."""
    header, offset = _header(data, name)
    dtype, fortran, shape = _fields(header, name)
    count = int(np.prod(shape, dtype=object))
    if count * dtype.itemsize != len(data) - offset:
        raise ResultFileError(
            f"member {name!r}: the .npy header promises {shape} of {dtype} but "
            f"{len(data) - offset} bytes follow"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def _header(data: bytes, name: str) -> tuple[dict, int]:
    """The header dict and the offset of the array data."""
    if len(data) < 10 or not data.startswith(_MAGIC):
        raise ResultFileError(f"member {name!r} is not a plain .npy array")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack("<H", data[8:10]), 10
    elif major in (2, 3) and len(data) >= 12:
        (length,), start = struct.unpack("<I", data[8:12]), 12
    else:
        raise ResultFileError(f"member {name!r}: unknown .npy version {major}")
    if length > _MAX_HEADER or start + length > len(data):
        raise ResultFileError(f"member {name!r}: the .npy header is damaged")
    text = data[start : start + length].decode("latin1")
    try:
        header = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ResultFileError(f"member {name!r}: the .npy header is damaged") from exc
    if not isinstance(header, dict) or set(header) != _KEYS:
        raise ResultFileError(f"member {name!r} is not a plain .npy array")
    return header, start + length


def _fields(header: dict, name: str) -> tuple[np.dtype, bool, tuple[int, ...]]:
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(descr, str) or not isinstance(fortran, bool):
        raise ResultFileError(f"member {name!r} is not a plain .npy array")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError) as exc:
        raise ResultFileError(f"member {name!r}: unknown dtype {descr[:40]!r}") from exc
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ResultFileError(f"member {name!r} is not a plain .npy array (dtype {dtype})")
    if dtype.itemsize == 0 or dtype.kind not in "biufcmMUS":
        raise ResultFileError(f"member {name!r}: unsupported dtype {dtype}")
    ok = isinstance(shape, tuple) and len(shape) <= _MAX_NDIM
    if not ok or not all(type(s) is int and s >= 0 for s in shape):
        raise ResultFileError(f"member {name!r}: the .npy shape {str(shape)[:40]} is invalid")
    return dtype, fortran, shape
