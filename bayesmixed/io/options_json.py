"""A spec's typed options <-> JSON, and the untyped dict of older files.

A saved spec holds ``"estimation"``, ``"display"`` and ``"syntax"`` entries,
each read back field by field and checked by the option classes themselves,
so a file cannot smuggle in an integration method or a level the parser would
refuse; a field added after the file was written takes its default.  Files
written before the options were typed hold one ``"options"`` dict of string
keys instead; :func:`options_from_legacy` reads it, filling the
keys an older front end left out with today's defaults, and refuses a key it
does not know rather than dropping it.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from ..errors import BayesmixedError
from ..spec.options import DEFAULT_INTPOINTS, DEFAULT_LEVEL, DisplayOptions, EstimationOptions
from .archive import ResultFileError
from .values import from_plain_json, plain_json

SYNTAXES = ("stata", "formula")

_LEGACY_KEYS = {
    "bayes", "bayes_options", "dispersion", "display", "eform", "intmethod", "intpoints",
    "level", "log", "base", "syntax",
}  # fmt: skip


def options_to_dict(estimation: EstimationOptions, display: DisplayOptions) -> dict:
    """The two option objects as JSON-ready dicts (the prefix through the tagged codec)."""
    est = asdict(estimation)
    prefix = estimation.bayes_prefix
    est["bayes_prefix"] = None if prefix is None else plain_json(estimation.prefix_options)
    return {"estimation": est, "display": asdict(display)}


def estimation_from_dict(d: object) -> EstimationOptions:
    """Rebuild the estimation options written by :func:`options_to_dict`."""
    values = _entries(d, EstimationOptions, "estimation options")
    prefix = values.get("bayes_prefix")
    if prefix is not None:
        values["bayes_prefix"] = _prefix(from_plain_json(prefix))
    return _build(EstimationOptions, values)


def display_from_dict(d: object) -> DisplayOptions:
    """Rebuild the display options written by :func:`options_to_dict`."""
    return _build(DisplayOptions, _entries(d, DisplayOptions, "display options"))


def syntax_from_json(value: object) -> str:
    if value not in SYNTAXES:
        raise ResultFileError(f"the saved front end {str(value)[:40]!r} is unknown")
    return value


def options_from_legacy(d: object) -> tuple[EstimationOptions, DisplayOptions, str]:
    """Estimation and display options and the syntax from an older file's ``options`` dict."""
    if not isinstance(d, dict) or not all(isinstance(k, str) for k in d):
        raise ResultFileError(f"the saved options {str(d)[:40]} are malformed")
    unknown = sorted(set(d) - _LEGACY_KEYS)
    if unknown:
        raise ResultFileError(f"the saved options hold unknown keys {unknown[:5]}")
    prefix = _prefix(d.get("bayes_options", {})) if d.get("bayes") else None
    estimation = _build(
        EstimationOptions,
        {
            "intmethod": d.get("intmethod"),
            "intpoints": d.get("intpoints", DEFAULT_INTPOINTS),
            "dispersion": d.get("dispersion") or "mean",
            "bayes_prefix": prefix,
        },
    )
    display = _build(
        DisplayOptions,
        {
            "level": d.get("level", DEFAULT_LEVEL),
            "stddeviations": _legacy_scale(d.get("display", "variance")),
            "base": d.get("base", False),
            "eform": d.get("eform"),
            "log": d.get("log"),
        },
    )
    return estimation, display, syntax_from_json(d.get("syntax", "stata"))


def _legacy_scale(value: object) -> bool:
    if value not in ("variance", "stddeviations"):
        raise ResultFileError(f"the saved display {str(value)[:40]!r} is unknown")
    return value == "stddeviations"


def _entries(d: object, cls: type, what: str) -> dict:
    """``d``'s entries, each a field of ``cls``; a field a file lacks keeps its default.

    Every option has a default, so a file written before a field was added
    still loads; an entry this version does not know is refused, as a file
    from a newer version may mean something this one cannot honour.
    """
    names = {f.name for f in fields(cls)}
    if not isinstance(d, dict) or not set(d) <= names:
        raise ResultFileError(f"the saved {what} are malformed")
    return dict(d)


def _prefix(value: object) -> tuple:
    if not isinstance(value, dict):
        raise ResultFileError("the saved bayes prefix options are malformed")
    return tuple(value.items())


def _build(cls: type, values: dict):
    """``cls(**values)``, a value the class refuses reported as a damaged file."""
    try:
        return cls(**values)
    except (BayesmixedError, TypeError, ValueError) as exc:
        raise ResultFileError(f"the saved options are malformed ({exc})") from exc
