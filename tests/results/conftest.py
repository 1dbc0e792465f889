"""Fixtures: hand-built results from Stata's printed examples (see mixed_result_builders)."""

from __future__ import annotations

import pytest
from mixed_result_builders import build, pig_spec

from bayesmixed.results.mixed import MixedResult


@pytest.fixture
def pig() -> MixedResult:
    return build(pig_spec())
