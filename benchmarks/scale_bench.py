"""Large-data fits beside lme4, and a parametric bootstrap through Dask (issue 8).

    .venv/bin/python benchmarks/scale_bench.py              # everything (~10 min on 2 cores)
    .venv/bin/python benchmarks/scale_bench.py --only a     # one part: a, b or boot
    .venv/bin/python benchmarks/scale_bench.py --json out.json

(a) random intercept + slope, 1,000,000 rows, 10,000 groups, unstructured covariance;
(b) a ratings-like crossed model: 1,000,000 ratings of ~4,000 items by ~6,000 users
    (``(1 | user) + (1 | item)``, Stata ``|| _all: R.user || _all: R.item``);
(boot) the 1,000-replicate parametric bootstrap of jsp ``math5 math3 || school:`` (and of the
    random-slope model, 30x the work per refit) on a local Dask cluster with 1, then 2 workers.

Both sides read the same CSV in a child process of their own (Python: this script with
``--child``; R: ``Rscript``), so each child's peak resident memory (``ru_maxrss`` from
``os.wait4``) is that fit's, data included.  Times are the fit alone (design + estimation for
us, ``lmer`` for lme4), not reading the CSV.  The machine may be shared: the load average is
printed with the table, because OpenBLAS threads slow down sharply when cores are busy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MODELS = {
    "a": {
        "title": "(a) intercept + slope, 1e6 rows, 10,000 groups",
        "formula": "y ~ x + (x | g)",
        "factors": ["g"],
    },
    "b": {
        "title": "(b) crossed ratings, 1e6 rows, 6,000 users x 4,000 items",
        "formula": "y ~ x + (1 | user) + (1 | item)",
        "factors": ["user", "item"],
    },
}


def simulate_a(seed: int = 1, n: int = 1_000_000, groups: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    x = rng.normal(size=n)
    u = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 0.5]], groups)
    y = 1 + 0.5 * x + u[g, 0] + u[g, 1] * x + rng.normal(size=n)
    return pd.DataFrame({"y": y.round(6), "x": x.round(6), "g": g + 1})


def simulate_b(seed: int = 2, n: int = 1_000_000, users: int = 6_000, items: int = 4_000):
    """Ratings: popular items and active users are rated more (lognormal weights)."""
    rng = np.random.default_rng(seed)
    pu = rng.lognormal(0, 0.7, users)
    pi = rng.lognormal(0, 1.0, items)
    user = rng.choice(users, n, p=pu / pu.sum())
    item = rng.choice(items, n, p=pi / pi.sum())
    x = rng.normal(size=n)
    y = 3.5 + 0.2 * x + rng.normal(0, 0.4, users)[user] + rng.normal(0, 0.6, items)[item]
    y = y + rng.normal(0, 0.9, n)
    return pd.DataFrame({"y": y.round(6), "x": x.round(6), "user": user + 1, "item": item + 1})


# -- children -------------------------------------------------------------------------------
def child_ours(name: str, csv: str) -> dict:
    import bayesmixed as bm

    data = pd.read_csv(csv)
    t0 = time.perf_counter()
    r = bm.fit(MODELS[name]["formula"], data)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "loglik": r.loglik, "evaluations": r.opt.evaluations}


R_CHILD = r"""
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
a <- commandArgs(TRUE)
d <- read.csv(a[1])
for (f in strsplit(a[3], ",")[[1]]) d[[f]] <- factor(d[[f]])
t0 <- proc.time()[["elapsed"]]
m <- lmer(as.formula(a[2]), data = d, REML = FALSE)
s <- proc.time()[["elapsed"]] - t0
cat(toJSON(list(seconds = s, loglik = as.numeric(logLik(m))), auto_unbox = TRUE, digits = NA))
"""


def run_child(cmd: list[str], timeout: float) -> dict:
    """Run ``cmd``; parse its last stdout line as JSON; add its peak RSS in MB."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > timeout:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return {"error": f"timed out after {timeout:.0f} s"}
        time.sleep(0.1)
    out, err = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        return {"error": (err or out).strip().splitlines()[-1] if (err or out) else "failed"}
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    return res


def fit_both(name: str, workdir: Path, timeout: float) -> dict:
    df = simulate_a() if name == "a" else simulate_b()
    csv = workdir / f"scale_{name}.csv"
    df.to_csv(csv, index=False)
    info = {
        "rows": len(df),
        "groups": {f: int(df[f].nunique()) for f in MODELS[name]["factors"]},
    }
    del df
    ours = run_child([sys.executable, __file__, "--child", name, str(csv)], timeout)
    m = MODELS[name]
    lme4 = run_child(
        ["Rscript", "-e", R_CHILD, str(csv), m["formula"], ",".join(m["factors"])], timeout
    )
    return {"model": m["title"], **info, "bayesmixed": ours, "lme4": lme4}


# -- bootstrap ----------------------------------------------------------------------------------
BOOT_MODELS = {
    "jsp math5 math3 || school:": "math5 math3 || school:",
    # ~30x the work per refit: shows the scaling once Dask's per-task overhead is amortized
    "jsp math5 math3 || school: math3, cov(uns)": "math5 math3 || school: math3, cov(uns)",
}


def bootstrap_scaling(n: int = 1000) -> dict:
    from dask.distributed import Client, LocalCluster

    import bayesmixed as bm
    from bayesmixed.resampling import bootstrap

    data = bm.datasets.load("jsp2")
    out: dict = {}
    for label, cmd in BOOT_MODELS.items():
        r = bm.mixed(cmd, data)
        out[label] = {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
            startup = time.perf_counter() - t0
            t1 = time.perf_counter()
            bootstrap(r, n=50, seed=0, client=client, progress=False)  # workers import, warm up
            warmup = time.perf_counter() - t1
            t1 = time.perf_counter()
            b = bootstrap(r, n=n, seed=1, client=client, progress=False)
            wall = time.perf_counter() - t1
            client.close()
            cluster.close()
            out[label][workers] = {
                "wall_s": wall,
                "startup_s": startup,
                "warmup_s": warmup,
                "ok": b.n_ok,
                "failed": len(b.failures),
                "not_converged": int((~b.converged).sum()),
            }
    return out


# -- report -----------------------------------------------------------------------------------
def _cell(res: dict, key: str, fmt: str) -> str:
    return format(res[key], fmt) if key in res else "-"


def print_table(fits: list[dict], boot: dict | None) -> None:
    print(f"load average (1, 5, 15 min): {os.getloadavg()}; cores: {os.cpu_count()}")
    head = f"{'model':<58}{'side':<11}{'time s':>9}{'peak MB':>9}{'log likelihood':>18}"
    print(head)
    print("-" * len(head))
    for f in fits:
        for side in ("bayesmixed", "lme4"):
            res = f[side]
            if "error" in res:
                print(f"{f['model']:<58}{side:<11}  error: {res['error']}")
                continue
            print(
                f"{f['model']:<58}{side:<11}{_cell(res, 'seconds', '9.2f')}"
                f"{_cell(res, 'peak_mb', '9.0f')}{_cell(res, 'loglik', '18.4f')}"
            )
    if boot:
        print("\nParametric bootstrap, 1,000 replicates, local Dask cluster (worker processes)")
        for label, runs in boot.items():
            print(f"  {label}")
            for w, b in runs.items():
                print(
                    f"    {w} worker(s): {b['wall_s']:.2f} s (+{b['startup_s']:.1f} s cluster "
                    f"start, {b['warmup_s']:.1f} s for 50 warm-up replicates), {b['ok']} ok, "
                    f"{b['failed']} failed, "
                    f"{b['not_converged']} not converged"
                )
            if 1 in runs and 2 in runs:
                print(f"    speed-up 1 -> 2 workers: {runs[1]['wall_s'] / runs[2]['wall_s']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["a", "b", "boot"], action="append")
    ap.add_argument("--json", help="also write the raw numbers here")
    ap.add_argument("--timeout", type=float, default=1800, help="per fit, seconds")
    ap.add_argument("--child", nargs=2, metavar=("MODEL", "CSV"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child_ours(*args.child)))
        return
    parts = args.only or ["a", "b", "boot"]
    fits = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("a", "b"):
            if name in parts:
                fits.append(fit_both(name, Path(tmp), args.timeout))
    boot = bootstrap_scaling() if "boot" in parts else None
    print_table(fits, boot)
    if args.json:
        Path(args.json).write_text(json.dumps({"fits": fits, "bootstrap": boot}, indent=1))


if __name__ == "__main__":
    main()
