"""Crossed and nested GLMMs beside lme4's glmer, timed in the same run (issue 13).

    .venv/bin/python benchmarks/crossed_glmm_bench.py [--reps 3]

Models (issue 13's table), Laplace, lme4's default optimizer settings against ours:

* grouseticks Poisson, ``TICKS ~ YEAR + cH + (1|BROOD) + (1|INDEX) + (1|LOCATION)`` with
  the height centred, and again with the raw height (lme4's ``elston`` test);
* VerbAgg Bernoulli, ``r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)`` (7,584 rows);
* a large crossed Bernoulli model, ``y ~ x + (1|s) + (1|i)`` with 1,000 x 900 levels and
  20,000 rows, simulated here (:func:`large_crossed`; ``--no-large`` skips it): a design whose
  remainder after the first factor is large (before this model was added, 272 s against
  lme4's ~25 s).

The data are lme4's own, written by R in this run; without R (or lme4) only our times are
printed, on simulated data of the same dimensions.  Medians of ``--reps`` fits after one
warm-up fit each; glmer timed inside R with ``system.time`` (R's start-up not counted).
The load average is printed: the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import bayesmixed as bm  # noqa: E402

MODELS = {  # name: (data, Stata command, lme4 formula, family)
    "grouse, centred height": (
        "grouse",
        "mepoisson TICKS i.YEAR cH || _all: R.BROOD || _all: R.INDEX || _all: R.LOCATION",
        "TICKS ~ YEAR + cH + (1|BROOD) + (1|INDEX) + (1|LOCATION)",
        "poisson",
    ),
    "grouse, raw height": (
        "grouse",
        "mepoisson TICKS i.YEAR HEIGHT || _all: R.BROOD || _all: R.INDEX || _all: R.LOCATION",
        "TICKS ~ YEAR + HEIGHT + (1|BROOD) + (1|INDEX) + (1|LOCATION)",
        "poisson",
    ),
    "VerbAgg": (
        "verbagg",
        "melogit r2 Anger i.Gender i.btype i.situ || _all: R.id || _all: R.item",
        "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)",
        "binomial",
    ),
    "large crossed Bernoulli": (
        "large",
        "melogit y x || _all: R.s || _all: R.i",
        "y ~ x + (1|s) + (1|i)",
        "binomial",
    ),
}

R_DATA = """
suppressPackageStartupMessages(library(lme4))
g <- grouseticks; g$cH <- as.numeric(scale(g$HEIGHT, scale = FALSE))
g$YEAR <- as.character(g$YEAR)
write.csv(g, file.path(dir, "grouse.csv"), row.names = FALSE)
v <- VerbAgg; v$r2 <- as.integer(v$r2 == "Y")
write.csv(v, file.path(dir, "verbagg.csv"), row.names = FALSE)
"""

R_TIME = """
suppressPackageStartupMessages(library(lme4))
d <- read.csv(file.path(dir, "{data}.csv"))
for (v in intersect(c("BROOD", "INDEX", "LOCATION", "id", "item", "YEAR", "s", "i"), names(d)))
  d[[v]] <- factor(d[[v]])
f <- function() glmer({formula}, d, {family})
m <- f()
t <- replicate({reps}, system.time(f())[["elapsed"]])
cat(median(t), as.numeric(logLik(m)), "\\n")
"""


def simulate() -> dict[str, pd.DataFrame]:
    """Data of the same dimensions as lme4's, for a run without R."""
    rng = np.random.default_rng(1)
    brood = np.sort(rng.integers(0, 118, 403))
    g = pd.DataFrame({"INDEX": np.arange(403), "BROOD": brood, "LOCATION": brood % 63})
    g["YEAR"] = rng.choice(["95", "96", "97"], 403)
    g["HEIGHT"] = rng.normal(460, 35, 403)
    g["cH"] = g["HEIGHT"] - g["HEIGHT"].mean()
    eta = 0.5 - 0.02 * g["cH"] + rng.normal(0, 1, 118)[brood] + rng.normal(0, 0.6, 403)
    g["TICKS"] = rng.poisson(np.exp(eta))
    ids, items = np.repeat(np.arange(316), 24), np.tile(np.arange(24), 316)
    v = pd.DataFrame({"id": ids, "item": items, "Anger": rng.integers(11, 40, 316)[ids]})
    v["Gender"] = np.where(rng.random(316) < 0.75, "F", "M")[ids]
    v["btype"] = np.array(["curse", "scold", "shout"])[items % 3]
    v["situ"] = np.array(["other", "self"])[items // 12]
    eta = (
        -0.5
        + 0.05 * (v["Anger"] - 20)
        + rng.normal(0, 1.3, 316)[ids]
        + rng.normal(0, 0.7, 24)[items]
    )
    v["r2"] = (rng.random(len(v)) < 1 / (1 + np.exp(-eta))).astype(int)
    return {"grouse": g, "verbagg": v}


def large_crossed(seed: int = 3, n: int = 20_000, subjects: int = 1000, items: int = 900):
    """A Bernoulli response on two large crossed factors (same data for both sides)."""
    rng = np.random.default_rng(seed)
    s, i, x = rng.integers(0, subjects, n), rng.integers(0, items, n), rng.normal(size=n)
    eta = -0.2 + 0.5 * x + rng.normal(0, 1.0, subjects)[s] + rng.normal(0, 0.6, items)[i]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "s": s, "i": i})


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    done = subprocess.run(["Rscript", "-e", "library(lme4)"], capture_output=True)
    return done.returncode == 0


def run_r(code: str, folder: str) -> str:
    script = f'dir <- "{folder}"\n' + code
    done = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return done.stdout


def ours(command: str, data: pd.DataFrame, reps: int) -> tuple[float, float]:
    result = bm.stata(command, data)  # warm-up: imports and first-call costs
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        bm.stata(command, data)
        times.append(time.perf_counter() - start)
    return statistics.median(times), float(result.loglik)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-large", action="store_true", help="skip the large crossed model")
    args = parser.parse_args()
    with_r = r_available()
    with tempfile.TemporaryDirectory() as folder:
        if with_r:
            run_r(R_DATA, folder)
            frames = {n: pd.read_csv(Path(folder) / f"{n}.csv") for n in ("grouse", "verbagg")}
        else:
            frames = simulate()
            print("Rscript with lme4 not found: our times only, on simulated data")
        frames["large"] = large_crossed()
        frames["large"].to_csv(Path(folder) / "large.csv", index=False)
        print(f"load average {os.getloadavg()[0]:.2f}, {args.reps} repeats (medians)")
        print(f"{'model':<24}{'ours s':>9}{'lme4 s':>9}{'ratio':>8}  log lik ours / lme4")
        for name, (data, command, formula, family) in MODELS.items():
            if data == "large" and args.no_large:
                continue
            t, ll = ours(command, frames[data], args.reps)
            if with_r:
                code = R_TIME.format(data=data, formula=formula, family=family, reps=args.reps)
                r_time, r_ll = map(float, run_r(code, folder).split())
                print(f"{name:<24}{t:9.2f}{r_time:9.2f}{r_time / t:7.1f}x  {ll:.4f} / {r_ll:.4f}")
            else:
                print(f"{name:<24}{t:9.2f}{'':>9}{'':>8}  {ll:.4f}")


if __name__ == "__main__":
    main()
