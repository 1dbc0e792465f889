"""``run_do(draws=, chains=)`` take whole numbers only, checked before the file is read."""

from __future__ import annotations

import pytest

from bayesmixed.dofile import run_do
from bayesmixed.errors import BayesmixedError


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"draws": 2.5}, "draws must be a positive whole number, got 2.5"),
        ({"draws": 0}, "draws must be a positive whole number, got 0"),
        ({"chains": "two"}, "chains must be a positive whole number, got 'two'"),
    ],
)
def test_bad_counts(tmp_path, kwargs, fragment):
    with pytest.raises(BayesmixedError) as info:
        run_do(tmp_path / "missing.do", **kwargs)
    assert fragment in str(info.value)


def test_fractional_observation_number_in_a_data_command(tmp_path):
    path = tmp_path / "in.do"
    path.write_text("use jsp2\nsummarize math5 in 1.5/3\n", encoding="utf-8")
    with pytest.raises(BayesmixedError, match="observation number after 'in' must be a positive"):
        run_do(path)
