"""Nested random effects coded as crossed: the component factorization (issue 13).

    .venv/bin/python benchmarks/components_bench.py              # both models, both layouts
    .venv/bin/python benchmarks/components_bench.py --no-blocked # our default layout only
    .venv/bin/python benchmarks/components_bench.py --csv DIR    # also write the data for lme4

Models:

* ``vcomp2``: statsmodels' ``test_vcomp_2`` data (``test_lme.py``), simulated with the
  same dimensions and seedable: 100 groups of 16 rows, within each group 4 ``v1`` levels
  of 4 rows and 8 ``v2`` levels of 2 rows, labels unique across groups; REML fit of
  ``y ~ x1 + x2 + (0 + z1 + z2 | groups) + (1 | v1) + (1 | v2)``.  lme4 1.1-31 took
  0.46 s on this machine (issue 13's table; R is not installed here).
* ``grouse``: a grouseticks-shaped Gaussian model: 403 rows in 118 broods in 63
  locations, three years and a height covariate, ML fit of
  ``y ~ year + height + (1 | brood) + (1 | location)``.
* ``four levels``: 40,000 pupils, 2 in each of 20,000 classes in 10,000 schools in 2,000
  regions (``test_components.four_levels``), ML fit of ``y ~ x + (1 | r) + (1 | s) + (1 | c)``:
  12,000 effects after the first factor, whose dense cross-products (1.2 GB) were built before
  the layout was chosen; only the default layout is timed.

lme4 (``lmer``, default optimizer) is timed on the same data in the same run when ``Rscript``
and lme4 are installed, and its log likelihood printed beside ours.  Each fit is timed
``--reps`` times (median reported) with the default layout, which picks
the component factorization for both, and with the blocked layout forced
(``components.PREFER = 0``), the path every design took before.  Both log likelihoods are
printed: they must agree.
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
from tests.engines.ml.test_components import (  # noqa: E402 -- one generator each
    FOUR_LEVELS,
    VCOMP2,
    four_levels,
    vcomp2,
)

GROUSE = "y ~ year + height + (1 | brood) + (1 | location)"


def grouse(seed: int = 1, n: int = 403, broods: int = 118, locations: int = 63) -> pd.DataFrame:
    """Rows in broods in locations, every location and brood non-empty (grouseticks' sizes)."""
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, locations, broods - locations)
    brood_loc = np.sort(np.concatenate([np.arange(locations), extra]))
    brood = np.sort(np.concatenate([np.arange(broods), rng.integers(0, broods, n - broods)]))
    location = brood_loc[brood]
    year = rng.integers(0, 3, locations)[location]
    height = rng.normal(460, 50, locations)[location] + rng.normal(0, 5, n)
    y = 0.5 + 0.3 * year - 0.02 * (height - 460)
    y = y + rng.normal(0, 1.0, locations)[location] + rng.normal(0, 0.6, broods)[brood]
    y = y + rng.normal(0, 0.8, n)
    return pd.DataFrame(
        {
            "y": y,
            "year": pd.Categorical(year + 95),
            "height": height,
            "brood": brood + 1,
            "location": location + 1,
        }
    )


def _time(formula: str, data: pd.DataFrame, reml: bool, reps: int) -> dict:
    import bayesmixed as bm

    times, r = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        r = bm.fit(formula, data, reml=reml)
        times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times), "loglik": r.loglik, "evals": r.opt.evaluations}


R_SCRIPT = """
suppressMessages(library(lme4))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
for (v in intersect(c("groups", "v1", "v2", "brood", "location", "year", "r", "s", "c"),
                    names(d)))
  d[[v]] <- factor(d[[v]])
reml <- args[3] == "TRUE"
ctrl <- lmerControl()  # lme4 as users run it (nloptwrap BOBYQA)
times <- numeric(0)
for (i in seq_len(as.integer(args[4]))) {
  t0 <- proc.time()[["elapsed"]]
  m <- lmer(as.formula(args[2]), d, REML = reml, control = ctrl)
  times <- c(times, proc.time()[["elapsed"]] - t0)
}
cat(sprintf("%.4f %.6f\\n", median(times), as.numeric(logLik(m))))
"""


def lme4_time(csv: Path, formula: str, reml: bool, reps: int) -> tuple[float, float] | None:
    """lme4's median fit time and log likelihood on the same data (None without R/lme4)."""
    if shutil.which("Rscript") is None:
        return None
    script = csv.parent / "lmer_time.R"
    script.write_text(R_SCRIPT)
    cmd = ["Rscript", str(script), str(csv), formula, str(reml).upper(), str(reps)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"lme4 failed: {out.stderr.strip()[-300:]}")
        return None
    seconds, loglik = out.stdout.split()[-2:]
    return float(seconds), float(loglik)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-blocked", action="store_true", help="skip the forced blocked layout")
    ap.add_argument("--csv", type=Path, help="write the data sets to this directory")
    args = ap.parse_args()
    from bayesmixed.engines.ml import components

    models = [("vcomp2 (REML)", VCOMP2, vcomp2(), True), ("grouse (ML)", GROUSE, grouse(), False),
              ("four levels (ML)", FOUR_LEVELS, four_levels(), False)]  # fmt: skip
    print(f"{'model':16s} {'layout':10s} {'seconds':>8s} {'evals':>6s} {'log lik':>16s}")
    print(f"load average {os.getloadavg()[0]:.2f}; lme4 (defaults) timed in this run if R is here")
    for name, formula, data, reml in models:
        ours = float("nan")
        if args.csv:
            args.csv.mkdir(parents=True, exist_ok=True)
            data.to_csv(args.csv / f"{name.split()[0]}.csv", index=False)
        blocked = not args.no_blocked and not name.startswith("four")  # 12,000 dense: minutes
        layouts = [("default", components.PREFER)] + ([("blocked", 0.0)] if blocked else [])
        for label, prefer in layouts:
            saved, components.PREFER = components.PREFER, prefer
            try:
                out = _time(formula, data, reml, args.reps)
            finally:
                components.PREFER = saved
            print(
                f"{name:16s} {label:10s} {out['seconds']:8.3f} {out['evals']:6d} "
                f"{out['loglik']:16.6f}"
            )
            ours = ours if label != "default" else out["seconds"]
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "data.csv"
            data.to_csv(csv, index=False)
            peer = lme4_time(csv, formula, reml, args.reps)
        if peer is not None:
            ratio = peer[0] / ours
            row = f"{name:16s} {'lme4':10s} {peer[0]:8.3f} {'':6s} {peer[1]:16.6f}"
            print(f"{row}  lme4 / ours {ratio:.1f}")


if __name__ == "__main__":
    main()
