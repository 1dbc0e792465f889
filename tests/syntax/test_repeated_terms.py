"""A variable repeated in a random-effects equation is refused, with a caret at the repeat."""

from __future__ import annotations

import pytest

from bayesmixed.errors import FormulaError, SpecificationError
from bayesmixed.syntax import formula_to_spec, stata_to_spec


def _caret(message: str) -> int:
    return message.splitlines()[-1].index("^") - 2


@pytest.mark.parametrize(
    "command, repeat, at",
    [
        ("mixed y x || g: x x", "x", 18),
        ("mixed y x || g: x z x, cov(unstructured)", "x", 20),
        ("mixed y x || g: c.x#c.z z x c.z#c.x", "z#x", 28),
    ],
)
def test_stata_repeated_random_slope(command, repeat, at, frame):
    with pytest.raises(SpecificationError, match=f"'{repeat}' is repeated") as info:
        stata_to_spec(command, frame)
    assert _caret(str(info.value)) == at
    assert f"(column {at + 1})" in str(info.value)


def test_stata_three_hundred_copies_fail_fast(frame):
    with pytest.raises(SpecificationError, match="'x' is repeated"):
        stata_to_spec("mixed y x || g:" + " x" * 300, frame)


def test_stata_same_slope_in_different_equations_is_allowed(frame):
    spec = stata_to_spec("mixed y x || school: x || state: x", frame)
    assert [len(eq.terms) for eq in spec.random] == [1, 1]


def test_stata_repeated_fixed_regressor_is_kept_for_the_collinearity_note(frame):
    # Stata keeps both and omits one with "note: x omitted because of collinearity";
    # the design stage does the same, so the syntax stage must not drop or refuse it.
    spec = stata_to_spec("mixed y x x || school:", frame)
    assert [t.variables for t in spec.fixed] == [("x",), ("x",)]


@pytest.mark.parametrize(
    "formula, text",
    [("y ~ x + (x + x | g)", "x"), ("y ~ x + (1 + x:z + z + x:z || g)", "x:z")],
)
def test_lme4_repeated_random_slope(formula, text, frame):
    with pytest.raises(FormulaError, match=f"'{text}' is repeated") as info:
        formula_to_spec(formula, frame)
    assert info.value.column == formula.rindex(text)
