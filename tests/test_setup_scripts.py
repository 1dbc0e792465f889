"""Repository tooling: the set-up scripts in scripts/ and the benchmark harness in benchmarks/.

The scripts are run for real in sandboxes: a private PATH and a fake pyenv root for the
interpreter search, a fake virtual environment whose ``python`` records pip calls instead of
installing, so these tests take seconds and never touch the network or the real ``.venv``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_models  # noqa: E402
import bench_report  # noqa: E402
import simulate_crossed  # noqa: E402

# setup.sh's up-to-date check imports bayesmixed from this checkout through the venv's python.
needs_install_here = pytest.mark.skipif(
    ROOT not in Path(__import__("bayesmixed").__file__).resolve().parents,
    reason="bayesmixed is not installed from this checkout",
)

TOOLS = ("bash", "ls", "grep", "sort", "tr", "cat", "cut", "sha256sum", "tail", "rm", "dirname")


def _write_exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _python_wrapper(path: Path) -> Path:
    """An executable that runs the Python running these tests (always >= 3.12)."""
    return _write_exe(path, f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')


def _sandbox_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """PATH with only basic tools (no Python), no pyenv, no common install dirs."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for tool in TOOLS:
        found = shutil.which(tool)
        if found and not (tools / tool).exists():
            (tools / tool).symlink_to(found)
    env = {
        "PATH": str(tools),
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "BAYESMIXED_PY_DIRS": "",
    }
    env.update(extra)
    return env


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    return subprocess.run(
        [bash, str(SCRIPTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


# -- scripts/find_python.sh -----------------------------------------------------------------
def test_find_python_prefers_newest_312_in_pyenv_and_skips_broken_shims(tmp_path):
    pyenv = tmp_path / "pyenv"
    for version in ("3.12.1", "3.12.9", "3.13.0", "3.13.0t"):
        _python_wrapper(pyenv / "versions" / version / "bin" / f"python{version[:4]}")
    # A pyenv shim that exists on PATH but refuses to run, as on the project's machines.
    shim = _write_exe(
        tmp_path / "shims" / "python3.12", "#!/bin/sh\necho 'pyenv: no' >&2\nexit 127\n"
    )
    env = _sandbox_env(tmp_path, PYENV_ROOT=str(pyenv))
    env["PATH"] = f"{shim.parent}:{env['PATH']}"
    out = _run("find_python.sh", env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(pyenv / "versions" / "3.12.9" / "bin" / "python3.12")


def test_find_python_rejects_interpreters_older_than_312(tmp_path):
    old = _write_exe(
        tmp_path / "bin" / "python3",
        "#!/bin/sh\n# pretends to be 3.11: every version check fails\nexit 1\n",
    )
    env = _sandbox_env(tmp_path)
    env["PATH"] = f"{old.parent}:{env['PATH']}"
    out = _run("find_python.sh", env)
    assert out.returncode == 1
    assert out.stdout == ""
    assert "no Python >= 3.12 found" in out.stderr
    assert "BAYESMIXED_PYTHON" in out.stderr


def test_find_python_uses_common_locations_after_path_and_pyenv(tmp_path):
    wrapper = _python_wrapper(tmp_path / "opt" / "python3.13")
    env = _sandbox_env(tmp_path, BAYESMIXED_PY_DIRS=str(wrapper.parent))
    out = _run("find_python.sh", env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(wrapper)


def test_find_python_honours_explicit_choice_and_reports_a_bad_one(tmp_path):
    good = _python_wrapper(tmp_path / "mine" / "py")
    ok = _run("find_python.sh", _sandbox_env(tmp_path, BAYESMIXED_PYTHON=str(good)))
    assert ok.returncode == 0 and ok.stdout.strip() == str(good)
    bad = _run("find_python.sh", _sandbox_env(tmp_path, BAYESMIXED_PYTHON="/nonexistent/py"))
    assert bad.returncode == 1
    assert "BAYESMIXED_PYTHON=/nonexistent/py" in bad.stderr


# -- scripts/setup.sh -----------------------------------------------------------------------
def _fake_venv(tmp_path: Path) -> Path:
    """A venv whose python is the test interpreter but whose pip only logs its arguments."""
    venv = tmp_path / "venv"
    (venv / "pyvenv.cfg").parent.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    _write_exe(
        venv / "bin" / "python",
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
        f'  echo "$@" >> "{venv}/pip-calls"; exit 0\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n',
    )
    return venv


def _pip_calls(venv: Path) -> list[str]:
    log = venv / "pip-calls"
    return log.read_text().splitlines() if log.exists() else []


def test_setup_stamp_records_pyproject_hash_extras_and_checkout(tmp_path):
    env = _sandbox_env(tmp_path, BAYESMIXED_VENV=str(tmp_path / "v"), BAYESMIXED_EXTRAS="test")
    out = _run("setup.sh", env, "--stamp")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"pyproject={digest} extras=test root={ROOT}"


@needs_install_here
def test_setup_installs_once_then_skips_until_its_inputs_change(tmp_path):
    venv = _fake_venv(tmp_path)
    env = _sandbox_env(tmp_path, BAYESMIXED_VENV=str(venv))
    first = _run("setup.sh", env)
    assert first.returncode == 0, first.stderr
    assert _pip_calls(venv) == [f"-m pip install --progress-bar off -e {ROOT}[test,nutpie]"]
    stamp = (venv / ".bayesmixed-install-stamp").read_text().strip()
    assert stamp == _run("setup.sh", env, "--stamp").stdout.strip()

    again = _run("setup.sh", env)
    assert again.returncode == 0 and again.stderr == ""
    assert len(_pip_calls(venv)) == 1  # up to date: pip not called

    other = _run("setup.sh", env | {"BAYESMIXED_EXTRAS": "test,data"})
    assert other.returncode == 0, other.stderr
    assert _pip_calls(venv)[-1].endswith(f"-e {ROOT}[test,data]")


def test_setup_reports_pip_failure_with_the_log_tail(tmp_path):
    venv = tmp_path / "venv"
    _write_exe(
        venv / "bin" / "python",
        "#!/bin/sh\n"
        'if [ "$2" = "pip" ]; then\n'
        '  echo "ERROR: No matching distribution found for pymc"; exit 1\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n',
    )
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    out = _run("setup.sh", _sandbox_env(tmp_path, BAYESMIXED_VENV=str(venv)))
    assert out.returncode == 1
    assert "pip install failed" in out.stderr
    assert "No matching distribution found for pymc" in out.stderr
    assert not (venv / ".bayesmixed-install-stamp").exists()


def test_setup_refuses_to_replace_a_directory_that_is_not_a_venv(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("data")
    out = _run("setup.sh", _sandbox_env(tmp_path, BAYESMIXED_VENV=str(precious)))
    assert out.returncode == 1
    assert "is not a virtual environment" in out.stderr
    assert (precious / "keep.txt").read_text() == "data"


# -- scripts/test.sh ------------------------------------------------------------------------
def _ready_venv(tmp_path: Path) -> dict[str, str]:
    venv = _fake_venv(tmp_path)
    env = _sandbox_env(tmp_path, BAYESMIXED_VENV=str(venv))
    stamp = _run("setup.sh", env, "--stamp").stdout
    (venv / ".bayesmixed-install-stamp").write_text(stamp)
    return env


@needs_install_here
def test_test_script_runs_slow_tests_and_fails_when_nothing_is_collected(tmp_path):
    env = _ready_venv(tmp_path)
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_a.py").write_text(
        "import pytest\n\n@pytest.mark.slow\ndef test_slow():\n    pass\n\n"
        "def test_fast():\n    pass\n"
    )
    ran = _run("test.sh", env, str(suite), "-p", "no:cacheprovider")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 passed" in ran.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    none = _run("test.sh", env, str(empty), "-p", "no:cacheprovider")
    assert none.returncode == 1
    assert "collected no tests" in none.stderr


def test_ci_entry_point_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text().splitlines()
    first_block = readme[readme.index("```bash") + 1 : readme.index("```")]
    test_cmd = next(line.split("#")[0].strip() for line in first_block if "test" in line)
    assert test_cmd == "bash scripts/test.sh"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


# -- benchmarks/ ----------------------------------------------------------------------------
def test_simulated_crossed_data_has_the_instEval_shape_and_is_reproducible():
    df = simulate_crossed.simulate()
    assert len(df) == 73_421
    assert df["s"].nunique() == 2_972 and df["d"].nunique() == 1_128
    assert df["dept"].nunique() == 30
    assert df.groupby("d")["dept"].nunique().max() == 1  # lecturers nest in departments
    crossed = df.groupby("s")["d"].nunique()
    assert crossed.mean() > 10  # students rate many lecturers: the factors really cross
    again = simulate_crossed.simulate()
    assert df.equals(again)
    assert not df.equals(simulate_crossed.simulate(seed=1))


def test_scaled_simulation_keeps_every_level():
    truth = simulate_crossed.CrossedTruth().scaled(0.02)
    df = simulate_crossed.simulate(truth=truth)
    assert len(df) == truth.n_obs
    assert df["s"].nunique() == truth.n_students
    assert df["d"].nunique() == truth.n_lecturers
    with pytest.raises(ValueError, match="scale"):
        simulate_crossed.CrossedTruth().scaled(0)


def test_every_benchmark_model_names_its_grouping_factors_in_both_syntaxes():
    for model in bench_models.MODELS:
        assert model.stata.startswith("mixed ")
        assert ("reml" in model.stata) == model.reml, model.name
        for factor in model.factors:
            assert factor in model.r_formula, (model.name, factor)
    names = [m.name for m in bench_models.MODELS]
    assert len(names) == len(set(names))
    with pytest.raises(SystemExit, match="unknown benchmark model"):
        bench_models.by_name(["no such model"])


def test_report_computes_ratio_and_loglik_difference():
    report = {
        "machine": bench_report.machine_facts(),
        "r_meta": {},
        "problems": [],
        "models": ["m"],
        "ours": {"m": {"seconds": 0.5, "loglik": -10.0, "reps": 3, "api": "stata", "nobs": 5}},
        "lme4": {"m": {"seconds": 2.0, "loglik": -10.25, "reps": 5, "peak_mb": 300.0}},
    }
    text = bench_report.render(report)
    row = next(line for line in text.splitlines() if line.startswith("m "))
    assert row.split() == [
        "m",
        "5",
        "0.500",
        "2.000",
        "4.0",
        "-10.0000",
        "-10.2500",
        "2.5e-01",
        "3/5",
        "stata",
    ]
    assert "peak RSS lme4" in text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_lme4_side_of_the_benchmark_runs_on_small_crossed_data(tmp_path):
    has_lme4 = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('lme4', quietly = TRUE))"],
        capture_output=True,
    )
    if has_lme4.returncode != 0:
        pytest.skip("R package lme4 not installed")
    out = tmp_path / "report.json"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "lmm_bench.py"),
        "--only",
        "crossed large ML",
        "--scale",
        "0.03",
        "--no-ours",
        "--max-reps",
        "1",
        "--json",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rec = json.loads(out.read_text())["lme4"]["crossed large ML"]
    assert rec.get("error") is None
    assert rec["nobs"] == simulate_crossed.CrossedTruth().scaled(0.03).n_obs
    assert rec["loglik"] < 0 and rec["seconds"] > 0 and rec["peak_mb"] > 50
    assert "crossed large ML" in done.stdout
