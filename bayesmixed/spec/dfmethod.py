"""Stata's ``dfmethod()`` choice as a value: which small-sample df method, and its options.

Backend-free so that the Stata front end can check ``dfmethod(sat, oim)`` while
parsing; the numbers live in :mod:`bayesmixed.postestimation.dfmethod`.  The
canonical text (``str(method)``) is what :class:`~bayesmixed.spec.options.DisplayOptions`
stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecificationError

DF_METHODS = ("residual", "repeated", "anova", "satterthwaite", "kroger")
LABELS = {
    "residual": "Residual",
    "repeated": "Repeated",
    "anova": "ANOVA",
    "satterthwaite": "Satterthwaite",
    "kroger": "Kenward-Roger",
}
REML_ONLY = ("satterthwaite", "kroger")


@dataclass(frozen=True)
class DFMethod:
    """One df method; ``oim`` asks Satterthwaite for the observed information."""

    name: str
    oim: bool = False

    @classmethod
    def parse(cls, text: str | DFMethod) -> DFMethod:
        """``"kroger"``, ``"sat"``, ``"satterthwaite, oim"`` -> a method (unique prefixes of 3+)."""
        if isinstance(text, DFMethod):
            return text
        words = str(text).replace(",", " ").split()
        if not words:
            raise SpecificationError(f"dfmethod() needs one of {', '.join(DF_METHODS)}")
        hits = [m for m in DF_METHODS if len(words[0]) >= 3 and m.startswith(words[0].lower())]
        if len(hits) != 1:
            raise SpecificationError(
                f"unknown dfmethod '{words[0]}'; use one of {', '.join(DF_METHODS)}"
            )
        name, extra = hits[0], [w.lower() for w in words[1:]]
        allowed = {"satterthwaite": {"eim", "oim"}, "kroger": {"eim"}}.get(name, set())
        bad = [w for w in extra if w not in allowed]
        if bad or len(extra) > 1:
            raise SpecificationError(f"dfmethod({name}) does not take '{' '.join(extra)}'")
        return cls(name, extra == ["oim"])

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def __str__(self) -> str:
        return f"{self.name}, oim" if self.oim else self.name
