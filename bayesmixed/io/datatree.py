"""ArviZ DataTree <-> one netCDF member per group.

netCDF is the format ArviZ itself documents for ``InferenceData``; the
classic (version 3) flavour written by SciPy needs no extra library, and
each group is a plain Dataset in it.  Per-group files sidestep netCDF-3's
lack of groups while keeping every variable, coordinate and attribute; the
dtypes netCDF-3 lacks (int64, bool) are restored from xarray's own encoding
attributes on load.
"""

from __future__ import annotations

import io
import re
import warnings

import numpy as np

from .archive import ArchiveReader, ArchiveWriter, ResultFileError
from .values import from_plain_json, plain_json

_GROUP_PATH = re.compile(r"/(\w{1,100}(/\w{1,100})*)?")  # "/" and "/posterior", as saved


def save_tree(tree, writer: ArchiveWriter) -> dict:
    """Write each group of ``tree`` as ``idata/<group>.nc``; return the index."""
    groups = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        if not ds.variables and not ds.attrs and node.path != "/":
            continue
        name = node.path.strip("/") or "_root"
        attrs = plain_json(dict(ds.attrs))  # lists and dates: JSON keeps them, netCDF-3 not
        ds = _encodable(ds)
        ds.attrs = {}
        try:
            data = ds.to_netcdf(engine="scipy")
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultFileError(
                f"cannot write ArviZ group {node.path!r} as netCDF: {exc}"
            ) from exc
        groups[node.path] = {
            "member": writer.add_bytes(f"idata/{name}.nc", bytes(data)),
            "attrs": attrs,
        }
    return {"groups": groups}


def load_tree(index: object, reader: ArchiveReader):
    """Rebuild the DataTree from its index (group path -> member and attributes)."""
    import xarray as xr

    groups = index.get("groups") if isinstance(index, dict) and set(index) == {"groups"} else None
    if not isinstance(groups, dict):
        raise ResultFileError("the saved ArviZ index is malformed")
    out = {}
    for path, entry in groups.items():
        if not _GROUP_PATH.fullmatch(path) or not isinstance(entry, dict):
            raise ResultFileError(f"the saved ArviZ group {path[:40]!r} is malformed")
        if set(entry) != {"member", "attrs"}:
            raise ResultFileError(f"the saved ArviZ group {path!r} is malformed")
        ds = _open_group(reader.bytes(entry["member"]), path)
        attrs = from_plain_json(entry["attrs"])
        if not isinstance(attrs, dict) or not all(isinstance(k, str) for k in attrs):
            raise ResultFileError(f"the attributes of ArviZ group {path!r} are malformed")
        ds.attrs = attrs
        out[path] = ds
    try:
        return xr.DataTree.from_dict(out)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultFileError(f"the saved ArviZ groups do not form a tree ({exc!r})") from exc


def _open_group(raw: bytes, path: str):
    """One group's Dataset from its netCDF bytes.

    The ``except Exception`` is deliberate: SciPy's netCDF reader documents no
    set of exceptions, and damaged bytes surface as IndexError, struct.error
    or TypeError from deep inside it.  Whatever it raises, the group is damaged.
    """
    import xarray as xr

    try:
        with xr.open_dataset(io.BytesIO(raw), engine="scipy") as ds:
            ds = ds.load()
        with warnings.catch_warnings():  # a NaN edited into an integer variable
            warnings.simplefilter("ignore", RuntimeWarning)
            return _restore(ds)
    except Exception as exc:  # noqa: BLE001 -- see the docstring
        raise ResultFileError(
            f"the saved ArviZ group {path!r} is not readable netCDF ({exc!r})"[:300]
        ) from exc


def _encodable(ds):
    """netCDF-3 stores no int64: keep such variables as float64 exactly when they fit."""
    ds = ds.copy()
    for name in list(ds.variables):
        var = ds.variables[name]
        if var.dtype == np.int64:
            values = var.values
            if values.size and np.abs(values).max() >= 2**53:
                raise ResultFileError(f"variable {name!r} holds integers netCDF-3 cannot keep")
            new = var.copy(data=values.astype(np.float64))
            new.attrs = {**var.attrs, "_bm_int64": 1}
            if name in ds.coords:
                ds = ds.assign_coords({name: new})
            else:
                ds[name] = new
    return ds


def _restore(ds):
    for name in list(ds.variables):
        var = ds.variables[name]
        if var.attrs.get("_bm_int64"):
            new = var.copy(data=var.values.astype(np.int64))
            new.attrs = {k: v for k, v in var.attrs.items() if k != "_bm_int64"}
            if name in ds.coords:
                ds = ds.assign_coords({name: new})
            else:
                ds[name] = new
    return ds
