"""Many covariance parameters: a kb07-shaped maximal model beside lme4 (issue 13).

    .venv/bin/python benchmarks/maximal_bench.py                  # ours and lme4's default
    .venv/bin/python benchmarks/maximal_bench.py --bobyqa         # also our derivative-free path
    .venv/bin/python benchmarks/maximal_bench.py --subjects 24 --items 16 --factors 2  # small

The data (``tests/reference/maximal_data.kb07``): 56 subjects x 32 items, a 2 x 2 x 2
design within both, one row dropped (1,791 rows), low-rank true covariances; the model
``rt ~ 8 effects + (8 effects | subj) + (8 effects | item)``, ML: two 8 x 8 unstructured
covariances, 72 parameters, a singular optimum.  Each fit runs in its own process (ours:
``bm.fit``; lme4: ``lmer`` with its default optimizer, as users run it) and reports its
fit time, its log likelihood and the process's peak resident memory.  ``--bobyqa`` adds
our fit with the analytic gradient switched off (BOBYQA and the finite-difference Newton
polish, the path every model took before :mod:`bayesmixed.engines.ml.gradient`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
from maximal_data import kb07, maximal_formula  # noqa: E402

OURS = """
import json, sys, time
import pandas as pd
import bayesmixed as bm
from bayesmixed.engines.ml import gradient
if sys.argv[3] == "bobyqa":
    gradient.MIN_THETA = 10**9
d = pd.read_csv(sys.argv[1])
t0 = time.perf_counter()
r = bm.fit(sys.argv[2], d, reml=False)
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0].split()[1]
print(json.dumps({"seconds": time.perf_counter() - t0, "loglik": float(r.loglik),
                  "evals": r.opt.evaluations, "peak_mb": int(hwm) / 1024}))
"""

LME4 = """
suppressMessages(library(lme4))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); d$subj <- factor(d$subj); d$item <- factor(d$item)
t0 <- proc.time()[["elapsed"]]
m <- suppressMessages(lmer(as.formula(args[2]), d, REML = FALSE))
hwm <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
hwm <- as.numeric(gsub("[^0-9]", "", hwm)) / 1024
cat(sprintf('{"seconds": %.3f, "loglik": %.6f, "peak_mb": %.1f}\\n',
            proc.time()[["elapsed"]] - t0, as.numeric(logLik(m)), hwm))
"""


def child(cmd: list[str]) -> dict:
    """Run one fit in a fresh process: its JSON line (time, log lik, peak memory: VmHWM)."""
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=56)
    ap.add_argument("--items", type=int, default=32)
    ap.add_argument("--factors", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bobyqa", action="store_true", help="also time our derivative-free path")
    ap.add_argument("--no-lme4", action="store_true")
    args = ap.parse_args()
    data = kb07(args.subjects, args.items, args.factors, args.seed)
    formula = maximal_formula(data)
    k = args.factors + 1 + (2**args.factors - args.factors - 1)
    print(f"kb07-shaped: {len(data)} rows, {args.subjects} subjects x {args.items} items, "
          f"two {k} x {k} unstructured covariances ({k * (k + 1)} parameters), ML")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "kb07.csv"
        data.to_csv(csv, index=False)
        script = Path(tmp) / "ours.py"
        script.write_text(OURS)
        rows["ours"] = child([sys.executable, str(script), str(csv), formula, "gradient"])
        if args.bobyqa:
            rows["ours, no gradient"] = child([sys.executable, str(script), str(csv), formula,
                                               "bobyqa"])  # fmt: skip
        if not args.no_lme4 and shutil.which("Rscript"):
            r_script = Path(tmp) / "lme4.R"
            r_script.write_text(LME4)
            rows["lme4 (default)"] = child(["Rscript", str(r_script), str(csv), formula])
    print(f"{'fit':<20}{'seconds':>10}{'log lik':>18}{'peak MB':>10}  evaluations")
    for name, row in rows.items():
        print(f"{name:<20}{row['seconds']:>10.1f}{row['loglik']:>18.6f}{row['peak_mb']:>10.0f}"
              f"  {row.get('evals', '')}")  # fmt: skip
    if "lme4 (default)" in rows:
        lme4, ours = rows["lme4 (default)"], rows["ours"]
        print(
            f"lme4 / ours time {lme4['seconds'] / ours['seconds']:.1f}x; "
            f"log lik ours - lme4 {ours['loglik'] - lme4['loglik']:+.6f}"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
