"""bayesmixed's NUTS beside bambi's default NUTS on the same models (issue 5).

For the Gaussian workshop models (jsp2 random slope, with and without the intercept-slope
correlation; productivity crossed year and nested region/state; grunfeld crossed; rats
with by(female) residual variances) both samplers run 4 chains x 1000 draws after 1000
tuning steps with seed 1, on the same data and machine in one run, each with its default
parallelism (chains spread over the CPU cores).  Wall time is the whole fit call
(compilation included); min-ESS is the smallest bulk ESS over every posterior variable,
random effects included, computed the same way (ArviZ) on both sides.  Prints a table with
min-ESS/s for both and the ratio ours/bambi.

bambi pins ``formulae<0.7`` and cannot share the project's venv, so it runs in a subprocess
with its own interpreter::

    python -m venv /tmp/bvenv && /tmp/bvenv/bin/pip install bambi==0.21.0
    .venv/bin/python benchmarks/bambi_compare.py --bambi-python /tmp/bvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import bayesmixed
from bayesmixed import datasets

# name -> (data set, Stata command, bambi formula[, bambi formula for sigma]).
# bambi's ``(math3 | school)`` has independent intercept and slope (bambi has no correlated
# group-specific terms), which is Stata's default ``|| school: math3``: jsp2 is the same
# model on both sides; jsp2_uns adds the correlation only we can fit, a harder posterior.
# bambi expands ``(1|region:state)`` to all 9 x 48 = 432 region-by-state cells, 384 of them
# empty (prior-only effects that NUTS must still explore), so the nested term uses a
# ``region_state`` column holding only the 48 observed cells: the same model as Stata's
# ``|| region: || state:`` and lme4's ``(1|region:state)``.  rats' by(female) residual
# variances are bambi's distributional ``sigma ~ female``.
MODELS = {
    "jsp2": (
        "jsp2",
        "bayes: mixed math5 math3 || school: math3",
        "math5 ~ math3 + (math3 | school)",
    ),
    "jsp2_uns": (
        "jsp2",
        "bayes: mixed math5 math3 || school: math3, cov(uns)",
        "math5 ~ math3 + (math3 | school)",
    ),
    "productivity": (
        "productivity",
        "bayes: mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:",
        "gsp ~ private + emp + hwy + water + other + unemp"
        " + (1|year) + (1|region) + (1|region_state)",
    ),
    "grunfeld": (
        "grunfeld",
        "bayes: mixed invest mvalue cstock || _all: R.company || year:",
        "invest ~ mvalue + cstock + (1|company) + (1|year)",
    ),
    "rats": (
        "rats",
        "bayes: mixed weight i.dose size female || litter:, residuals(independent, by(female))",
        "weight ~ C(dose) + size + female + (1|litter)",
        "sigma ~ female",
    ),
}

# run by the bambi interpreter: argv = csv, formula, draws, tune, chains, seed, factors (comma list)
BAMBI_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
import pandas as pd
import arviz as az
import bambi as bmb

csv, formula, draws, tune, chains, seed, factors, sigma = sys.argv[1:9]
draws, tune, chains, seed = int(draws), int(tune), int(chains), int(seed)
data = pd.read_csv(csv)
for f in filter(None, factors.split(",")):
    data[f] = data[f].astype(str)
warnings.simplefilter("ignore")
t0 = time.perf_counter()
model = bmb.Model(bmb.Formula(formula, sigma) if sigma else formula, data)
idata = model.fit(draws=draws, tune=tune, chains=chains, random_seed=seed, progressbar=False)
wall = time.perf_counter() - t0

def min_ess(idata):
    ess = az.ess(idata, method="bulk")
    if hasattr(ess, "to_dataset"):      # ArviZ 1.x returns a DataTree
        ess = ess.to_dataset() if "posterior" not in ess.children else ess["posterior"].to_dataset()
    vals = [np.asarray(ess[v].values, dtype=float).ravel() for v in ess.data_vars]
    return float(np.nanmin(np.concatenate(vals)))

stats = idata["sample_stats"]
div = int(np.asarray(stats["diverging"].values).sum())
n_params = int(sum(np.prod(idata["posterior"][v].shape[2:], dtype=int)
                   for v in idata["posterior"].data_vars))
print("BAMBI_JSON " + json.dumps({
    "wall_s": wall, "min_ess_bulk": min_ess(idata), "divergences": div,
    "n_params": n_params, "bambi": bmb.__version__, "arviz": az.__version__,
}))
"""


def min_ess_all(idata) -> float:
    """Smallest bulk ESS over every posterior variable, random effects included (as bambi's)."""
    import arviz as az
    import numpy as np

    post = idata["posterior"].to_dataset()
    ess = az.ess(post, method="bulk")
    if hasattr(ess, "to_dataset"):
        ess = ess.to_dataset()
    vals = [np.asarray(ess[v].values, dtype=float).ravel() for v in ess.data_vars]
    return float(np.nanmin(np.concatenate(vals)))


def ours(command: str, data, draws: int, tune: int, chains: int, seed: int) -> dict:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bayesmixed.stata(
            command, data, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=False
        )
    wall = time.perf_counter() - t0
    diag = r.diagnostics()
    return {
        "wall_s": wall,
        "min_ess_bulk": min_ess_all(r.idata),
        "min_ess_printed": float(diag.ess_bulk.min()),
        "divergences": int(r.divergences),
    }


def bambi(
    python: str,
    formula: str,
    sigma: str,
    data,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    tmp: Path,
) -> dict:
    csv = tmp / "data.csv"
    if "region_state" in formula:
        data = data.assign(
            region_state=data["region"].astype(str) + ":" + data["state"].astype(str)
        )
    data.to_csv(csv, index=False)
    script = tmp / "bambi_fit.py"
    script.write_text(BAMBI_SCRIPT)
    # grouping variables as strings so bambi treats them as factors
    factors = [
        c
        for c in ("school", "year", "region", "state", "region_state", "company", "litter")
        if c in data.columns and c in formula
    ]
    args = [
        python,
        str(script),
        str(csv),
        formula,
        str(draws),
        str(tune),
        str(chains),
        str(seed),
        ",".join(factors),
        sigma,
    ]
    proc = subprocess.run(args, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BAMBI_JSON "):
            return json.loads(line[len("BAMBI_JSON ") :])
    raise RuntimeError(
        f"bambi subprocess failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-3000:]}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bambi-python", default="/tmp/bvenv/bin/python")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the rows to this JSON file")
    a = ap.parse_args(argv)

    bp = Path(a.bambi_python)
    if not (bp.is_file() and os.access(bp, os.X_OK)):
        print(
            f"bambi python not found or not executable: {bp}\n"
            "create it with: python -m venv /tmp/bvenv && "
            "/tmp/bvenv/bin/pip install bambi==0.21.0",
            file=sys.stderr,
        )
        return 2
    check = subprocess.run([str(bp), "-c", "import bambi"], capture_output=True, text=True)
    if check.returncode != 0:
        print(
            f"{bp} cannot import bambi:\n{check.stderr.strip()[-1000:]}\n"
            f"install it with: {bp} -m pip install bambi==0.21.0",
            file=sys.stderr,
        )
        return 2

    print(
        f"cores: {os.cpu_count()}  load average before: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as td:
        for name in a.models:
            dset, command, formula, *sigma = MODELS[name]
            data = datasets.load(dset)
            o = ours(command, data, a.draws, a.tune, a.chains, a.seed)
            print(f"{name}: ours done in {o['wall_s']:.1f} s", flush=True)
            b = bambi(str(bp), formula, sigma[0] if sigma else "", data, a.draws, a.tune,
                      a.chains, a.seed, Path(td))  # fmt: skip
            print(f"{name}: bambi done in {b['wall_s']:.1f} s", flush=True)
            o["ess_per_s"] = o["min_ess_bulk"] / o["wall_s"]
            b["ess_per_s"] = b["min_ess_bulk"] / b["wall_s"]
            rows.append(
                {"model": name, "ours": o, "bambi": b, "ratio": o["ess_per_s"] / b["ess_per_s"]}
            )

    head = (
        f"{'model':<13} {'ours s':>8} {'minESS':>8} {'ESS/s':>8} {'div':>4}"
        f" {'bambi s':>8} {'minESS':>8} {'ESS/s':>8} {'div':>4} {'ratio':>7}"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        o, b = r["ours"], r["bambi"]
        print(
            f"{r['model']:<13} {o['wall_s']:8.1f} {o['min_ess_bulk']:8.0f} {o['ess_per_s']:8.1f}"
            f" {o['divergences']:4d} {b['wall_s']:8.1f} {b['min_ess_bulk']:8.0f}"
            f" {b['ess_per_s']:8.1f} {b['divergences']:4d} {r['ratio']:7.2f}"
        )
    print(
        f"\n{a.chains} chains x {a.draws} draws ({a.tune} tune), seed {a.seed};"
        " wall time includes"
        " compilation; min-ESS over every posterior variable, random effects included;"
        " ratio = ours min-ESS/s / bambi min-ESS/s"
    )
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
