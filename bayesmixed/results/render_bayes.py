"""Text rendering of a :class:`BayesResult` in the layout of Stata's ``bayes:`` output."""

from __future__ import annotations

from .bayes import BayesResult


def render_text(result: BayesResult) -> str:
    return str(result.summary())
