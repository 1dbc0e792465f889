"""Acceptance runs of the Bayesian engine on the five workshop models (issue 5).

4 chains x 1000 draws (1000 tuning), default priors, the default sampler (nutpie on our own
densities: integrated Gaussian models, rats' residual cells, bangladesh's melogit non-centred;
``--sampler pymc`` adds PyMC's NUTS beside each); reports R-hat, bulk/tail ESS,
divergences, |posterior mean - ML| / posterior SD of the fixed effects (ML from the same
command without ``bayes:``), wall time (compilation included) and min-ESS/s, then Laplace
with flat priors against ML and REML for the iid-error Gaussian models.
Run: ``.venv/bin/python benchmarks/bayes_acceptance.py [--draws 1000] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

import bayesmixed
from bayesmixed import datasets
from bayesmixed.api import stata_to_spec
from bayesmixed.design import build_design
from bayesmixed.fitting import fit_bayes, fit_lmm

# the five workshop models of issue 5: name -> (data set, Stata command without bayes:)
MODELS = {
    "jsp2": ("jsp2", "mixed math5 math3 || school: math3, cov(unstructured)"),
    "productivity": (
        "productivity",
        "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:",
    ),
    "grunfeld": ("grunfeld", "mixed invest mvalue cstock || _all: R.company || year:"),
    "rats": (
        "rats",
        "mixed weight i.dose size female || litter:, residuals(independent, by(female))",
    ),
    "bangladesh": (
        "bangladesh",
        "melogit c_use urban age child* || district: urban, cov(unstructured)",
    ),
}


def nuts_row(name: str, command: str, data, draws: int, chains: int, seed: int, **kw) -> dict:
    ml = bayesmixed.stata(command, data)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bayesmixed.stata(
            "bayes: " + command,
            data,
            draws=draws,
            tune=draws,
            chains=chains,
            seed=seed,
            progressbar=False,
            **kw,
        )
    wall = time.perf_counter() - t0
    diag = r.diagnostics()
    draws_beta = r.posterior["beta"].values.reshape(-1, r.design.p)
    sd = draws_beta.std(axis=0, ddof=1)
    z = np.abs(r.coef.to_numpy() - ml.coef.to_numpy()) / sd
    depth = float(r.idata["sample_stats"]["tree_depth"].values.mean())
    return {
        "model": name,
        "sampler": r.sampler,
        "wall_s": round(wall, 1),
        "sampling_s": round(r.sampling_seconds, 1),
        "max_rhat": float(diag.r_hat.max()),
        "min_ess_bulk": float(diag.ess_bulk.min()),
        "min_ess_tail": float(diag.ess_tail.min()),
        "divergences": r.divergences,
        "max_beta_z_vs_ml": float(z.max()),
        "min_ess_per_s": float(diag.ess_bulk.min() / wall),
        "min_ess_per_sampling_s": float(diag.ess_bulk.min() / max(r.sampling_seconds, 1e-9)),
        "mean_tree_depth": depth,
        "warnings": r.check(),
        "pass": bool(
            diag.r_hat.max() <= 1.01
            and diag.ess_bulk.min() >= 400
            and r.divergences == 0
            and z.max() < 1
        ),
    }


def laplace_row(name: str, design, reml: bool) -> dict:
    ml = fit_lmm(design, reml=reml)
    t0 = time.perf_counter()
    r = fit_bayes(design, method="laplace", priors="flat", reml=reml, draws=1000, seed=1)
    rel = [
        np.max(np.abs(r.mode.to_numpy() / ml.coef.to_numpy() - 1)),
        abs(r.mode_values["sigma"] ** 2 / ml.sigma2 - 1),
    ]
    for frame, cov in zip(r.mode_re_cov.values(), ml.cov_blocks):
        rel.append(np.max(np.abs(frame.to_numpy() - cov) / np.abs(cov).max()))
    return {
        "model": name,
        "reml": reml,
        "wall_s": round(time.perf_counter() - t0, 2),
        "max_rel_diff": float(max(rel)),
        "pass": bool(max(rel) < 1e-4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--json", default=None)
    parser.add_argument("--sampler", default="auto", help="also run this sampler (pymc...)")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    rows = []
    for name in args.models.split(","):
        dataset, command = MODELS[name]
        data = datasets.load(dataset)
        if command.startswith("mixed") and "residuals(" not in command:
            design = build_design(stata_to_spec(command, data), data)
            for reml in (False, True):
                rows.append(laplace_row(name, design, reml))
                print(json.dumps(rows[-1]), flush=True)
        rows.append(nuts_row(name, command, data, args.draws, args.chains, args.seed))
        print(json.dumps(rows[-1]), flush=True)
        if args.sampler != "auto":
            kw = {"sampler": args.sampler}
            rows.append(nuts_row(name, command, data, args.draws, args.chains, args.seed, **kw))
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
