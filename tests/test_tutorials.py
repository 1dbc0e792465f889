"""The tutorials and the workshop do-file run end to end (tiny draw counts)."""

import re
import runpy
from pathlib import Path

import pytest

from bayesmixed import tutorials
from bayesmixed.cli import WORKSHOP_DO, main
from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Figure, ModelEntry
from bayesmixed.errors import BayesmixedError

ROOT = Path(__file__).resolve().parent.parent
WORKSHOP = tutorials.path("workshop.do")
TUTORIALS = sorted(WORKSHOP.parent.glob("0*.py"))
BAYES_LINES = [  # the fits (not bayesstats, bayestest)
    ln for ln in WORKSHOP.read_text().splitlines() if ln.startswith(("bayes:", "bayes,"))
]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs(path, monkeypatch):
    monkeypatch.setenv("BAYESMIXED_TUTORIAL_DRAWS", "10")
    monkeypatch.setenv("BAYESMIXED_TUTORIAL_CHAINS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(path), run_name="__main__")


def test_every_section_has_a_tutorial():
    headings = re.findall(r"^\* # (\d)\.", WORKSHOP.read_text(), flags=re.M)
    assert len(headings) == 7 and len(TUTORIALS) == 5


def test_every_workshop_model_has_a_bayes_twin():
    text = WORKSHOP.read_text()
    for line in BAYES_LINES:
        model = line.split(":", 1)[1].strip()
        assert f"\n{model}\n" in text, f"no ML fit before {line}"
    assert len(BAYES_LINES) == 11


def test_workshop_ml_part_writes_the_report(tmp_path):
    """Everything but the bayes: lines: models, predictions, graphs, tests, report."""
    ml_only = tmp_path / "workshop_ml.do"
    ml_only.write_text(
        "\n".join(ln for ln in WORKSHOP.read_text().splitlines() if not ln.startswith("bayes"))
    )
    session = run_do(ml_only, out=tmp_path / "report")
    models = [e for e in session.log if isinstance(e, ModelEntry)]
    figures = [e for e in session.log if isinstance(e, Figure)]
    # five graphs and the marginsplot after the random-slope model (issue 15, item 4)
    assert len(models) == 16 and len(figures) == 6
    assert figures[-1].name.endswith("_marginsplot.png")
    page = (tmp_path / "report" / "index.html").read_text()
    assert page.count("<h2") == 7 and "Mixed-effects logistic regression" in page
    # dfmethod(kroger) on the rats model and its estat df (issue 15, item 1)
    assert "DF method: Kenward-Roger" in page and "Degrees of freedom for fixed effects" in page


@pytest.mark.slow
def test_workshop_command(tmp_path, capsys):
    """The README's main job, with 1 chain x 50 draws: every model in both forms.

    ``--no-extend``: 50 draws cannot reach bulk ESS 400, and adding chains until they do
    is tested on its own (test_workshop_adds_chains_by_default).
    """
    out = tmp_path / "report"
    rc = main(["workshop", "--out", str(out), "--draws", "50", "--chains", "1", "--no-extend"])
    err = capsys.readouterr().err
    assert rc == 0, err
    page = (out / "index.html").read_text()
    twins = page.count('<div class="side">')
    missing = page.count('class="unavailable"')
    # a twin the engine refuses is shown as such, never dropped or faked; the Gaussian
    # models without residual structures (the first seven) are always fitted
    assert twins + missing == len(BAYES_LINES) and twins >= 7
    assert page.count('<table class="bm-compare">') == twins
    assert "no ML fit of this model" not in page
    # each ML fit is printed once: beside its twin, with a link where it ran (issue 17)
    assert page.count("beside its Bayesian twin below") == twins
    ml_fits = [ln for ln in WORKSHOP.read_text().splitlines() if ln.startswith("mixed ")]
    assert page.count("Mixed-effects ML regression") == sum("reml" not in f for f in ml_fits)
    figures = {p.name for p in (out / "figures").iterdir()}
    workshop_graphs = [f"fig0{i}_twoway.png" for i in range(1, 5)] + ["fig05_matrix.png"]
    assert set(workshop_graphs) <= figures
    for kind in ("trace", "ppc", "caterpillar"):
        assert len([f for f in figures if f.endswith(f"_{kind}.png")]) == twins, kind
    assert len([f for f in figures if f.endswith("_shrinkage.png")]) >= 5
    # margins and marginsplot after the random-slope model (issue 15, item 4)
    assert "1._at: math3 = 10" in page and "Predictive margins" in page
    assert len([f for f in figures if f.endswith("_marginsplot.png")]) == 1
    for name in figures:
        assert f'src="figures/{name}"' in page
    assert f"{len(BAYES_LINES) - missing} Bayesian fits" in page
    # the Bayesian twins compared, and the slope-intercept correlation tested (issue 16)
    assert "Deviance information criterion" in page and "bayes_uns" in page
    assert "Interval tests" in page
    assert "Posterior predictive summary" in page and "max : @max({_ysim})" in page
    assert "workshop.do:93:" in err and "done in" in err  # progress was shown


@pytest.mark.parametrize(
    ("argv", "extend"),
    [
        (["workshop"], True),
        (["workshop", "--no-extend"], False),
        (["run", "x.do"], False),
        (["run", "x.do", "--until-converged"], True),
    ],
)
def test_workshop_adds_chains_by_default(monkeypatch, tmp_path, argv, extend):
    """The main job promises R-hat <= 1.01 and bulk ESS >= 400 (issue 19 item 5)."""
    import bayesmixed.cli as cli

    seen = {}

    def fake_run_dofile(path, out, draws, chains, strict, until_converged=False):
        seen["until_converged"] = until_converged
        return 0

    monkeypatch.setattr(cli, "run_dofile", fake_run_dofile)
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 0
    assert seen["until_converged"] is extend


def test_tutorials_ship_inside_the_package():
    """The workshop and notebooks live in bayesmixed/tutorials (package data), not beside it."""
    assert WORKSHOP.parent == Path(tutorials.__file__).parent
    assert WORKSHOP_DO == WORKSHOP and WORKSHOP.is_file()
    assert tutorials.names() == [p.name for p in TUTORIALS] + ["workshop.do"]
    with pytest.raises(BayesmixedError, match="no tutorial file 'nope.do'.*workshop.do"):
        tutorials.path("nope.do")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"bayesmixed.tutorials" = ["*.do", "*.py"]' in pyproject


@pytest.mark.slow
def test_wheel_ships_datasets_and_workshop(tmp_path):
    """A wheel installed in a fresh venv runs the README's quick start and the workshop.

    Offline: the wheel is built from a copy of the sources without build isolation
    (setuptools comes with pytensor), installed by pip into a new venv with ``--no-deps
    --no-index``, and the venv reaches this environment's dependencies (pymc, pandas ...)
    through a ``.pth`` line: nothing is downloaded, and the package itself, its console
    script and its data all come from the wheel.  Run from a folder outside the checkout.
    """
    import os
    import shutil
    import subprocess
    import sys
    import sysconfig
    import zipfile

    source = tmp_path / "source"  # a clean copy: an in-tree build would leave build/ behind
    shutil.copytree(
        ROOT / "bayesmixed", source / "bayesmixed", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps"]
    build += ["--no-build-isolation", "--no-index", "-q", "-w", str(wheels)]
    done = subprocess.run(build, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (wheel,) = wheels.glob("bayesmixed-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "bayesmixed/tutorials/workshop.do" in names
    assert "bayesmixed/tutorials/01_jsp_random_intercepts.py" in names
    assert any(n.startswith("bayesmixed/datasets/files/jsp2") for n in names)
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True)
    assert made.returncode == 0, made.stderr
    python, script = venv / "bin" / "python", venv / "bin" / "bayesmixed"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "borrowed_dependencies.pth").write_text(deps + "\n")
    install = [python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert script.is_file()
    site = Path(purelib)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    check = "import bayesmixed as bm; from bayesmixed.cli import WORKSHOP_DO; "
    check += "print(bm.__file__, WORKSHOP_DO, WORKSHOP_DO.is_file())\n"
    # the README's quick start as a new user pastes it; its last line (the whole workshop
    # at full length) is run below through the CLI instead, with few draws
    quick = readme_quick_start().replace(
        'bm.run_do(bm.tutorials.path("workshop.do"), out="report")', "pass"
    )
    assert quick.count("pass") == 1
    (outside / "quick.py").write_text(check + quick)
    # the packaged data behind the console script: every workshop model, ML only (the
    # whole workshop with its report runs in-tree in test_workshop_command); then a report
    # written by the installed package from a do-file with one Bayesian twin
    (outside / "twin.do").write_text(
        "use jsp2, clear\nmixed math5 math3 || school:\nbayes: mixed math5 math3 || school:\n"
    )
    work = [script, "workshop", "--print"]
    report = [script, "run", "twin.do", "--out", "report", "--draws", "50", "--chains", "1"]
    runs = []
    for argv in ([python, "quick.py"], work, report):
        run = subprocess.run(
            argv,
            cwd=outside,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Mixed-effects ML regression" in run.stdout
        runs.append(run.stdout)
    package, workshop, exists = runs[0].splitlines()[0].split()
    assert package.startswith(str(site)) and workshop.startswith(str(site)) and exists == "True"
    assert "Bayesian multilevel regression" in runs[0] and "NUTS" in runs[0]
    assert runs[1].count("Mixed-effects ML regression") >= 8
    page = (outside / "report" / "index.html").read_text()
    assert page.count('<table class="bm-compare">') == 1


def readme_quick_start() -> str:
    """The README's first Python block (the quick start), as a user would paste it."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```python\n", 1)[1]
    return block.split("```", 1)[0]
