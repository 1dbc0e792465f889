"""``bayesgraph``, ``margins``, ``lincom``, ``estat`` after ``bayes:`` in a do-file (issue 16).

One NUTS fit (2 chains x 200 draws) serves every test; the printed numbers are read
back and compared with the same quantities computed here from the fit's ``idata``.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Figure, Output

pytestmark = pytest.mark.slow  # one NUTS fit (~35 s with compilation)

DOFILE = """\
use jsp2
bayes, rseed(3) nchains(2) mcmcsize(200) burnin(200): mixed math5 math3 i.gender || school:
bayesgraph trace {math5:math3}
bayesgraph diag {math5:math3} {U0:sigma2}, title("Two parameters")
bayesgraph cusum _all
bayesstats summary {U0[1.school]}
margins gender
lincom 1.gender - math3, hpd
estat icc
estat sd, clevel(90)
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("bayespost")


@pytest.fixture(scope="module")
def session(workdir):
    path = workdir / "t.do"
    path.write_text(DOFILE)
    return run_do(path, out=workdir / "report", progressbar=False)


@pytest.fixture(scope="module")
def printed(session):
    return {e.command: e.text for e in session.log if isinstance(e, Output)}


def _row(text: str, label: str) -> list[float]:
    line = next(ln for ln in text.splitlines() if ln.split("|")[0].strip() == label)
    return [float(v) for v in line.split("|")[1].split()[:6]]


def test_bayesgraph_figures_go_into_the_report(session, workdir):
    figures = [e for e in session.log if isinstance(e, Figure)]
    names = [f.name for f in figures]
    assert names == [
        "fig01_bayesgraph_trace.png",
        "fig02_bayesgraph_diagnostics.png",
        "fig03_bayesgraph_cusum.png",
    ]
    assert all(f.png.startswith(b"\x89PNG") for f in figures)
    assert figures[1].caption == "Two parameters"
    html = "".join(p.read_text() for p in (workdir / "report").rglob("*.html"))
    assert all(name in html for name in names) and "Two parameters" in html


def test_margins_is_the_posterior_of_the_averaged_prediction(session, printed):
    result = session.current.result
    beta = result.posterior["beta"].values.reshape(-1, result.design.p)
    names = list(result.design.fixed_names)
    math3 = session.data.loc[result.design.rows, "math3"].mean()
    x = np.zeros(len(names))
    x[names.index("math3")], x[names.index("_cons")], x[names.index("1.gender")] = math3, 1, 1
    mean, sd = _row(printed["margins gender"], "1")[:2]
    assert mean == pytest.approx((beta @ x).mean(), rel=1e-6)
    assert sd == pytest.approx((beta @ x).std(ddof=1), rel=1e-5)


def test_lincom_and_estat_after_bayes(session, printed):
    result = session.current.result
    beta = result.posterior["beta"].values.reshape(-1, result.design.p)
    names = list(result.design.fixed_names)
    combo = beta[:, names.index("1.gender")] - beta[:, names.index("math3")]
    text = printed["lincom 1.gender - math3, hpd"]
    assert "HPD" in text and _row(text, "(1)")[0] == pytest.approx(combo.mean(), rel=1e-6)
    post = result.posterior
    var_u = post["cov[school]"].values[..., 0, 0].ravel()
    icc = var_u / (var_u + post["sigma"].values.ravel() ** 2)
    assert _row(printed["estat icc"], "school")[0] == pytest.approx(icc.mean(), rel=1e-6)
    sd_text = printed["estat sd, clevel(90)"]
    assert "[90% cred. interval]" in sd_text
    assert _row(sd_text, "sd(_cons)")[0] == pytest.approx(np.sqrt(var_u).mean(), rel=1e-6)
    one = result.posterior["b[school]"].values[..., 0, 0].ravel()
    assert _row(printed["bayesstats summary {U0[1.school]}"], "U0[1.school]")[0] == (
        pytest.approx(one.mean(), rel=1e-6)
    )


def test_marginsplot_after_bayes_margins_says_why_not(session):
    from bayesmixed.dofile.dispatch import find_handler
    from bayesmixed.dofile.errors import CommandError

    assert session.margins is None  # bayes: margins are not delta-method margins to plot
    with pytest.raises(CommandError, match="margins"):
        find_handler("marginsplot")(session, "marginsplot", 99)
