"""Time to first posterior (issue 14): each case in a fresh process, cold and warm.

Every figure is the wall time of a whole new Python process -- interpreter start, ``import
bayesmixed``, data load, model build, any compilation and the fit -- because that is what a
user waits for.  Each case runs

* **cold** under ``/work/shared/tools/cold-run`` (an empty HOME and empty PyTensor, numba,
  JAX, matplotlib and XDG caches, the way a new user first meets it), ``--repeats`` times;
* **warm**: in a benchmark-owned set of the same cache directories, one priming run (its
  time is reported as ``prime``: it also starts from empty caches) and then ``--repeats``
  timed runs that find the caches the priming run left.

The cases: (a) the README's quick start ``bayes, nchains(4) rseed(1): mixed math5 math3 ||
school: math3, cov(uns)`` on jsp2; (b) the same model with ``method="laplace",
priors="flat"``; (c) the workshop's productivity AR(1) model ``bayes: mixed gsp private emp
hwy water other unemp || region: || state:, residuals(ar 1, t(year))``
(tutorials/workshop.do); (e) the workshop's rats model with heteroskedastic cells
``residuals(independent, by(female))``; (d) and (f) PyMC's compiled path for (a) and (c);
(g) the AR(1) model of (c) with ``method="laplace", priors="flat"``; (h) the workshop's
``bayes: melogit c_use urban age child1 child2 child3 || district: urban, cov(uns)`` (2
chains, as the workshop runs it) on our NumPy GLMM density, and (i) the same on PyMC's graph.
``--draws``/``--tune`` shrink the NUTS cases for a cheap run (the
table says which were used).  Medians are printed with the 1-minute load average before and
after each case, since the machine is shared::

    .venv/bin/python benchmarks/first_posterior.py                 # 3 repeats, 1000 + 1000
    .venv/bin/python benchmarks/first_posterior.py --repeats 1 --draws 200 --tune 200 --cases a b
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_RUN = Path("/work/shared/tools/cold-run")

JSP_UNS = "mixed math5 math3 || school: math3, cov(uns)"
AR1 = (
    "bayes: mixed gsp private emp hwy water other unemp || region: || state:, "
    "residuals(ar 1, t(year))"
)
MELOGIT = "melogit c_use urban age child1 child2 child3 || district: urban, cov(uns)"
CASES = {
    "a": ("quick start, NUTS 4 chains", "jsp2", f"bayes, nchains(4) rseed(1): {JSP_UNS}", {}),
    "b": ("quick start, laplace flat", "jsp2", JSP_UNS, {"method": "laplace", "priors": "flat"}),
    "c": ("productivity AR(1), NUTS", "productivity", AR1, {"seed": 1}),
    "e": (
        "rats by(female) cells, NUTS",
        "rats",
        "bayes: mixed weight i.dose size female || litter:, residuals(independent, by(female))",
        {"seed": 1},
    ),
    "f": ("productivity AR(1), PyMC", "productivity", AR1, {"seed": 1, "sampler": "pymc"}),
    "g": (
        "productivity AR(1), laplace flat",
        "productivity",
        AR1.removeprefix("bayes: "),
        {"method": "laplace", "priors": "flat", "seed": 1},
    ),
    "h": (
        "bangladesh melogit uns, NUTS 2 chains",
        "bangladesh",
        f"bayes, nchains(2) rseed(1): {MELOGIT}",
        {},
    ),
    # the same on PyMC's graph (numba backend), the path every GLMM took before fast_glmm
    "i": (
        "bangladesh melogit uns, PyMC",
        "bangladesh",
        f"bayes, nchains(2) rseed(1): {MELOGIT}",
        {"sampler": "pymc"},
    ),
    # the quick start on PyMC's compiled sampler, the path every fit took before the NumPy
    # density (and the one models outside it still take)
    "d": (
        "quick start, PyMC's sampler",
        "jsp2",
        f"bayes, nchains(4) rseed(1): {JSP_UNS}",
        {"sampler": "pymc"},
    ),
}


def child(case: str, draws: int, tune: int) -> None:
    """The timed work of one case, run in its own process (``--child``)."""
    t0 = time.perf_counter()
    import bayesmixed as bm

    t1 = time.perf_counter()
    _, data_name, command, options = CASES[case]
    data = bm.datasets.load(data_name)
    if options.get("method") != "laplace":
        options = {**options, "draws": draws, "tune": tune, "progressbar": False}
    result = bm.stata(command, data, **options)
    t2 = time.perf_counter()
    print(result.coef.round(4).to_dict() if hasattr(result, "coef") else "", file=sys.stderr)
    sampler = getattr(result, "sampler", "ml")
    print(f"child: import {t1 - t0:.2f} s, fit {t2 - t1:.2f} s, sampler {sampler}")


def _cache_env(root: Path) -> dict[str, str]:
    """The environment cold-run sets, but in a directory that outlives the process."""
    (root / ".cache").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        HOME=str(root),
        XDG_CACHE_HOME=str(root / ".cache"),
        MPLCONFIGDIR=str(root / "mpl"),
        NUMBA_CACHE_DIR=str(root / "numba"),
        PYTENSOR_FLAGS=f"compiledir={root / 'pytensor'}",
        JAX_COMPILATION_CACHE_DIR=str(root / "jax"),
    )
    return env


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of one process and its last stdout line (the child's own split)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    return wall, lines[-1] if lines else ""


def run_case(case: str, repeats: int, draws: int, tune: int) -> dict:
    """Cold (cold-run) and warm (own kept caches) wall times of one case."""
    cmd = [sys.executable, __file__, "--child", case, "--draws", str(draws), "--tune", str(tune)]
    load_before = os.getloadavg()[0]
    cold, splits = [], []
    for _ in range(repeats):
        wall, split = _timed([str(COLD_RUN), *cmd])
        cold.append(wall)
        splits.append(split)
    # the same cold run without the kernels ``bayesmixed precompile`` built at install: what
    # a user meets who installed without scripts/setup.sh (once; then numba's cache has them)
    bare, _ = _timed([str(COLD_RUN), "env", "BAYESMIXED_PRECOMPILED=off", *cmd])
    with tempfile.TemporaryDirectory(prefix="first-posterior-") as tmp:
        env = _cache_env(Path(tmp))
        prime, _ = _timed(cmd, env)
        warm = []
        for _ in range(repeats):
            wall, split = _timed(cmd, env)
            warm.append(wall)
            splits.append(split)
    return {
        "case": case,
        "cold": cold,
        "bare": bare,
        "prime": prime,
        "warm": warm,
        "load": (load_before, os.getloadavg()[0]),
        "splits": splits,
    }


def report(rows: list[dict], draws: int, tune: int, repeats: int) -> None:
    """One line per case: medians of cold and warm, the priming run, the load average."""
    print(f"\ntime to first posterior: {repeats} repeat(s); NUTS cases {draws} draws + {tune} tune")
    # xarray imports dask.array at its first Dataset when dask is installed (the test and
    # scale extras): seconds that a plain ``pip install bayesmixed`` does not pay
    dask = importlib.util.find_spec("dask") is not None
    print(f"dask installed: {dask} (if so, xarray's first Dataset imports dask.array)")
    from bayesmixed.engines import precompiled

    print(
        f"install's precompiled kernels present: {precompiled.usable()} (cold, prime, warm "
        "use them; 'no build' is a cold run told to ignore them)"
    )
    print(
        f"{'case':<32}{'cold med s':>11}{'no build s':>11}{'prime s':>9}{'warm med s':>11}"
        f"{'load 1m':>13}"
    )
    for row in rows:
        label = f"({row['case']}) {CASES[row['case']][0]}"
        load = f"{row['load'][0]:.2f}->{row['load'][1]:.2f}"
        print(
            f"{label:<32}{statistics.median(row['cold']):>11.1f}{row['bare']:>11.1f}"
            f"{row['prime']:>9.1f}"
            f"{statistics.median(row['warm']):>11.1f}{load:>13}"
        )
        print(
            f"{'':<4}cold {', '.join(f'{w:.1f}' for w in row['cold'])}; warm "
            f"{', '.join(f'{w:.1f}' for w in row['warm'])}; {' | '.join(row['splits'])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.draws, args.tune)
        return
    rows = []
    for case in args.cases:
        rows.append(run_case(case, args.repeats, args.draws, args.tune))
        print(f"done ({case}): cold {rows[-1]['cold']}, warm {rows[-1]['warm']}", flush=True)
    report(rows, args.draws, args.tune, args.repeats)


if __name__ == "__main__":
    main()
