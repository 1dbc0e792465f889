"""Every shape of issue 13 beside lme4, in one run: the acceptance check as one command.

    .venv/bin/python benchmarks/any_design.py            # all shapes (lme4's maximal fit: ~15 min)
    .venv/bin/python benchmarks/any_design.py --quick    # without lme4's maximal and InstEval fits

Runs, each in its own process and one after the other (so they never share the cores):

* ``components_bench.py`` -- statsmodels' vcomp2, a grouseticks-shaped Gaussian model, a
  four-level nested design;
* ``crossed_glmm_bench.py`` -- grouseticks Poisson (centred and raw height), VerbAgg
  Bernoulli, on lme4's own data;
* ``maximal_bench.py`` -- the kb07-shaped maximal model (72 covariance parameters);
* ``lmm_bench.py --no-workshop`` -- the InstEval-sized crossed model, ML and REML, with
  peak memory.

Each prints our time beside lme4's from the same run and both log likelihoods; this
script adds the load average before each and the wall time of each part.  ``--quick``
skips lme4 where it takes minutes (the maximal model, InstEval) and keeps ours.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parts(quick: bool) -> list[tuple[str, list[str]]]:
    """(title, script and arguments) of each part, in the order they run."""
    return [
        ("nested factors coded as crossed, four levels", ["components_bench.py", "--no-blocked"]),
        ("crossed and nested GLMMs", ["crossed_glmm_bench.py"]),
        ("many covariance parameters", ["maximal_bench.py"] + (["--no-lme4"] if quick else [])),
        (
            "InstEval-sized crossed model",
            ["lmm_bench.py", "--no-workshop"] + (["--no-r"] if quick else []),
        ),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip lme4's minutes-long fits")
    args = ap.parse_args()
    failed = 0
    for title, (script, *rest) in parts(args.quick):
        load = os.getloadavg()[0]
        print(f"\n=== {title}: {script} {' '.join(rest)} (load {load:.2f})", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / script), *rest])
        failed += done.returncode != 0
        took = time.perf_counter() - start
        print(f"=== {script}: {took:.0f} s, exit {done.returncode}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
