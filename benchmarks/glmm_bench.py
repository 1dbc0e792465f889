"""GLMM benchmark: bayesmixed vs lme4's glmer on the bangladesh models (issue 4).

Run from the repository root:  .venv/bin/python benchmarks/glmm_bench.py [--no-r]
Reports the median wall time of several fits of each model, ours and glmer's
(glmer timed inside R with system.time, so R's start-up is not counted).
Timings are reported, never asserted: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesmixed.design.types import Design, REBlock  # noqa: E402
from bayesmixed.fitting import fit_glmm  # noqa: E402
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term  # noqa: E402

X = ["urban", "age", "child1", "child2", "child3"]

R_SCRIPT = """
suppressPackageStartupMessages(library(lme4))
bd <- read.csv("data/bangladesh.csv"); bd$district <- factor(bd$district)
ctrl <- glmerControl(optimizer = "bobyqa")
f1 <- c_use ~ urban + age + child1 + child2 + child3 + (1 | district)
f2 <- c_use ~ urban + age + child1 + child2 + child3 + (urban | district)
tm <- function(f, n = 5) median(replicate(n, system.time(f())[["elapsed"]]))
cat(tm(function() glmer(f1, bd, binomial, control = ctrl)),
    tm(function() glmer(f1, bd, binomial, nAGQ = 7, control = ctrl)),
    tm(function() glmer(f2, bd, binomial, control = ctrl)), "\\n")
"""


def design(slope: bool) -> Design:
    df = pd.read_csv(ROOT / "data/bangladesh.csv")
    cov = "unstructured" if slope else "independent"
    eq = RandomEquation(
        ("district",), (Term((Component("urban"),)),) if slope else (), covariance=cov
    )
    spec = ModelSpec(
        "c_use",
        tuple(Term((Component(x),)) for x in X),
        (eq,),
        family="bernoulli",
        link="logit",
        command="melogit",
    )
    codes, groups = pd.factorize(df["district"], sort=True)
    z = np.column_stack([df["urban"], np.ones(len(df))]) if slope else np.ones((len(df), 1))
    block = REBlock(eq, codes, pd.Index(groups), z, eq.effect_names, eq.structure)
    x = np.column_stack([df[c] for c in X] + [np.ones(len(df))])
    return Design(spec, df["c_use"].to_numpy(float), x, [*X, "_cons"], [block], df.index)


def time_ours(slope: bool, method: str, reps: int = 5) -> tuple[float, float]:
    d = design(slope)
    times, loglik = [], np.nan
    for _ in range(reps):
        t0 = time.perf_counter()
        r = fit_glmm(d, intmethod=method, intpoints=7)
        times.append(time.perf_counter() - t0)
        loglik = r.loglik
    return statistics.median(times), loglik


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-r", action="store_true", help="skip glmer")
    args = parser.parse_args()
    glmer = [np.nan] * 3
    if not args.no_r:
        out = subprocess.run(["Rscript", "-e", R_SCRIPT], cwd=ROOT, capture_output=True, text=True)
        glmer = [float(v) for v in out.stdout.split()] if out.returncode == 0 else glmer
    rows = [
        ("(1 | district) Laplace", False, "laplace", glmer[0]),
        ("(1 | district) 7-pt mcaghermite (lme4 nAGQ=7)", False, "mcaghermite", glmer[1]),
        ("(1 | district) 7-pt mvaghermite", False, "mvaghermite", np.nan),
        ("(urban | district) Laplace", True, "laplace", glmer[2]),
        ("(urban | district) 7x7-pt mvaghermite", True, "mvaghermite", np.nan),
    ]
    print(f"{'model':<48}{'ours (s)':>10}{'glmer (s)':>11}{'speed-up':>10}{'loglik':>16}")
    for label, slope, method, theirs in rows:
        ours, ll = time_ours(slope, method)
        speed = theirs / ours if np.isfinite(theirs) else np.nan
        print(f"{label:<48}{ours:>10.3f}{theirs:>11.3f}{speed:>10.1f}{ll:>16.6f}")


if __name__ == "__main__":
    main()
