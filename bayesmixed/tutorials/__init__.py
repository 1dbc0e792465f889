"""The workshop do-file and the tutorial notebooks, shipped inside the package.

``path("workshop.do")`` finds them wherever bayesmixed is installed (a checkout, an
editable install or a wheel), so ``bm.run_do(tutorials.path("workshop.do"))`` and
``bayesmixed workshop`` work from any directory.  The notebooks (``01_*.py`` ...) are
jupytext files, not modules to import; run them with ``python -m runpy`` or open them
in Jupyter.  The checkout's top-level ``tutorials/`` is a link to this folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..errors import BayesmixedError

__all__ = ["names", "path"]


def path(name: str = "workshop.do") -> Path:
    """The file ``name`` of the shipped tutorials (``workshop.do``, ``01_jsp_...py``)."""
    found = files(__name__) / name
    if not isinstance(found, Path) or not found.is_file():
        raise BayesmixedError(
            f"no tutorial file {name!r} in the installed bayesmixed (have: {', '.join(names())})"
        )
    return found


def names() -> list[str]:
    """The shipped tutorial files: the workshop do-file and the notebooks, in order."""
    return sorted(
        p.name
        for p in files(__name__).iterdir()
        if p.name.endswith(".do") or (p.name[:1].isdigit() and p.name.endswith(".py"))
    )
