"""Mutations of valid saved results whose checksums are then recomputed.

A checksum only catches accidental damage; whoever edits a file can recompute
it.  So these mutations rewrite ``manifest.json`` after every change, and what
they exercise is the structure validation behind the checksum: every outcome
must be a load whose ``str()`` works, or a :class:`ResultFileError`.

Seeded :class:`random.Random` rather than hypothesis: each input is a whole
zip, and a fixed list of seeds keeps the run short and reproducible.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile

import numpy as np

MANIFEST = "manifest.json"
RESULT = "result.json"


def read_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write_members(members: dict[str, bytes], fix_manifest: bool = True) -> bytes:
    """Zip ``members``, first recomputing the manifest's checksums (a careful forger)."""
    if fix_manifest and MANIFEST in members:
        try:
            manifest = json.loads(members[MANIFEST])
            manifest["members"] = {
                n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n != MANIFEST
            }
            members[MANIFEST] = json.dumps(manifest).encode()
        except (ValueError, TypeError):
            pass  # a mutated manifest that is no longer a JSON object stays as it is
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


ARRAYS = [
    np.array([]),
    np.array(1.5),
    np.array([1.0, 2.0]),
    np.zeros((2, 3)),
    np.zeros((3, 3)),
    np.array([1, 2, 3]),
    np.array([-1, 50, 2]),
    np.array([True, False]),
    np.array(["a", "bc"]),
    np.array([1 + 2j]),
    np.zeros((2, 2, 2)),
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    np.array([np.nan, np.inf]),
    np.zeros(5, dtype=np.float32),
]


def _values(rng: random.Random, members: list[str]) -> list[object]:
    arr = rng.choice(members) if members else "arrays/0.npy"
    return [
        None,
        True,
        0,
        -1,
        3,
        2**70,
        1.5,
        -0.0,
        "x",
        "",
        [],
        {},
        [1, 2],
        ["a", "b"],
        {"a": 1},
        {"$array": arr},
        {"$array": 3},
        {"$array": "nope.npy"},
        {"$tuple": 5},
        {"$tuple": [1, "a"]},
        {"$dict": [[1]]},
        {"$dict": [["a", 1]]},
        {"$dict": 7},
        {"$float": "nan"},
        {"$float": "zzz"},
        {"$index": {}},
        {"$index": {"range": [0, 3, 1], "name": None}},
        {"$index": {"values": [1, [2]], "dtype": None, "name": None}},
        {"$series": {}},
        {"$series": {"index": {"range": [0, 2, 1], "name": None}, "values": [1, 2], "name": 1}},
        {"$opt": {"x": 1}},
        {"$family": ["gaussian"]},
        {"$family": ["poisson", "log"]},
        {"$family": "poisson"},
        {"$spec": {}},
        {"$design": {}},
        {"$datatree": {"groups": {}}},
        {"$timestamp": "not a date"},
        {"$unknown": 1},
        [[[[[[[[[[1]]]]]]]]]],
    ]


def _nodes(doc: object, path: tuple = ()) -> list[tuple]:
    """Every path into ``doc`` (dict keys and list indexes)."""
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _nodes(v, path + (i,))
    return out


def _get(doc: object, path: tuple) -> object:
    for p in path:
        doc = doc[p]
    return doc


def mutate_json(doc: object, rng: random.Random, members: list[str]) -> object:
    """One edit at a random node: replace, delete, add a key, or reorder a list."""
    path = rng.choice(_nodes(doc)[1:] or [()])
    if not path:
        return rng.choice(_values(rng, members))
    parent, key = _get(doc, path[:-1]), path[-1]
    op = rng.choice(["replace", "replace", "replace", "delete", "add", "shuffle", "number"])
    if op == "replace":
        parent[key] = rng.choice(_values(rng, members))
    elif op == "delete":
        del parent[key]
    elif op == "add" and isinstance(parent, dict):
        key = rng.choice(["extra", "$array", "name", "values"])
        parent[key] = rng.choice(_values(rng, members))
    elif op == "add":
        parent.append(rng.choice(_values(rng, members)))
    elif op == "shuffle" and isinstance(parent, list):
        rng.shuffle(parent)
    elif (
        op == "number"
        and isinstance(parent[key], (int, float))
        and not isinstance(parent[key], bool)
    ):
        parent[key] = rng.choice([0, -1, 10**9, 1e300, 0.5, -parent[key], parent[key] + 1])
    else:
        parent[key] = rng.choice(_values(rng, members))
    return doc


def _edit_json_member(members: dict[str, bytes], name: str, rng: random.Random) -> None:
    arrays = [n for n in members if n.endswith(".npy")]
    doc = json.loads(members[name])
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        doc = mutate_json(doc, rng, arrays)
    members[name] = json.dumps(doc).encode()


def _edit_array(members: dict[str, bytes], rng: random.Random) -> None:
    names = [n for n in members if n.endswith(".npy")]
    if not names:
        return
    name = rng.choice(names)
    choice = rng.random()
    if choice < 0.6:
        members[name] = _npy(rng.choice(ARRAYS))
    elif choice < 0.8:  # a header that claims a different (maybe enormous) shape
        data = members[name]
        old = data[:128].split(b"'shape': ")[1].split(b")")[0] + b")"
        new = rng.choice([b"(10000000000,", b"(0,", b"(3, 4)", b"(2**40,)", b"(-1,)", b"()"])
        members[name] = data.replace(old, new.ljust(len(old)), 1)
    else:
        _flip_bytes(members, name, rng)


def _flip_bytes(members: dict[str, bytes], name: str, rng: random.Random) -> None:
    data = bytearray(members[name])
    if not data:
        return
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[: rng.randrange(len(data))]
    members[name] = bytes(data)


def _edit_members(members: dict[str, bytes], rng: random.Random) -> None:
    names = [n for n in members if n != MANIFEST]
    op = rng.choice(["extra", "drop", "rename", "flip_nc", "dup_ref"])
    if op == "extra":
        members[rng.choice(["arrays/999.npy", "evil.py", "../x.npy", "idata/x.nc"])] = _npy(
            np.zeros(2)
        )
    elif op == "drop" and names:
        del members[rng.choice(names)]
    elif op == "rename" and names:
        old = rng.choice(names)
        members[old + "x"] = members.pop(old)
    elif op == "flip_nc":
        nc = [n for n in names if n.endswith(".nc")]
        if nc:
            _flip_bytes(members, rng.choice(nc), rng)
    else:
        arrays = [n for n in names if n.endswith(".npy")]
        if len(arrays) > 1:
            a, b = rng.sample(arrays, 2)
            members[a] = members[b]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A mutated copy of the saved file ``data``, checksums recomputed (mostly)."""
    members = read_members(data)
    target = rng.random()
    if target < 0.45:
        _edit_json_member(members, RESULT, rng)
    elif target < 0.55:
        _edit_json_member(members, MANIFEST, rng)
    elif target < 0.8:
        _edit_array(members, rng)
    else:
        _edit_members(members, rng)
    stale = target < 0.55 and rng.random() < 0.1  # sometimes a stale checksum, as after damage
    return write_members(members, fix_manifest=not stale)


def bayes_result(design, chains: int = 2, draws: int = 30):
    """A small BayesResult with hand-made draws (no sampler) on a one-block design."""
    import xarray as xr

    from bayesmixed.results.bayes import BayesResult

    (block,) = design.blocks
    rng = np.random.default_rng(0)
    cd = ("chain", "draw")
    eff = f"{block.key}_effects"
    post = xr.Dataset(
        {
            "beta": (cd + ("fixed",), rng.normal(1.0, 0.1, size=(chains, draws, design.p))),
            "sigma": (cd, np.abs(rng.normal(2.0, 0.1, size=(chains, draws)))),
            f"cov[{block.key}]": (
                cd + (eff, eff + "_"),
                np.abs(rng.normal(1.0, 0.1, size=(chains, draws, 1, 1))),
            ),
        },
        coords={"fixed": list(design.fixed_names)},
    )
    stats = xr.Dataset(
        {
            "diverging": (cd, np.zeros((chains, draws), bool)),
            "acceptance_rate": (cd, np.full((chains, draws), 0.9)),
            "energy": (cd, rng.normal(size=(chains, draws))),
            "tree_depth": (cd, np.full((chains, draws), 3, np.int64)),
        }
    )
    tree = xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})
    tree.attrs = {"created": "now", "draws": [1, 2]}
    priors = {"sigma": "halfnormal(5)"}
    return BayesResult(design, tree, "nuts", "pymc", priors, [block.key], True, tune=10)


def dta_bytes() -> bytes:
    """A small Stata file written by pandas: numbers, codes and a string column."""
    import pandas as pd

    frame = pd.DataFrame(
        {"y": np.arange(6, dtype=float), "g": np.arange(6) % 2, "s": list("abcdef")}
    )
    buf = io.BytesIO()
    frame.to_stata(buf, write_index=False)
    return buf.getvalue()


def damage(data: bytes, rng: random.Random) -> bytes:
    """Random byte changes and/or a truncation."""
    out = bytearray(data)
    op = rng.random()
    if op < 0.7:
        for _ in range(rng.randint(1, 6)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    if op > 0.5:
        out = out[: rng.randrange(len(out))]
    return bytes(out)
