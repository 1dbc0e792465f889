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

import numpy as np

from .archive import ArchiveReader, ArchiveWriter, ResultFileError
from .values import from_plain_json, plain_json


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


def load_tree(index: dict, reader: ArchiveReader):
    import xarray as xr

    out = {}
    try:
        for path, entry in index["groups"].items():
            raw = reader.bytes(entry["member"])
            with xr.open_dataset(io.BytesIO(raw), engine="scipy") as ds:
                ds = ds.load()
            ds = _restore(ds)
            ds.attrs = from_plain_json(entry["attrs"])
            out[path] = ds
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ResultFileError(f"the saved ArviZ groups are malformed ({exc!r})") from exc
    return xr.DataTree.from_dict(out)


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
