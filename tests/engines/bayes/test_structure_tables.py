"""The Bayesian engine's per-structure tables are keyed by class and cover every structure.

A new covariance structure is one class in ``spec/covariance.py`` plus one line in
``covariance.GRAPHS`` and ``priors.STRUCTURE_PRIORS``; these tests fail when a
registered structure is missing from a table, and show that a class the tables do
not know is refused with a user-facing error rather than built as its parent.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bayesmixed.engines.bayes.covariance import GRAPHS, structure_graph
from bayesmixed.engines.bayes.fit import _default_target_accept
from bayesmixed.engines.bayes.priors import (
    STRUCTURE_PRIORS,
    Prior,
    resolve_priors,
    structure_priors,
)
from bayesmixed.errors import NotSupportedError
from bayesmixed.spec.covariance import STRUCTURES, Independent

from .helpers import toy_design


class _Banded(Independent):
    """A structure no backend table knows (a subclass is a different key)."""

    name = "banded"


@pytest.mark.parametrize("table", [GRAPHS, STRUCTURE_PRIORS])
def test_every_registered_structure_has_one_entry(table):
    assert set(table) == set(STRUCTURES.values())


def test_an_unknown_structure_class_is_refused_by_name():
    with pytest.raises(NotSupportedError, match="_Banded.*banded"):
        structure_graph(_Banded(2))
    with pytest.raises(NotSupportedError, match="_Banded.*banded"):
        structure_priors(_Banded(2))


def test_a_design_with_an_unknown_structure_gets_no_priors():
    design = toy_design("independent")
    block = design.blocks[1]
    odd = replace(block, structure=_Banded(block.k, block.effect_names))
    with pytest.raises(NotSupportedError):
        resolve_priors(replace(design, blocks=[design.blocks[0], odd]))


@pytest.mark.parametrize(
    ("cov", "expected"),
    [
        ("independent", {"sd[g:x]": "halfnormal", "sd[g:_cons]": "halfnormal"}),
        ("identity", {"sd[g]": "halfnormal"}),
        ("exchangeable", {"sd[g]": "halfnormal", "corr[g]": "uniform(-1, 1)"}),
        (
            "unstructured",
            {"sd[g:x]": "halfnormal", "sd[g:_cons]": "halfnormal", "corr[g]": "lkj(1)"},
        ),
    ],
)
def test_default_priors_of_each_structure(cov, expected):
    priors = resolve_priors(toy_design(cov))
    mine = {k: v for k, v in priors.items() if k.startswith(("sd[g", "corr[g"))}
    assert set(mine) == set(expected)
    for key, text in expected.items():
        assert str(mine[key]).startswith(text)


@pytest.mark.parametrize(
    ("cov", "iwishart"),
    [("independent", False), ("identity", False), ("exchangeable", False), ("unstructured", True)],
)
def test_statas_set_uses_inverse_wishart_where_the_table_allows_it(cov, iwishart):
    priors = resolve_priors(toy_design(cov), "stata")
    assert (priors.get("cov[g]") == Prior("iwishart", (3.0,))) is iwishart


def test_corr_start_values_follow_each_structure_variable():
    corr = np.array([[1.0, 0.2, 0.4], [0.2, 1.0, 0.6], [0.4, 0.6, 1.0]])
    exch = structure_graph(STRUCTURES["exchangeable"](3)).corr_value(corr)
    assert float(exch) == pytest.approx(0.4)
    chol = structure_graph(STRUCTURES["unstructured"](3)).corr_value(corr)
    assert np.allclose(chol @ chol.T, corr)
    assert structure_graph(STRUCTURES["identity"](3)).corr_value is None


@pytest.mark.parametrize(
    ("cov", "marginal", "target"),
    [("unstructured", False, 0.95), ("unstructured", True, 0.9), ("exchangeable", False, 0.9)],
)
def test_smaller_steps_only_for_sampled_lkj_blocks(cov, marginal, target):
    assert _default_target_accept(toy_design(cov), marginal) == target
