"""The do-file runner end to end: Stata semantics, line-numbered errors, atomic reports."""

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.cli import main
from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Figure, ModelEntry, Unavailable
from bayesmixed.errors import NotSupportedError

GOOD = """\
* # Schools
use jsp2, clear
describe
summarize math3 math5 if school <= 10
regress math5 math3, vce(cluster school)
quietly mixed math5 math3 || school:
estimates store ri
predict yhat, fitted
predict u0, reffects
predict se0, reses
gen res = math5 - yhat
sort school math3
twoway (scatter math5 math3) (line yhat math3, connect(ascending)) if school <= 10
graph matrix math3 math5, half
mixed math5 math3 || school: math3, ///
    cov(unstructured)
estimates store uns
lrtest ri uns
estimates table ri uns, se
estat ic
"""


def write(tmp_path, text, name="t.do"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    out = tmp / "report"
    session = run_do(write(tmp, GOOD), out=out)
    return session, out


def test_report_written_with_outputs_and_figures(good_run):
    session, out = good_run
    page = (out / "index.html").read_text()
    assert "(Std. err. adjusted for 48 clusters in school)" in page
    assert "Likelihood-ratio test" in page and "Akaike" in page
    figures = [e for e in session.log if isinstance(e, Figure)]
    assert len(figures) == 2
    for fig in figures:
        assert (out / "figures" / fig.name).read_bytes()[:4] == b"\x89PNG"


def test_quietly_fits_without_printing(good_run):
    session, out = good_run
    models = [e for e in session.log if isinstance(e, ModelEntry)]
    assert [m.quiet for m in models] == [False, True, False]
    assert (out / "index.html").read_text().count("Mixed-effects ML regression") == 1


def test_predict_reffects_and_reses_equal_lme4(good_run):
    # R: m <- lmer(math5 ~ math3 + (1 | school), jsp2, REML = FALSE)
    #    ranef(m, condVar = TRUE): schools 1-3 and sqrt(postVar)
    data = good_run[0].data
    first = data.groupby("school")[["u0", "se0"]].first().loc[[1, 2, 3]]
    np.testing.assert_allclose(first["u0"], [-2.1382961627, 0.4031468974, 1.1320413107], rtol=1e-6)
    np.testing.assert_allclose(first["se0"], [0.7951789627, 1.1043203235, 1.1797756170], rtol=1e-6)
    np.testing.assert_allclose(data["res"], data["math5"] - data["yhat"])


def test_stored_estimates_and_sort_state(good_run):
    session = good_run[0]
    assert set(session.stored) == {"ri", "uns"}
    assert session.sortvars == ["school", "math3"]
    data = session.data
    assert data["school"].is_monotonic_increasing
    assert data.groupby("school")["math3"].apply(lambda s: s.is_monotonic_increasing).all()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("use jsp2\nsummarize math5\nmixed math5 mathx || school:\n", 3, "mathx"),
        ("use jsp2\n\nmixed math5 math3 || school:, covariance(wrong)\n", 3, "wrong"),
        ("use jsp2\nreshape long x, i(school)\n", 2, "command 'reshape' is not supported"),
        ("use jsp2\ngen z = math5 +\n", 2, "expression"),
        ("summarize math5\n", 1, "no dataset in use"),
        ("use jsp2\npredict yhat\n", 2, "last estimates not found"),
        ("use jsp2\nlrtest a b\n", 2, "not found"),
    ],
)
def test_errors_name_the_line_and_leave_no_report(tmp_path, text, line, message):
    out = tmp_path / "report"
    with pytest.raises(DoFileError, match=message) as info:
        run_do(write(tmp_path, text), out=out)
    assert info.value.line == line
    assert f"line {line}" in str(info.value)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["t.do"]  # no temporary folder left


def test_failed_run_keeps_the_previous_report(tmp_path):
    out = tmp_path / "report"
    run_do(write(tmp_path, "use jsp2\nsummarize math5\n"), out=out)
    before = (out / "index.html").read_text()
    with pytest.raises(DoFileError):
        run_do(write(tmp_path, "use jsp2\nsummarize nothere\n"), out=out)
    assert (out / "index.html").read_text() == before


def test_report_refuses_to_replace_a_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(bm.BayesmixedError, match="not written by bayesmixed"):
        run_do(write(tmp_path, "use jsp2\n"), out=out)
    assert (out / "thesis.tex").read_text() == "precious"


def test_do_runs_nested_files_relative_to_the_caller(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    write(sub, "summarize math5\ngen bad = nothere\n", "inner.do")
    with pytest.raises(DoFileError) as info:
        run_do(write(tmp_path, "use jsp2\ndo sub/inner\n"))
    assert info.value.path.endswith("inner.do") and info.value.line == 2


@pytest.fixture
def engine_refuses_bayes(monkeypatch):
    """The API as it is, except that every bayes: fit is refused as not supported."""
    from bayesmixed.dofile import model_cmds

    real = model_cmds.api.stata

    def stata(text, data, **options):
        if text.startswith("bayes"):
            raise NotSupportedError("Bayesian estimation of this model is not available yet")
        return real(text, data, **options)

    monkeypatch.setattr(model_cmds.api, "stata", stata)


TWIN = "use jsp2\nmixed math5 math3 || school:\nbayes: mixed math5 math3 || school:\n"


def test_unsupported_bayes_twin_is_noted_and_the_run_goes_on(tmp_path, engine_refuses_bayes):
    out = tmp_path / "r"
    session = run_do(write(tmp_path, TWIN + "estimates store b\nsummarize math5\n"), out=out)
    missing = [e for e in session.log if isinstance(e, Unavailable)]
    assert [(e.line, e.reason) for e in missing] == [
        (3, "Bayesian estimation of this model is not available yet")
    ]
    page = (out / "index.html").read_text()
    assert page.count('class="unavailable"') == 1 and "not available in this version" in page
    assert '<div class="side">' not in page and not list((out / "figures").glob("bayes*"))
    assert "1 Bayesian twin(s) not available" in page and "Std. dev." in page  # summarize ran


@pytest.mark.parametrize("after", ["predict x", "estat ic", "estimates restore b"])
def test_using_a_missing_bayes_fit_stops_with_the_reason(tmp_path, engine_refuses_bayes, after):
    text = TWIN + f"estimates store b\n{after}\n"
    with pytest.raises(DoFileError, match="cannot fit") as info:
        run_do(write(tmp_path, text), out=tmp_path / "r")
    assert info.value.line == 5 and not (tmp_path / "r").exists()


def test_strict_stops_at_an_unsupported_bayes_twin(tmp_path, engine_refuses_bayes):
    with pytest.raises(DoFileError, match="not available yet") as info:
        run_do(write(tmp_path, TWIN), out=tmp_path / "r", strict=True)
    assert info.value.line == 3 and not (tmp_path / "r").exists()


def test_cli_error_names_the_line_and_writes_no_report(tmp_path, capsys):
    out = tmp_path / "report"
    bad = write(tmp_path, "use jsp2\nsummarize math5\nmixed math5 nothere || school:\n")
    assert main(["run", str(bad), "--out", str(out)]) == 2
    assert "line 3" in capsys.readouterr().err and not out.exists()
    assert main(["workshop", "--do", str(bad), "--out", str(out), "--draws", "5"]) == 2
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["t.do"]


def test_draws_and_chains_must_be_positive(tmp_path):
    with pytest.raises(bm.BayesmixedError, match="chains must be a positive"):
        run_do(write(tmp_path, "use jsp2\n"), chains=0)


def test_until_converged_reaches_bayes_fits_only(monkeypatch):
    """The workshop's convergence promise goes to ``bayes:`` fits, never to ML ones."""
    from bayesmixed.dofile import model_cmds
    from bayesmixed.dofile.session import Session

    calls = []
    monkeypatch.setattr(model_cmds.api, "stata", lambda text, frame, **kw: calls.append(kw))
    session = Session(until_converged=True)
    model_cmds.fit_command("bayes: mixed y x || g:", None, session)
    model_cmds.fit_command("mixed y x || g:", None, session)
    model_cmds.fit_command("bayes: mixed y x || g:", None, Session())
    assert calls[0]["until_converged"] is True
    assert "until_converged" not in calls[1] and "until_converged" not in calls[2]


def test_lrtest_after_melogit_equals_the_api(tmp_path):
    do = tmp_path / "t.do"
    do.write_text(
        "use bangladesh\n"
        "melogit c_use urban age || district:\n"
        "estimates store a\n"
        "melogit c_use urban age child1 || district:\n"
        "estimates store b\n"
        "lrtest a b\n"
    )
    session = run_do(do)
    data = bm.datasets.load("bangladesh")
    a = bm.stata("melogit c_use urban age || district:", data)
    b = bm.stata("melogit c_use urban age child1 || district:", data)
    want = bm.lrtest(a, b)
    text = "\n".join(str(e.text) for e in session.log if hasattr(e, "text"))
    assert want.df == 1 and f"{want.chi2:.2f}" in text
