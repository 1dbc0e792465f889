"""What ``test``, ``testparm`` and ``lincom`` print, as Stata prints it after ``mixed`` and ``me*``.

Kept apart from the computation (:mod:`.wald`): chi2 tests, and after
``dfmethod()`` F tests with a denominator df; a linear combination with z, or
with t and its df after ``dfmethod()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..results.format import fmt_g
from ..results.render import ci_header
from ..spec.options import DEFAULT_LEVEL

EFORM_LABELS = {"or": "Odds ratio", "irr": "IRR", "eform": "exp(b)"}


@dataclass(frozen=True)
class TestResult:
    """Outcome of :func:`test`; ``str()`` prints it as Stata does after ``mixed``."""

    __test__ = False  # not a pytest class, whatever its name

    chi2: float
    df: int
    p: float
    constraints: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    f: float | None = None  # small-sample F statistic (dfmethod()), else None
    ddf: float | None = None  # its denominator degrees of freedom
    dfmethod: str = ""  # the method's label, e.g. "Kenward-Roger"

    def __str__(self) -> str:
        lines = [""]
        for i, text in enumerate(self.constraints, 1):
            lines.append(f" ({i:2d})  {text}")
            if i in self.dropped:
                lines.append(f"       Constraint {i} dropped")
        if self.f is None:
            return "\n".join(
                lines
                + [
                    "",
                    f"           chi2({self.df:3d}) ={self.chi2:8.2f}",
                    f"         Prob > chi2 ={self.p:10.4f}",
                ]
            )
        head = f"F({self.df:3d},{ddf_text(self.ddf)})"
        return "\n".join(
            lines + ["", f"{head:>20} ={self.f:8.2f}", f"            Prob > F ={self.p:10.4f}"]
        )


def ddf_text(ddf: float) -> str:
    """A denominator df: whole numbers as Stata's ``F(  1,   317)``, others with 2 decimals."""
    return f"{ddf:6.0f}" if abs(ddf - round(ddf)) < 1e-9 else f"{ddf:7.2f}"


@dataclass(frozen=True)
class LincomResult:
    """Outcome of :func:`lincom`: on the exponentiated scale when ``eform`` is set.

    ``z`` and ``p`` always test the linear combination against 0 (a ratio
    against 1), as Stata's table does; after ``dfmethod()`` ``z`` is the t
    statistic and ``df`` its degrees of freedom.
    """

    estimate: float
    se: float
    z: float
    p: float
    lower: float
    upper: float
    constraint: str = ""
    depvar: str = ""
    level: float = DEFAULT_LEVEL
    eform: str | None = None
    df: float | None = None  # after dfmethod(): z holds t, tested against t(df)

    def __str__(self) -> str:
        label = f"{EFORM_LABELS[self.eform]:>11} " if self.eform else " Coefficient"
        stat = "      z    P>|z|" if self.df is None else "      t    P>|t|"
        head = f"{self.depvar[:12]:>12} |{label}  Std. err.{stat}"
        head += f"{ci_header(self.level):>25}"
        z = "." if not math.isfinite(self.z) else f"{self.z:.2f}"
        p = "." if not math.isfinite(self.p) else f"{self.p:.3f}"
        row = (
            f"{'(1)':>12} |{fmt_g(self.estimate):>11}{fmt_g(self.se):>11}{z:>9}{p:>8}"
            f"{fmt_g(self.lower):>13}{fmt_g(self.upper):>12}"
        )
        return "\n".join(
            ["", f" ( 1)  {self.constraint}", "", "-" * 78, head, "-" * 13 + "+" + "-" * 64]
            + [row, "-" * 78]
        )
