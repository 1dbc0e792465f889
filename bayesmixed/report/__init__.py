"""The HTML report of a do-file run, written atomically.

``write_report(log, out)`` renders the run's log (:mod:`.html`) and writes
``out/index.html`` plus ``out/figures/*.png``: first into a temporary sibling folder,
then renamed into place, so a reader (or a failed run) never sees half a report.
An existing folder is replaced only if it carries our marker file (:mod:`.destination`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .destination import DestinationError, check_destination, mark, swap_in
from .html import build_page

__all__ = ["DestinationError", "build_page", "check_destination", "write_report"]


def write_report(
    log: list,
    out: Path,
    title: str = "bayesmixed report",
    facts: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write ``out/index.html`` and its figures; returns the page's path.

    ``facts`` are lines printed under the title (how the run was made: draws, time);
    ``progress`` receives a line per Bayesian model's figures and one per file step.
    """
    out = Path(out)
    check_destination(out)
    page, files = build_page(log, title, facts or [], progress)
    if progress is not None:
        progress(f"  report: writing index.html and {len(files)} figure files")
    try:
        _write(out, page, files)
    except OSError as err:  # a full disk, a folder that changed meanwhile
        raise DestinationError(f"cannot write the report to {out}: {err}") from err
    return out / "index.html"


def _write(out: Path, page: str, files: dict[str, bytes]) -> None:
    """Build the report in a hidden sibling folder, then swap it in; on failure, remove it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        (tmp / "figures").mkdir()
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / "index.html").write_text(page, encoding="utf-8")
        mark(tmp)
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
