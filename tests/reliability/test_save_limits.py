"""Crafted save files: size limits before reading, a bounded reader, only referenced members.

Nothing here allocates the sizes it tests: huge members are *claimed* in a
patched zip header, or the limits are lowered through ``load(limits=...)``.
"""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError
from bayesmixed.io import ReadLimits, ResultFileError, load
from bayesmixed.io.npy import read_npy

from .savefile_fuzz import read_members, write_members

GIB = 2**30


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> bytes:
    r = bm.mixed("weight female || litter:", bm.datasets.load("rats"))
    return r.save(tmp_path_factory.mktemp("s") / "fit.bmr").read_bytes()


def _claim_sizes(data: bytes, sizes: dict[str, int]) -> bytes:
    """Patch the central directory so members *claim* ``sizes`` (uncompressed)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        name = bytes(out[pos + 46 : pos + 46 + name_len]).decode()
        if name in sizes:
            struct.pack_into("<I", out, pos + 24, sizes[name])
        pos = out.find(b"PK\x01\x02", pos + 46)
    return bytes(out)


def _write(tmp_path, data: bytes):
    path = tmp_path / "crafted.bmr"
    path.write_bytes(data)
    return path


def _refused_cheaply(path, match: str, **kw) -> None:
    """Refused with ResultFileError, having allocated little (tracemalloc peak)."""
    tracemalloc.start()
    try:
        with pytest.raises(ResultFileError, match=match):
            load(path, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"refusing the file allocated {peak:,} bytes"


def test_the_errors_belong_to_the_package():
    assert issubclass(ResultFileError, BayesmixedError)
    assert issubclass(bm.io.ResultSaveError, ResultFileError)


def test_members_claiming_gigabytes_are_refused_before_reading(saved, tmp_path):
    names = [n for n in read_members(saved) if n.endswith(".npy")][:3]
    path = _write(tmp_path, _claim_sizes(saved, dict.fromkeys(names, GIB)))
    _refused_cheaply(path, "expand to .* more than the limit")


def test_one_member_over_its_limit_is_refused(saved, tmp_path):
    name = next(n for n in read_members(saved) if n.endswith(".npy"))
    path = _write(tmp_path, _claim_sizes(saved, {name: 2 * GIB - 1}))
    _refused_cheaply(path, f"member '{name}' declares .* more than the limit")


def test_zip_bomb_member_is_refused_under_lowered_limits(saved, tmp_path):
    members = read_members(saved)
    doc = json.loads(members["result.json"])
    beta = doc["fields"]["beta"]["$array"]
    buf = io.BytesIO()
    np.save(buf, np.zeros(2**19))  # 4 MiB of zeros: a few kB compressed
    members[beta] = buf.getvalue()
    path = _write(tmp_path, write_members(members))
    assert path.stat().st_size < 100_000
    _refused_cheaply(path, "more than the limit", limits=ReadLimits(max_member_bytes=2**20))
    _refused_cheaply(path, "more than the limit", limits=ReadLimits(max_total_bytes=2**21))


def test_a_header_that_understates_its_member_cannot_bypass_the_bound(saved, tmp_path):
    members = read_members(saved)
    doc = json.loads(members["result.json"])
    beta = doc["fields"]["beta"]["$array"]
    members[beta] = b"\x00" * 2**22
    path = _write(tmp_path, _claim_sizes(write_members(members), {beta: 100}))
    _refused_cheaply(path, "not a readable|damaged|declared size")


def test_huge_manifest_is_refused(saved, tmp_path):
    members = read_members(saved)
    members["manifest.json"] = members["manifest.json"] + b" " * (2**20 + 10)
    path = _write(tmp_path, write_members(members, fix_manifest=False))
    _refused_cheaply(path, "'manifest.json' declares .* more than the limit")
    claimed = _write(tmp_path, _claim_sizes(saved, {"manifest.json": 3 * GIB}))
    _refused_cheaply(claimed, "'manifest.json' declares")


def test_too_many_members_are_refused(saved, tmp_path):
    path = _write(tmp_path, saved)
    _refused_cheaply(path, "members, more than", limits=ReadLimits(max_members=5))
    many = {"manifest.json": b"{}"} | {f"arrays/{i}.npy": b"" for i in range(5000)}
    _refused_cheaply(_write(tmp_path, write_members(many)), "5001 members, more than the 4096")


def test_unreferenced_member_is_refused_even_with_a_valid_checksum(saved, tmp_path):
    members = read_members(saved)
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    members["arrays/999.npy"] = buf.getvalue()
    path = _write(tmp_path, write_members(members))
    with pytest.raises(ResultFileError, match="arrays/999.npy are not part of the result"):
        load(path)


def test_member_names_save_never_writes_are_refused(saved, tmp_path):
    for name in ("evil.py", "../arrays/1.npy", "arrays/1.npy.exe"):
        members = read_members(saved)
        members[name] = b"x"
        with pytest.raises(ResultFileError, match="unexpected member"):
            load(_write(tmp_path, write_members(members)))


def test_duplicate_member_names_are_refused(saved, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in read_members(saved).items():
            zf.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("result.json", b"{}")
    with pytest.raises(ResultFileError, match="lists a member twice"):
        load(_write(tmp_path, buf.getvalue()))


def test_npy_header_claiming_a_huge_shape_allocates_nothing():
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    data = buf.getvalue().replace(b"'shape': (3,), ", b"'shape': (10000000000000,), ", 1)
    tracemalloc.start()
    try:
        with pytest.raises(ResultFileError, match="promises"):
            read_npy(data, "arrays/0.npy")
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "header",
    [b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"{'descr': '<f8', 'for", b"[]"],
)
def test_npy_headers_that_are_not_plain_arrays(header):
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\x00" * 8
    with pytest.raises(ResultFileError):
        read_npy(data, "arrays/0.npy")


def test_npy_reader_matches_numpy(saved):
    for name, data in read_members(saved).items():
        if name.endswith(".npy"):
            expected = np.load(io.BytesIO(data), allow_pickle=False)
            np.testing.assert_array_equal(read_npy(data, name), expected)
            assert read_npy(data, name).dtype == expected.dtype
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    buf = io.BytesIO()
    np.save(buf, fortran)
    np.testing.assert_array_equal(read_npy(buf.getvalue(), "a.npy"), fortran)


def test_deeply_nested_record_is_refused(saved, tmp_path):
    members = read_members(saved)
    text = members["result.json"].decode()
    assert '"boundary": []' in text
    members["result.json"] = text.replace(
        '"boundary": []', '"boundary": ' + "[" * 10**5 + "]" * 10**5
    ).encode()
    with pytest.raises(ResultFileError):
        load(_write(tmp_path, write_members(members)))
