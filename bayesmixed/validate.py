"""One check for every whole-number setting a user can pass.

Counts and seeds reach the package from several doors -- Stata's
``bayes, mcmcsize(500) rseed(1):`` prefix, Python keywords (``draws=``,
``seed=``, ``n=``, ``workers=``), do-file runner arguments -- and each used to
call ``int()`` on its own, which truncated ``1.5`` to ``1`` silently and let
``"abc"`` or ``-1`` through to fail deep inside NumPy.  Every door now calls
:func:`whole_number`, so the same mistake gets the same message, naming the
setting and the value.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import SpecificationError

#: smallest value of each kind of setting
SEED, COUNT = 0, 1


def whole_number(value: object, name: str, minimum: int = COUNT, written: str | None = None) -> int:
    """``value`` as an ``int``, or a SpecificationError naming ``name``.

    Parameters
    ----------
    value : an int, a NumPy integer, or a float with no fractional part
        (``1000.0``, what a config file may hold).  Booleans and strings are
        refused: ``True`` is not a count and ``"5"`` is a typing slip that
        should not silently work in one place and fail in another.
    name : how the user wrote the setting (``"rseed()"``, ``"n"``).
    minimum : ``SEED`` (0) for seeds (Stata: "rseed() must be a nonnegative
        integer"), ``COUNT`` (1) for counts, or any other lower bound.
    written : the value as the user typed it, when it came from a command
        line, so the message quotes the command rather than Python's repr.

    Returns
    -------
    int
        The value, never truncated: ``1.5`` is an error, not ``1``.
    """
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if valid and not (math.isfinite(value) and float(value).is_integer()):
        valid = False
    if valid and int(value) >= minimum:
        return int(value)
    shown = written if written is not None else repr(value) if isinstance(value, str) else value
    raise SpecificationError(f"{name} must be {_describe(minimum)}, got {shown}")


def optional_whole_number(value: object, name: str, minimum: int = COUNT) -> int | None:
    """:func:`whole_number`, with ``None`` meaning "the default" passed through."""
    return None if value is None else whole_number(value, name, minimum)


def _describe(minimum: int) -> str:
    if minimum == 0:
        return "a nonnegative whole number"
    if minimum == 1:
        return "a positive whole number"
    return f"a whole number >= {minimum}"


def seed_or_generator(seed: object, name: str = "seed") -> object:
    """A seed for ``numpy.random.default_rng``: None, a Generator or a whole number >= 0.

    NumPy's own message for ``-1`` or ``"abc"`` names neither the setting nor
    the package's call, hence this check at the door.
    """
    if seed is None or isinstance(seed, np.random.Generator | np.random.SeedSequence):
        return seed
    return whole_number(seed, name, SEED)
