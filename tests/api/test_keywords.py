"""One keyword set for bm.mixed / bm.stata / bm.fit, and bm.simulate always the function."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import bayesmixed as bm


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


def test_reml_keyword_equals_stata_reml_option(jsp):
    by_keyword = bm.mixed("math5 math3 || school:", data=jsp, reml=True)
    by_option = bm.mixed("math5 math3 || school:, reml", data=jsp)
    by_formula = bm.fit("math5 ~ math3 + (1 | school)", data=jsp, reml=True)
    assert by_keyword.reml and by_option.reml and by_formula.reml
    assert by_keyword.loglik == by_option.loglik
    assert by_keyword.loglik == pytest.approx(by_formula.loglik, rel=1e-10)
    stata = bm.stata("mixed math5 math3 || school:", jsp, reml=True)
    assert stata.loglik == by_option.loglik
    assert not bm.mixed("math5 math3 || school:", data=jsp, reml=False).reml


def test_reml_keyword_conflicts_are_refused(jsp):
    with pytest.raises(bm.BayesmixedError, match="reml=False"):
        bm.mixed("math5 math3 || school:, reml", data=jsp, reml=False)
    with pytest.raises(bm.BayesmixedError, match="True or False"):
        bm.mixed("math5 math3 || school:", data=jsp, reml="yes")
    with pytest.raises(bm.BayesmixedError, match="linear mixed models"):
        bm.stata("melogit c_use urban || district:", bm.datasets.load("bangladesh"), reml=True)


def test_result_alias_covers_bayes():
    from bayesmixed.api import Result
    from bayesmixed.results.bayes import BayesResult

    assert BayesResult in Result.__args__


def test_simulate_stays_the_function():
    first = bm.simulate
    import bayesmixed.simulate  # noqa: F401  (rebinds the package attribute: the old clash)

    assert inspect.isfunction(first) and bm.simulate is first
    # the other order, in a fresh interpreter: the submodule imported before the package
    code = (
        "import bayesmixed.simulate, inspect, bayesmixed as bm\n"
        "assert inspect.isfunction(bm.simulate), bm.simulate\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
