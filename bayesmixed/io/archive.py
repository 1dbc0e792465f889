"""The container of a saved result: a zip of JSON, ``.npy`` and netCDF members.

Why this format: every member is an open, documented format that other tools
read (``json``, NumPy's ``.npy`` read with ``allow_pickle=False``, netCDF for
ArviZ draws), so a saved result outlives this package and loading one never
runs code from the file.  ``manifest.json`` lists each member with its SHA-256,
so a truncated download or an edited number is reported instead of silently
giving different estimates.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..errors import BayesmixedError

FORMAT = "bayesmixed-result"
VERSION = 1
MANIFEST = "manifest.json"
# A saved result is small (estimates plus the design); refuse absurd members so a
# crafted file cannot exhaust memory when read.
MAX_MEMBER_BYTES = 2**31


class ResultFileError(BayesmixedError):
    """A saved-result file that cannot be read: truncated, tampered with or foreign."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArchiveWriter:
    """Collects members in memory, then writes them with their checksums."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.members: dict[str, bytes] = {}

    def add_bytes(self, name: str, data: bytes) -> str:
        if name in self.members or name == MANIFEST:
            raise ValueError(f"duplicate archive member {name!r}")
        self.members[name] = data
        return name

    def add_json(self, name: str, obj: object) -> str:
        text = json.dumps(obj, allow_nan=False, indent=1, sort_keys=False)
        return self.add_bytes(name, text.encode("utf-8"))

    def add_array(self, array: np.ndarray) -> str:
        """Store ``array`` as ``arrays/<i>.npy`` and return its member name."""
        arr = np.asarray(array)
        if arr.dtype.hasobject:
            raise ResultFileError(f"cannot save an object array (dtype {arr.dtype})")
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        return self.add_bytes(f"arrays/{len(self.members)}.npy", buf.getvalue())

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "members": {name: _sha256(data) for name, data in self.members.items()},
        }
        tmp = path.with_name(path.name + ".part")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            for name, data in self.members.items():
                zf.writestr(name, data)
        tmp.replace(path)  # never leave a half-written file under the user's name
        return path


class ArchiveReader:
    """Reads and verifies every member up front; later reads cannot fail on I/O."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.members = _read_verified(self.path)
        manifest = json.loads(self.members.pop(MANIFEST))
        self.kind: str = manifest["kind"]

    def json(self, name: str) -> object:
        try:
            return json.loads(self._get(name).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResultFileError(f"{self.path}: member {name!r} is not valid JSON") from exc

    def bytes(self, name: str) -> bytes:
        return self._get(name)

    def array(self, name: str) -> np.ndarray:
        try:
            return np.load(io.BytesIO(self._get(name)), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ResultFileError(
                f"{self.path}: member {name!r} is not a plain .npy array"
            ) from exc

    def _get(self, name: str) -> bytes:
        if not isinstance(name, str) or name not in self.members:
            raise ResultFileError(f"{self.path}: refers to a missing member {name!r}")
        return self.members[name]


def _read_verified(path: Path) -> dict[str, bytes]:
    if not path.exists():
        raise ResultFileError(f"no saved result at {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _manifest(zf, path)
            listed = manifest["members"]
            found = {n for n in zf.namelist() if n != MANIFEST}
            if found != set(listed):
                extra = sorted(found ^ set(listed))
                raise ResultFileError(
                    f"{path}: members do not match the manifest ({', '.join(extra[:5])}); "
                    "the file was modified after it was saved"
                )
            out = {MANIFEST: zf.read(MANIFEST)}
            for name, digest in listed.items():
                if zf.getinfo(name).file_size > MAX_MEMBER_BYTES:
                    raise ResultFileError(f"{path}: member {name!r} is implausibly large")
                data = zf.read(name)
                if _sha256(data) != digest:
                    raise ResultFileError(
                        f"{path}: checksum mismatch in {name!r}; the file is corrupted or was "
                        "modified after it was saved"
                    )
                out[name] = data
            return out
    except ResultFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError) as exc:
        raise ResultFileError(
            f"{path} is not a readable bayesmixed result file (truncated or damaged: {exc})"
        ) from exc
    except Exception as exc:  # zlib.error and friends from a damaged stream
        raise ResultFileError(f"{path}: damaged compressed data ({exc})") from exc


def _manifest(zf: zipfile.ZipFile, path: Path) -> dict:
    if MANIFEST not in zf.namelist():
        raise ResultFileError(f"{path} is not a bayesmixed result file (no {MANIFEST})")
    try:
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"{path}: the manifest is damaged") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ResultFileError(f"{path} is not a bayesmixed result file")
    if manifest.get("version") != VERSION:
        raise ResultFileError(
            f"{path} was saved by format version {manifest.get('version')}; "
            f"this bayesmixed reads version {VERSION}"
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in members.items()
    ):
        raise ResultFileError(f"{path}: the manifest is damaged")
    return manifest
