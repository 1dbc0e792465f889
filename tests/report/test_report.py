"""The report: ML vs Bayes matching, page structure, atomic replacement."""

from types import SimpleNamespace

import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.dofile.session import Estimate, Figure, Heading, ModelEntry, Output
from bayesmixed.report import write_report
from bayesmixed.report.compare import ml_rows, same_model, strip_prefix


@pytest.fixture(scope="module")
def fit():
    return bm.stata(
        "mixed math5 math3 || school: math3, cov(unstructured)", bm.datasets.load("jsp2")
    )


def test_ml_rows_name_parameters_as_the_posterior_summary_does(fit):
    keys = [(r.equation, r.label) for r in ml_rows(fit)]
    assert keys == [
        ("math5", "math3"),
        ("math5", "_cons"),
        ("school", "var(math3)"),
        ("school", "var(_cons)"),
        ("school", "cov(math3,_cons)"),
        ("Residual", "var(e)"),
    ]
    assert ml_rows(fit)[0].ml == pytest.approx(float(fit.coef["math3"]))


def test_bayes_twin_matching_ignores_prefix_options_and_spacing():
    assert (
        strip_prefix("bayes, prior({y:}, normal(0,1)) rseed(2): mixed y x || g:")
        == " mixed y x || g:"
    )
    assert same_model("mixed y x || g:,cov(uns)", "bayes: mixed  y x || g: , cov(uns)")
    assert not same_model("mixed y x || g:", "bayes: mixed y x || h:")


def test_page_has_sections_outputs_and_figures(tmp_path, fit):
    est = Estimate(fit, "mixed math5 math3 || school: math3, cov(unstructured)", 1)
    log = [
        Heading("Random slopes"),
        Output("summarize", "a <b> table"),
        ModelEntry(est, str(fit)),
        Figure("graph", "fig01_x.png", b"\x89PNG fake", "cap"),
    ]
    page = write_report(log, tmp_path / "rep").read_text()
    assert '<h2 id="s1">Random slopes</h2>' in page and "a &lt;b&gt; table" in page
    assert "Mixed-effects ML regression" in page and 'src="figures/fig01_x.png"' in page
    assert (tmp_path / "rep" / "figures" / "fig01_x.png").read_bytes() == b"\x89PNG fake"
    write_report([Heading("again")], tmp_path / "rep")  # replacing our own report is fine
    assert "again" in (tmp_path / "rep" / "index.html").read_text()
    assert not (tmp_path / "rep" / "figures" / "fig01_x.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_bayes_entry_without_twin_says_so(tmp_path, fit, monkeypatch):
    import bayesmixed.report.html as html

    monkeypatch.setattr(html, "side_by_side", lambda ml, b: [])
    monkeypatch.setattr(html, "bayes_figures", lambda b, ml, stem: ([], ["ppc plot not drawn: x"]))
    est = Estimate(SimpleNamespace(), "bayes: mixed y x || g:", 1, bayes=True)
    page = write_report([ModelEntry(est, "posterior table")], tmp_path / "r").read_text()
    assert "no ML fit of this model earlier" in page and "ppc plot not drawn" in page


def test_side_by_side_pairs_posterior_rows_with_ml_rows(fit):
    from bayesmixed.report.compare import side_by_side

    index = pd.MultiIndex.from_tuples(
        [("math5", "math3"), ("school", "var(math3)"), ("Residual", "var(e)")],
        names=["equation", "parameter"],
    )
    summary = pd.DataFrame(
        {
            "mean": [0.6, 0.01, 25.0],
            "sd": [0.1, 0.01, 1.0],
            "eti_lo": [0.4, 0.0, 23.0],
            "eti_hi": [0.8, 0.03, 27.0],
            "r_hat": [1.0] * 3,
            "ess_bulk": [500.0] * 3,
        },
        index=index,
    )
    fake = SimpleNamespace(summary=lambda: summary)
    rows = side_by_side(fit, fake)
    assert [(r.equation, r.label) for r in rows[:3]] == list(index)
    assert rows[0].ml == pytest.approx(float(fit.coef["math3"])) and rows[0].mean == 0.6
    assert len(rows) == 6  # ML-only parameters keep their rows


@pytest.fixture(scope="module")
def real_twin(tmp_path_factory):
    """A real (tiny) Bayesian twin through the do-file runner: what the report gets."""
    from bayesmixed.dofile import run_do

    tmp = tmp_path_factory.mktemp("twin")
    do = tmp / "twin.do"
    do.write_text(
        "* # Random intercepts\nuse jsp2, clear\nmixed math5 math3 || school:\n"
        "bayes, rseed(5): mixed math5 math3 || school:\n"
    )
    out = tmp / "report"
    session = run_do(do, out=out, draws=40, chains=1, progressbar=False)
    return session, out


def test_real_twin_table_pairs_ml_with_posterior(real_twin):
    session, out = real_twin
    ml, bayes = (e.estimate.result for e in session.log if isinstance(e, ModelEntry))
    page = (out / "index.html").read_text()
    assert page.count('<div class="side">') == 1
    table = page[page.index('<table class="bm-compare">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr") == 5  # header + math3, _cons, var(_cons), var(e)
    summ = bayes.summary()
    from bayesmixed.results.format import fmt_g

    for value in (float(ml.coef["math3"]), float(summ.loc[("math5", "math3"), "mean"])):
        assert fmt_g(value) in table
    assert fmt_g(float(summ.loc[("school", "var(_cons)"), "mean"])) in table


def test_each_model_output_appears_once(real_twin):
    """An ML fit with a bayes: twin is shown beside it, not also on its own (issue 17)."""
    session, out = real_twin
    ml = next(e for e in session.log if isinstance(e, ModelEntry) and not e.estimate.bayes)
    page = (out / "index.html").read_text()
    assert page.count("Mixed-effects ML regression") == 1
    assert page.count(ml.text.splitlines()[0]) == 1
    assert 'href="#bayes01"' in page and 'id="bayes01"' in page


def test_ml_models_without_twins_appear_once_each(tmp_path, fit):
    est = Estimate(fit, "mixed math5 math3 || school: math3, cov(unstructured)", 1)
    log = [ModelEntry(est, str(fit)), ModelEntry(est, str(fit) + " again")]
    page = write_report(log, tmp_path / "rep").read_text()
    assert page.count("Mixed-effects ML regression") == 2 and "beside its Bayesian" not in page


def test_real_twin_has_every_bayesian_figure(real_twin):
    _, out = real_twin
    made = sorted(p.name for p in (out / "figures").iterdir())
    assert made == [f"bayes01_{k}.png" for k in ("caterpillar", "ppc", "shrinkage", "trace")]
    page = (out / "index.html").read_text()
    assert (
        "ML BLUP ± 1.96 SE vs posterior 95% CrI" in page
        and "MCMC (NUTS) for each Bayesian model: 1 chain, 40 tuning steps" in page
    )
    for name in made:
        assert (out / "figures" / name).read_bytes()[:4] == b"\x89PNG"
