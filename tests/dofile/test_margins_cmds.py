"""``margins``, ``marginsplot``, ``contrast`` and ``pwcompare`` in a do-file (issue 15, item 4)."""

from __future__ import annotations

import pytest

import bayesmixed as bm
from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Figure, Output

WORKSHOP_LINES = (
    "use jsp2\n"
    "mixed math5 math3 || school: math3, cov(unstructured)\n"
    "margins, at(math3=(10(5)40))\n"  # the observed range of math3 is 5 to 40
    "marginsplot\n"
)


def run(tmp_path, text):
    path = tmp_path / "t.do"
    path.write_text(text)
    return run_do(path)


def printed(session):
    return {e.command: e.text for e in session.log if isinstance(e, Output)}


def test_workshop_margins_and_marginsplot(tmp_path):
    s = run(tmp_path, WORKSHOP_LINES)
    text = printed(s)["margins, at(math3=(10(5)40))"]
    fit = bm.mixed("math5 math3 || school: math3, cov(unstructured)", bm.datasets.load("jsp2"))
    b = fit.coef
    for i, value in enumerate(range(10, 45, 5), 1):
        assert f"{i}._at: math3 = {value}" in text
    assert "Predictive margins" in text and "Number of obs = 887" in text
    # xb is linear: the margin at math3 = v is _cons + v * math3
    first = [ln for ln in text.splitlines() if ln.strip().startswith("1  |")][0]
    assert float(first.split("|")[1].split()[0]) == pytest.approx(
        b["_cons"] + 10 * b["math3"], rel=1e-6
    )
    figures = [e for e in s.log if isinstance(e, Figure)]
    assert len(figures) == 1 and figures[0].name.endswith("_marginsplot.png")
    assert figures[0].png.startswith(b"\x89PNG")
    assert s.margins is not None and len(s.margins.rows) == 7


def test_contrast_and_pwcompare_commands(tmp_path):
    s = run(
        tmp_path,
        "use rats\nmixed weight i.dose size female || litter:\ncontrast dose\n"
        "pwcompare dose, mcompare(bonferroni)\nmargins dose, over(female)\n",
    )
    out = printed(s)
    # without an operator, the joint test only (Stata's ANOVA-style table)
    assert "(1 vs 0)" not in out["contrast dose"] and "P>chi2" in out["contrast dose"]
    assert "Bonferroni" in out["pwcompare dose, mcompare(bonferroni)"]
    assert "female#dose" in out["margins dose, over(female)"]


def test_marginsplot_needs_margins(tmp_path):
    with pytest.raises(DoFileError, match="previous command was not margins"):
        run(tmp_path, "use rats\nmixed weight i.dose size female || litter:\nmarginsplot\n")


def test_contrast_refuses_if(tmp_path):
    with pytest.raises(DoFileError, match="if and in are not supported"):
        run(tmp_path, "use rats\nmixed weight i.dose size || litter:\ncontrast dose if female\n")
