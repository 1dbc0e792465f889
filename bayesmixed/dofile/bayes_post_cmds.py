"""``estat icc|sd`` and ``lincom`` after a ``bayes:`` fit in a do-file: posterior summaries.

:mod:`.model_cmds` hands these commands here when the active estimates come from
``bayes:``; each prints the posterior of the quantity in ``bayesstats summary``'s
layout (:mod:`bayesmixed.postestimation.bayes_estat`, :mod:`.bayes_margins`).  Their
options, and ``bayesstats summary``'s, are Stata's ``hpd`` and ``clevel(#)``.
"""

from __future__ import annotations

import re

from .errors import CommandError

EFORM = {"or": "or", "irr": "irr", "eform": "eform", "ef": "eform"}
_LEVEL = re.compile(r"(?:c?l(?:e|ev|eve|evel)?)\(\s*([0-9.]+)\s*\)")


def posterior_options(text: str, what: str) -> tuple[float, bool]:
    """``hpd`` and ``clevel(#)`` (or ``level(#)``), the options of a posterior summary."""
    level, hpd = 95.0, False
    for opt in re.findall(r"\w+(?:\([^)]*\))?", text):
        found = _LEVEL.fullmatch(opt)
        if found:
            level = float(found.group(1))
        elif opt == "hpd":
            hpd = True
        else:
            raise CommandError(f"{what}: option '{opt}' not allowed after bayes: (hpd, clevel(#))")
    return level, hpd


def estat_after_bayes(result, sub: str, words: list[str]) -> str:
    """``estat icc|sd [, hpd clevel(#)]`` after ``bayes:``."""
    level, hpd = posterior_options(" ".join(w for w in words if w != ","), f"estat {sub}")
    if sub == "icc":
        return str(result.estat_icc_summary(level, hpd))
    return str(result.estat_sd(level, hpd))


def lincom_after_bayes(result, text: str) -> str:
    """``lincom expr [, or irr eform hpd clevel(#)]``: the posterior of the combination."""
    from ..postestimation.bayes_margins import lincom

    rest = text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
    body, _, options = rest.partition(",")
    words = re.findall(r"\w+(?:\([^)]*\))?", options)
    eform = next((EFORM[w] for w in words if w in EFORM), None)
    level, hpd = posterior_options(" ".join(w for w in words if w not in EFORM), "lincom")
    return str(lincom(result, body.strip(), level, eform, hpd))
