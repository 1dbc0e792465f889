"""The workshop datasets, and loading a user's own ``.dta`` or ``.csv`` file.

The five bundled sets are built by ``data/build_datasets.py`` from public R packages (sources,
licences and the meaning of every integer code are in ``PROVENANCE.md`` beside them).  They are
stored once, in the repository's ``data/`` folder; ``files`` in this package is a link to it, so an
editable install reads the canonical copies and a wheel carries real copies (setuptools follows
the link when it collects package data).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import DataError

__all__ = ["list_datasets", "load"]

_BUNDLED = ("jsp2", "productivity", "grunfeld", "rats", "bangladesh")
_READERS = {".csv": "csv", ".dta": "stata"}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load` for the bundled workshop datasets.

    Returns
    -------
    list of str
        Dataset names in the order the workshop introduces them.
    """
    return list(_BUNDLED)


def load(name_or_path: str | os.PathLike[str]) -> pd.DataFrame:
    """Return a bundled dataset by name, or read a Stata ``.dta`` or ``.csv`` file.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`list_datasets`, or the path of a ``.dta`` / ``.csv`` file.  A bundled
        name wins over a file of the same name in the working directory, so examples behave the
        same wherever they are run.

    Returns
    -------
    pandas.DataFrame
        The data.  Stata value labels are *not* turned into categories: factor variables keep
        their integer codes, as Stata's own commands see them (``i.dose`` → ``1.dose``).

    Raises
    ------
    bayesmixed.errors.DataError
        For an unknown name, a missing or unreadable file, or an unsupported file type; the
        message lists the bundled names.
    """
    if isinstance(name_or_path, str) and name_or_path in _BUNDLED:
        return _load_bundled(name_or_path)
    if not isinstance(name_or_path, str | os.PathLike):
        raise DataError(
            f"load() takes a dataset name or a file path, not {type(name_or_path).__name__}; "
            f"bundled datasets: {_names()}"
        )
    path = Path(name_or_path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(
            f"unknown dataset {str(name_or_path)!r}: give one of {_names()} "
            "or the path of a .dta or .csv file"
        )
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} not found (bundled datasets: {_names()})")
    return _read(path, reader)


def _read(path: Path, reader: str) -> pd.DataFrame:
    """Read one file, turning the readers' assorted exceptions into a DataError."""
    try:
        if reader == "stata":
            return pd.read_stata(path, convert_categoricals=False)
        return pd.read_csv(path)
    # Deliberately broad: pandas' readers document no set of exceptions, and a damaged
    # .dta surfaces as struct.error, EOFError, KeyError, IndexError or MemoryError (a
    # header claiming billions of rows) from deep inside them.  Whatever the parser
    # raises, the user's file is what is wrong, so the message names it.
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"[:200]
        raise DataError(
            f"cannot read {str(path)!r} as a {path.suffix} file; it is damaged or not in "
            f"that format ({detail})"
        ) from exc


def _load_bundled(name: str) -> pd.DataFrame:
    packaged = resources.files(__name__).joinpath("files", f"{name}.csv")
    if packaged.is_file():
        with packaged.open("rb") as handle:
            return pd.read_csv(handle)
    # A checkout where the link could not be created (e.g. Windows without symlink support).
    source = Path(__file__).resolve().parents[2] / "data" / f"{name}.csv"
    if source.is_file():
        return pd.read_csv(source)
    raise DataError(f"bundled dataset {name!r} is missing from this installation of bayesmixed")


def _names() -> str:
    return ", ".join(_BUNDLED)
