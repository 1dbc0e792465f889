"""Ctrl-C during NUTS reaches the caller instead of a cut-short posterior (issue 19, item 3).

PyMC catches ``KeyboardInterrupt`` inside ``pm.sample`` and returns the draws made so
far; these tests imitate that (a sampler that swallows a real SIGINT, one that returns
short), use PyMC's own swallowing through a callback, and -- slow -- press Ctrl-C on a
real ``bayesmixed run``.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

import bayesmixed as bm
from bayesmixed.engines.bayes import sample as sample_module
from bayesmixed.engines.bayes.interrupt import posterior_size, watch_interrupts


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """Start each test from Python's own SIGINT handler, as a user's process has it.

    An earlier test in the same process (multiprocess sampling, a Dask cluster) can leave
    SIGINT ignored, and then the simulated Ctrl-C below would never arrive.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def fake_tree(chains: int, draws: int) -> xr.DataTree:
    post = xr.Dataset({"mu": (("chain", "draw"), np.zeros((chains, draws)))})
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": post})


def tiny_model() -> pm.Model:
    with pm.Model() as model:
        pm.Normal("mu")
    return model


def run(monkeypatch, fake, draws=50, chains=2):
    monkeypatch.setattr(sample_module.pm, "sample", fake)
    return sample_module.run_nuts(
        tiny_model(),
        draws=draws,
        tune=10,
        chains=chains,
        seed=1,
        target_accept=0.9,
        sampler="pymc",
        progressbar=False,
    )


def test_a_complete_trace_is_passed_on(monkeypatch):
    tree = run(monkeypatch, lambda **kw: fake_tree(kw["chains"], kw["draws"]))
    assert posterior_size(tree) == (2, 50)


@pytest.mark.parametrize("chains, draws", [(2, 17), (1, 50), (0, 0)])
def test_a_short_trace_is_an_interrupt(monkeypatch, chains, draws):
    with pytest.raises(KeyboardInterrupt, match="interrupted"):
        run(monkeypatch, lambda **kw: fake_tree(chains, draws))


def swallowing_sampler(**kw):
    """What PyMC does: the SIGINT's KeyboardInterrupt is caught, the draws so far returned."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # the handler runs at the next bytecode boundary
    except KeyboardInterrupt:
        pass
    return fake_tree(kw["chains"], kw["draws"])  # even a full-looking trace


def test_a_swallowed_sigint_is_raised_again(monkeypatch):
    with pytest.raises(KeyboardInterrupt):
        run(monkeypatch, swallowing_sampler)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_error_after_a_swallowed_sigint_is_the_interrupt(monkeypatch):
    def failing(**kw):
        swallowing_sampler(**kw)
        raise ValueError("cannot convert an empty trace")

    with pytest.raises(KeyboardInterrupt):
        run(monkeypatch, failing)


def test_errors_without_an_interrupt_are_left_alone():
    with pytest.raises(ValueError), watch_interrupts(10, 1):
        raise ValueError("a real error")


@pytest.mark.parametrize("stop", [30, 130], ids=["tuning", "sampling"])
def test_pymc_swallowing_a_keyboard_interrupt_reaches_the_api(monkeypatch, stop):
    """PyMC's own behaviour: an interrupt inside sampling becomes a short trace (or, while
    tuning, PyMC's "Not enough samples" ValueError)."""
    real = pm.sample

    def interrupt(trace, draw):
        if draw.draw_idx == stop:
            raise KeyboardInterrupt

    def sample(*args, **kwargs):
        return real(*args, callback=interrupt, **kwargs)

    monkeypatch.setattr(sample_module.pm, "sample", sample)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": np.repeat(np.arange(8), 5), "x": rng.normal(size=40)})
    frame["y"] = frame.x + rng.normal(size=8)[frame.g] + rng.normal(size=40)
    with pytest.raises(KeyboardInterrupt):
        bm.stata(
            "bayes, mcmcsize(400) burnin(100) nchains(1): mixed y x || g:", frame, sampler="pymc"
        )


SCRIPT = """
import sys
import pymc as pm
from bayesmixed.cli import main
from bayesmixed.engines.bayes import fast_nuts

real = pm.sample

def announce(trace, draw):
    if draw.draw_idx == 20 and draw.chain == 0:
        print("SAMPLING", flush=True)

def sample(*args, **kwargs):
    return real(*args, callback=announce, **kwargs)

pm.sample = sample
fast_nuts.available = lambda: False  # PyMC's sampler, whose processes swallow Ctrl-C
sys.exit(main(["run", "t.do", "--out", "report", "--chains", "CHAINS", "--no-echo"]))
"""

# the default path: nutpie's Rust threads call our compiled density (a C callback, no
# Python per step); Ctrl-C must still stop it.  Sampling is announced from the wait loop.
FAST_SCRIPT = """
import sys
import time
from bayesmixed.cli import main
from bayesmixed.engines.bayes import fast_nuts

real = fast_nuts._wait

def wait(running):
    time.sleep(2.0)  # the chains are running by now
    print("SAMPLING", flush=True)
    return real(running)

fast_nuts._wait = wait
sys.exit(main(["run", "t.do", "--out", "report", "--chains", "CHAINS", "--no-echo"]))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "chains, script", [(1, SCRIPT), (2, SCRIPT), (2, FAST_SCRIPT)], ids=["pymc1", "pymc2", "fast"]
)
def test_ctrl_c_stops_a_real_run_with_status_130(tmp_path, chains, script):
    (tmp_path / "t.do").write_text(
        "use jsp2\nbayes, mcmcsize(200000) burnin(50): mixed math5 math3 || school:\n"
    )
    (tmp_path / "run.py").write_text(textwrap.dedent(script).replace("CHAINS", str(chains)))
    proc = subprocess.Popen(
        [sys.executable, "run.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline().strip() == "SAMPLING"
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: the chains' processes too
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and "done in" not in err
    assert "Bayesian" not in out and not (tmp_path / "report").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.py", "t.do"]
