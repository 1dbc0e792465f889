"""Stata's number and name formats, so printed output matches Stata's text.

Stata prints estimates with ``%9.0g`` and log likelihoods with ``%10.0g``:
a *general* format that spends ``width - 2`` characters on digits (one is
kept for the sign and one for the decimal point), drops the leading zero of
numbers below one (``.0390124``), strips trailing zeros (``5.04926``) and
switches to exponential notation only when fixed notation would show fewer
than three significant digits (``1.04e-09``) or the integer part does not
fit.  These rules were read off Stata logs rather than guessed from C's
``%g``, which disagrees on small numbers (C prints ``7.78e-05`` where Stata
prints ``.0000778``).
"""

from __future__ import annotations

import math

MISSING = "."


def is_missing(x: float | None) -> bool:
    return x is None or not math.isfinite(float(x))


def fmt_g(x: float | None, width: int = 9) -> str:
    """Stata's ``%{width}.0g`` without the left padding."""
    if is_missing(x):
        return MISSING
    x = float(x)
    if x == 0.0:
        return "0"
    digits = width - 2
    text = _fixed(abs(x), digits)
    if text is None:
        text = _exponential(abs(x), width, x < 0)
    return ("-" if x < 0 else "") + text


def _fixed(a: float, digits: int) -> str | None:
    """Fixed notation with ``digits`` digit characters, or None if it cannot show 3."""
    exponent = math.floor(math.log10(a))
    if exponent >= 0:
        decimals = max(digits - (exponent + 1), 0)
    else:
        decimals = digits
        if decimals + exponent + 1 < 3:
            return None
    for dec in range(decimals, -1, -1):
        text = f"{a:.{dec}f}"
        if _digit_count(text) <= digits:
            return _strip(text)
    # the integer part alone is wider than the digit budget: plain integer if it fits
    text = f"{a:.0f}"
    return text if len(text) <= digits + 1 else None


def _digit_count(text: str) -> int:
    body = text[1:] if text.startswith("0.") else text
    return sum(ch.isdigit() for ch in body)


def _strip(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith("0."):
        text = text[1:]
    return text or "0"


def _exponential(a: float, width: int, negative: bool) -> str:
    """Mantissa with two decimals in ``%9.0g``, fewer when a 3-digit exponent needs room."""
    for decimals in range(max(width - 7, 0), -1, -1):
        text = f"{a:.{decimals}e}"
        if len(text) + negative <= width:
            return text
    return text


def fmt_f(x: float | None, decimals: int) -> str:
    """Stata's ``%w.df`` (missing values print as ``.``)."""
    if is_missing(x):
        return MISSING
    return f"{float(x):.{decimals}f}"


def fmt_fc(x: float | None, decimals: int = 0) -> str:
    """Stata's ``%w.dfc``: fixed with thousands separators (``39,282``)."""
    if is_missing(x):
        return MISSING
    return f"{float(x):,.{decimals}f}"


def fmt_chi2(x: float | None) -> str:
    """The LR-test statistic: ``%8.2f`` in its usual range, ``%8.2e`` outside it."""
    if is_missing(x):
        return MISSING
    x = float(x)
    if x == 0 or 0.005 < x < 1e5:
        return f"{x:.2f}"
    return f"{x:.2e}"


def stat_pair(label: str, value: str) -> str:
    """``label = value`` as Stata's headers align it: the label in 18 columns, the value
    right-aligned in 11 (``Number of obs     =        887``)."""
    return f"{label:<18}={value:>11}"


def two_columns(left: str, right: str = "") -> str:
    """A header line: ``left`` in the first 48 columns, then ``right`` (usually a
    :func:`stat_pair`); a wider ``left`` keeps one space before ``right``."""
    return f"{left:<48}{right}" if len(left) < 48 else f"{left} {right}"


def fmt_level(level: float) -> str:
    """A confidence level as Stata writes it in headers: ``95``, ``99.5``."""
    return f"{level:g}"


def abbrev(name: str, width: int) -> str:
    """Stata's ``abbrev()``: keep the head, a tilde and the last character."""
    if len(name) <= width:
        return name
    if width < 3:
        return name[:width]
    return name[: width - 2] + "~" + name[-1]
