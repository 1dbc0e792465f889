"""Data-dependent mistakes: the message names the variable and points at it."""

import pytest

from bayesmixed.errors import DataError, NotSupportedError, SpecificationError, VariableError
from bayesmixed.syntax import stata_to_spec


def caret_column(message: str) -> int:
    return message.splitlines()[-1].index("^") - 2


@pytest.mark.parametrize(
    ("text", "column", "hint"),
    [
        ("mixed y math4 || school:", 8, "math5"),  # close name suggested
        ("mixed y x || schol:", 13, "school"),
        ("mixed y x || school: mth3", 21, "math3"),
        ("mixed y x if yeer > 1975 || id:", 13, "year"),
        ("mixed y x || id:, res(ar 1, t(tme))", 30, "time"),
        ("mixed nope x || id:", 6, None),
        ("mixed y kid* || id:", 8, None),
        ("mixed y water-private || id:", 8, None),  # range backwards
        ("mixed y private-nope || id:", 16, None),
        ("melogit c_use x || id:, binomial(trials)", 33, None),
    ],
)
def test_unknown_variables(frame, text, column, hint):
    with pytest.raises(VariableError) as info:
        stata_to_spec(text, frame)
    message = str(info.value)
    assert caret_column(message) == column, message
    if hint:
        assert f"'{hint}'" in message


def test_factor_checks(frame):
    with pytest.raises(VariableError, match="base level 7"):
        stata_to_spec("mixed y ib7.dose || id:", frame)
    with pytest.raises(VariableError, match="3 levels"):
        stata_to_spec("mixed y ib(#4).dose || id:", frame)
    with pytest.raises(VariableError, match="whole-number"):
        stata_to_spec("mixed y i.x || id:", frame)


def test_in_range_outside_data(frame):
    with pytest.raises(DataError, match="outside"):
        stata_to_spec("mixed y x in 10/500 || id:", frame)
    with pytest.raises(DataError):
        stata_to_spec("mixed y x in 10/5 || id:", frame)


def test_weights_and_r_covariance_not_supported(frame):
    with pytest.raises(NotSupportedError, match="fweight"):  # mixed takes it since issue 15
        stata_to_spec("mepoisson y x || id:, fweight(z)", frame)
    with pytest.raises(NotSupportedError, match="identity"):
        stata_to_spec("mixed y x || _all: R.g, cov(un)", frame)


def test_response_among_regressors(frame):
    with pytest.raises(SpecificationError):
        stata_to_spec("mixed y x y || id:", frame)


def test_response_must_be_single_numeric(frame):
    with pytest.raises(VariableError, match="must be one"):
        stata_to_spec("mixed child* x || id:", frame)
    with pytest.raises(VariableError, match="not numeric"):
        stata_to_spec("mixed label x || id:", frame)


def test_level_repeated_out_of_order(frame):
    with pytest.raises(Exception, match="adjacent"):
        stata_to_spec("mixed y || school: || id: || school: x", frame)
