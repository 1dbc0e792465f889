"""The family registry: Stata's family words and ``me*`` commands -> Family classes.

Each response family is one class in :mod:`bayesmixed.spec.families` (its
support, links, log density for NumPy and PyTensor, score and curvature,
simulation, Stata names); this module is the one place that lists them, so
adding a family is its module plus one line here.  Conventions follow Stata's
``meglm``: binomial responses are counts of successes out of ``trials``, the
negative binomial has mean dispersion, gamma and Gaussian carry a dispersion;
log densities include every constant, so log likelihoods match Stata and lme4.
"""

from __future__ import annotations

from ..errors import SpecificationError
from .families.base import Ancillary, Family, ResponseWarning
from .families.binary import Bernoulli, Binomial
from .families.continuous import Gamma, Gaussian
from .families.counts import NegativeBinomial, Poisson
from .families.links import LINKS, Link
from .families.ordinal import Ordinal

REGISTRY: dict[str, type[Family]] = {
    cls.name: cls
    for cls in (Gaussian, Bernoulli, Binomial, Poisson, NegativeBinomial, Gamma, Ordinal)
}

__all__ = [
    "LINKS",
    "REGISTRY",
    "Ancillary",
    "Family",
    "Link",
    "ResponseWarning",
    "command_family",
    "get_family",
    "glm_commands",
]


def get_family(name: str, link: str | None = None) -> Family:
    """Family ``name`` with ``link`` (its default when ``None``), checked."""
    cls = REGISTRY.get(name)
    if cls is None:
        raise SpecificationError(f"unknown family '{name}': use {', '.join(REGISTRY)}")
    return cls(link)


def glm_commands() -> dict[str, tuple[str, str]]:
    """Every ``me*`` command that fixes a family: command -> (family, link)."""
    out: dict[str, tuple[str, str]] = {}
    for cls in REGISTRY.values():
        for command, link in cls.commands.items():
            out[command] = (cls.name, link)
    return out


def command_family(command: str) -> tuple[str, str] | None:
    """(family, link) that ``command`` fits, or ``None`` for ``meglm``/``mixed``."""
    return glm_commands().get(command)
