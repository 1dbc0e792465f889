"""``mixed ..., dfmethod()`` and ``estat df`` in a do-file (issue 15, item 1)."""

import pytest

import bayesmixed as bm
from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Output
from bayesmixed.results.format import fmt_g

FIT = "mixed weight i.dose size female || litter:, reml dfmethod(kroger)"


def run(tmp_path, text):
    path = tmp_path / "t.do"
    path.write_text(text)
    return run_do(path)


def printed(session):
    return {e.command: e.text for e in session.log if isinstance(e, Output)}


def test_dfmethod_fit_and_estat_df(tmp_path):
    s = run(
        tmp_path,
        f"use rats\n{FIT}\nestat df\n"
        "estat df, method(residual repeated anova satterthwaite kroger)\n"
        "estat df, method(satterthwaite) oim\n",
    )
    out = printed(s)
    expected = bm.stata(FIT, bm.datasets.load("rats"))
    shown = str(s.current.result)  # the fit prints as a model entry
    assert "DF method: Kenward-Roger" in shown and "P>|t|" in shown
    one = out["estat df"]
    assert "Kenward-Roger" in one
    for name, df in expected.small_sample()["df"].items():
        assert any(
            line.strip().startswith(f"{name} |") and fmt_g(df) in line for line in one.splitlines()
        ), name
    many = out["estat df, method(residual repeated anova satterthwaite kroger)"]
    head = next(line for line in many.splitlines() if "Residual" in line)
    assert head.split("|")[1].split() == [
        "Residual",
        "Repeated",
        "ANOVA",
        "Satterthwaite",
        "Kenward-Roger",
    ]
    sat = expected.estat_df("satterthwaite, oim")["Satterthwaite"]["size"]
    assert fmt_g(sat) in out["estat df, method(satterthwaite) oim"]


def test_estat_df_refusals(tmp_path):
    with pytest.raises(DoFileError, match="method\\(\\) is required"):
        run(tmp_path, "use rats\nmixed weight size || litter:, reml\nestat df\n")
    with pytest.raises(DoFileError, match="only available with REML"):
        run(tmp_path, "use rats\nmixed weight size || litter:\nestat df, method(kroger)\n")
    with pytest.raises(DoFileError, match="option detail not allowed"):
        run(tmp_path, f"use rats\n{FIT}\nestat df, detail\n")
    with pytest.raises(DoFileError, match="linear"):
        run(tmp_path, "use rats\nregress weight size\nestat df, method(residual)\n")
