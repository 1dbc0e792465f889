"""The HTML report of a do-file run, written atomically.

``write_report(log, out)`` renders the run's log (:mod:`.html`) and writes
``out/index.html`` plus ``out/figures/*.png``: first into a temporary sibling folder,
then renamed into place, so a reader (or a failed run) never sees half a report.
An existing folder is replaced only if it looks like one of our reports.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import BayesmixedError
from .html import build_page

__all__ = ["build_page", "check_destination", "write_report"]


def check_destination(out: Path) -> None:
    """Refuse a destination we would have to clobber: a file, or a folder not ours."""
    if out.exists() and not out.is_dir():
        raise BayesmixedError(f"report destination {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "index.html").is_file():
        raise BayesmixedError(
            f"report destination {out} is a non-empty folder without index.html; "
            "choose an empty or new folder so nothing of yours is replaced"
        )


def write_report(
    log: list, out: Path, title: str = "bayesmixed report", facts: list[str] | None = None
) -> Path:
    """Write ``out/index.html`` and its figures; returns the page's path.

    ``facts`` are lines printed under the title (how the run was made: draws, time).
    """
    out = Path(out)
    check_destination(out)
    page, files = build_page(log, title, facts or [])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        (tmp / "figures").mkdir()
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / "index.html").write_text(page, encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "index.html"


def _swap_in(tmp: Path, out: Path) -> None:
    os.chmod(tmp, 0o755)
    if not out.exists():
        tmp.rename(out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
