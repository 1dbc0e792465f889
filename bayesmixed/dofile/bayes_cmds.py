"""``bayesstats`` and ``bayestest`` in a do-file, after a ``bayes:`` fit.

``bayesstats summary [items] [, clevel(#)]``, ``bayesstats ess [items]``,
``bayesstats grubin [items]``, ``bayesstats ic [names]`` (the active fit, or stored
``bayes:`` estimates by name) and ``bayestest interval spec`` dispatch to
:mod:`bayesmixed.postestimation.bayesstats` and :mod:`.bayestest`; items are
Stata's parameter names in braces or expressions in parentheses.
"""

from __future__ import annotations

import re

from ..errors import NotSupportedError
from .errors import CommandError
from .session import Session

_SUBCOMMANDS = {"summary": 4, "ess": 3, "grubin": 6, "ic": 2}  # shortest abbreviations
_CLEVEL = re.compile(r"\bclev(?:e|el)?\(\s*([0-9.]+)\s*\)")


def _bayes_estimate(session: Session, what: str, name: str = "."):
    est = session.require_estimate(what) if name == "." else session.estimate(name)
    if not est.bayes:
        raise CommandError(f"{what}: the estimates {name} are not from a bayes: fit")
    return est


def _subcommand(word: str, table: dict[str, int], command: str) -> str:
    for full, minimum in table.items():
        if len(word) >= minimum and full.startswith(word):
            return full
    raise NotSupportedError(f"{command} {word} is not available (available: {', '.join(table)})")


def cmd_bayesstats(session: Session, text: str, line: int) -> str:
    from ..postestimation import bayesstats

    parts = text.split(None, 2)
    if len(parts) < 2:
        raise CommandError("bayesstats: say which statistic (summary, ess, grubin, ic)")
    sub = _subcommand(parts[1].rstrip(","), _SUBCOMMANDS, "bayesstats")
    rest = parts[2] if len(parts) > 2 else ""
    if sub == "ic":
        names = rest.replace(",", " ").split() or ["."]
        results = [_bayes_estimate(session, "bayesstats ic", n).result for n in names]
        return str(bayesstats.ic(results, ["active" if n == "." else n for n in names]))
    body, _, options = _split_options(rest)
    result = _bayes_estimate(session, f"bayesstats {sub}").result
    spec = body.strip() or None
    if sub == "summary":
        match = _CLEVEL.search(options)
        leftover = _CLEVEL.sub("", options).strip()
        if leftover:
            raise CommandError(f"bayesstats summary: option(s) not allowed: {leftover}")
        level = float(match.group(1)) if match else 95.0
        return str(bayesstats.summary(result, spec, level))
    if options.strip():
        raise CommandError(f"bayesstats {sub}: option(s) not allowed: {options.strip()}")
    return str(getattr(bayesstats, sub)(result, spec))


def _split_options(text: str) -> tuple[str, str, str]:
    """The items before the first comma outside braces and parentheses, and the options."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            return text[:i], ",", text[i + 1 :]
    return text, "", ""


def cmd_bayestest(session: Session, text: str, line: int) -> str:
    from ..postestimation.bayestest import interval, parse_interval

    parts = text.split(None, 2)
    if len(parts) < 2:
        raise CommandError("bayestest: say which test (interval)")
    _subcommand(parts[1].rstrip(","), {"interval": 3}, "bayestest")
    result = _bayes_estimate(session, "bayestest interval").result
    specs, joint, inclusive = parse_interval(parts[2] if len(parts) > 2 else "")
    return str(interval(result, specs, joint, inclusive))
