"""Time structured-residual fits (issue 3) against nlme on the same data.

    .venv/bin/python benchmarks/residuals_bench.py [--reps 15]

Both sides read the CSV files bayesmixed ships and report the median wall time of
``--reps`` fits after one discarded warm-up fit, with the log likelihood beside it so a
fast wrong answer cannot pass unnoticed.  nlme runs in one Rscript process (its start-up
is not timed).  If Rscript or nlme is missing, that column says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = "bayesmixed/datasets/files"
FX = "mixed gsp private emp hwy water other unemp"

MODELS = {
    "rats ind by(female)": (
        "rats",
        "mixed weight i.dose size female || litter:, residuals(independent, by(female))",
        "lme(weight ~ factor(dose) + size + female, random = ~1 | litter, data = rats, "
        "weights = varIdent(form = ~1 | female), method = 'ML')",
    ),
    "productivity AR(1)": (
        "productivity",
        f"{FX} || state:, residuals(ar 1, t(year))",
        "lme(gsp ~ private + emp + hwy + water + other + unemp, random = ~1 | state, "
        "data = productivity, correlation = corAR1(form = ~year | state), method = 'ML')",
    ),
}

R_TEMPLATE = """
suppressPackageStartupMessages(library(nlme))
library(jsonlite)
rats <- read.csv("{files}/rats.csv")
productivity <- read.csv("{files}/productivity.csv")
out <- list()
{calls}
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
"""
R_CALL = """
m <- {call}
t <- replicate({reps}, system.time({call})[["elapsed"]])
out[["{name}"]] <- list(seconds = median(t), loglik = as.numeric(logLik(m)))
"""


def ours(reps: int) -> dict:
    import bayesmixed.datasets as ds
    from bayesmixed.design import build_design
    from bayesmixed.fitting import fit_lmm
    from bayesmixed.syntax import stata_to_spec

    out = {}
    for name, (data_name, cmd, _) in MODELS.items():
        data = ds.load(data_name)

        def fit(cmd=cmd, data=data):
            design = build_design(stata_to_spec(cmd, data), data)
            return fit_lmm(design)

        result = fit()
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            fit()
            times.append(time.perf_counter() - start)
        out[name] = {"seconds": statistics.median(times), "loglik": float(result.loglik)}
    return out


def nlme(reps: int) -> dict | str:
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    calls = "".join(
        R_CALL.format(call=call, reps=reps, name=name) for name, (_, _, call) in MODELS.items()
    )
    script = R_TEMPLATE.format(files=FILES, calls=calls)
    proc = subprocess.run(
        ["Rscript", "-e", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return f"nlme failed: {proc.stderr.strip()[-300:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    mine, theirs = ours(args.reps), nlme(args.reps)
    print(f"{'model':<22}{'ours (s)':>10}{'nlme (s)':>10}{'loglik ours':>16}{'loglik nlme':>16}")
    for name in MODELS:
        a = mine[name]
        b = theirs.get(name, {}) if isinstance(theirs, dict) else {}
        nl_s = f"{b['seconds']:>10.4f}" if b else f"{'-':>10}"
        nl_ll = f"{b['loglik']:>16.7f}" if b else f"{'-':>16}"
        print(f"{name:<22}{a['seconds']:>10.4f}{nl_s}{a['loglik']:>16.7f}{nl_ll}")
    if isinstance(theirs, str):
        print(f"nlme: {theirs}")


if __name__ == "__main__":
    main()
