"""Shared pieces of the fuzz tests: the frame, a per-input time limit, the checks."""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager

import numpy as np
import pandas as pd

from bayesmixed.errors import BayesmixedError, NotSupportedError, StataSyntaxError
from bayesmixed.io import spec_from_dict, spec_to_dict
from bayesmixed.io.command import spec_to_stata
from bayesmixed.syntax import stata_to_spec

# generous: a parse takes milliseconds, but a loaded 2-core machine (or the first call,
# which imports formulae) can take seconds; a real hang still fails
SECONDS_PER_INPUT = 10.0
COUNTS = {"inputs": 0, "specs": 0, "rendered": 0, "errors": 0}


def make_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 30
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "c_use": rng.integers(0, 2, n),
            "n": np.full(n, 5),
            "k": rng.integers(0, 6, n),
            "g": np.arange(n) % 3 + 1,
            "id": np.arange(n) // 3,
            "school": np.arange(n) % 5,
            "dose": np.arange(n) % 3,
            "time": np.arange(n) % 3,
            "label": np.array(["a", "b", "c"] * 10, dtype=object),
        }
    )


class InputTimeout(Exception):
    """An input that took longer than SECONDS_PER_INPUT: a hang, reported as a failure."""


@contextmanager
def time_limit(seconds: float = SECONDS_PER_INPUT):
    def handler(signum, frame):
        raise InputTimeout(f"input ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check_error(exc: BayesmixedError, text: str) -> None:
    """A syntax error must point at its column under the repeated input."""
    COUNTS["errors"] += 1
    message = str(exc)
    assert message.strip(), f"empty error message for {text!r}"
    if isinstance(exc, StataSyntaxError) and exc.column is not None and exc.source:
        lines = message.splitlines()
        assert lines[-1].strip() == "^", f"no caret for {text!r}: {message}"
        if exc.source.splitlines() == [exc.source]:
            _check_excerpt(exc, lines[-2][2:], lines[-1].index("^") - 2)
        elif exc.source not in message:  # line breaks: a long line is quoted as an excerpt
            core = lines[-2][2:].removeprefix("...").removesuffix("...")
            assert core and any(core in line for line in exc.source.splitlines()), (
                f"the caret line quotes no line of {exc.source!r}: {message}"
            )


def _check_excerpt(exc: StataSyntaxError, shown: str, caret: int) -> None:
    """The source line (a long one cut to '...' + excerpt + '...') with the caret on the column."""
    head = 3 if shown.startswith("...") and not exc.source.startswith("...") else 0
    tail = 3 if shown.endswith("...") and len(shown) - head < len(exc.source) else 0
    excerpt = shown[head : len(shown) - tail]
    start = min(max(exc.column, 0), len(exc.source)) - (caret - head)
    assert start >= 0 and exc.source[start : start + len(excerpt)] == excerpt, (
        f"the caret line does not quote {exc.source!r} at column {exc.column}"
    )
    assert (head > 0) == (start > 0) and (tail > 0) == (start + len(excerpt) < len(exc.source))


def check_spec(spec, frame: pd.DataFrame, text: str) -> None:
    """A parsed spec survives JSON and re-renders to a command with the same meaning."""
    COUNTS["specs"] += 1
    back = spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))))
    assert back == spec, f"JSON round trip changed the spec of {text!r}"
    assert (back.estimation, back.display, back.syntax) == (
        spec.estimation,
        spec.display,
        spec.syntax,
    )
    try:
        command = spec_to_stata(spec)
    except NotSupportedError:
        return
    COUNTS["rendered"] += 1
    again = stata_to_spec(command, frame)
    assert again == spec, f"{text!r} -> {command!r} parses to a different model"
    assert _fit_options(again) == _fit_options(spec), f"{text!r} -> {command!r}: options differ"


def _fit_options(spec) -> tuple:
    return spec.estimation, spec.display


def run_one(parse, text: str, frame: pd.DataFrame) -> None:
    COUNTS["inputs"] += 1
    with time_limit():
        try:
            spec = parse(text)
        except BayesmixedError as exc:
            check_error(exc, text)
            return
    check_spec(spec, frame, text)
