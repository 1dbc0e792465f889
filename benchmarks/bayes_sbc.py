"""Simulation-based calibration (Talts et al. 2018) of the Bayesian engine (issue 5).

Model: random intercept and slope with unstructured covariance,
``y ~ x + (x | g)``, 20 groups x 10 observations, fixed priors (so the prior does not
depend on the simulated data): beta ~ N(0, 1), sigma ~ HalfNormal(1), sd(x) ~
HalfNormal(0.5), sd(_cons) ~ HalfNormal(1), corr ~ LKJ(2) (scales; ``PRIORS`` writes them
in Stata's parametrization, where halfnormal takes the variance).  For each replication:
draw parameters from the prior (NumPy), simulate y, fit with NUTS (marginal model), and
record the rank of the true value among thinned posterior draws.  Uniformity of the ranks
is tested per parameter with a chi-square test on 10 bins.
Run: ``.venv/bin/python benchmarks/bayes_sbc.py --reps 100 --json sbc.json``; runs over
disjoint seeds (``--start``) can go in parallel and be pooled with ``--summarize a.json b.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from bayesmixed.design import build_design
from bayesmixed.fitting import fit_bayes
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term

PRIORS = {
    "beta": ("normal", 0.0, 1.0),
    "sigma": ("halfnormal", 1.0),
    "sd[g:x]": ("halfnormal", 0.25),  # Stata's parametrization: a variance (scale 0.5)
    "sd[g:_cons]": ("halfnormal", 1.0),
    "corr[g]": ("lkj", 2.0),
}
PARAMS = ["beta_x", "beta_cons", "sigma", "sd_x", "sd_cons", "corr"]
SPEC = ModelSpec(
    "y",
    (Term((Component("x"),)),),
    (RandomEquation(("g",), (Term((Component("x"),)),), True, "unstructured"),),
)


def draw_prior(rng: np.random.Generator) -> dict[str, float]:
    # LKJ(eta) for k = 2: (r + 1) / 2 ~ Beta(eta, eta)
    return {
        "beta_x": rng.normal(),
        "beta_cons": rng.normal(),
        "sigma": abs(rng.normal()),
        "sd_x": abs(rng.normal(0, 0.5)),
        "sd_cons": abs(rng.normal()),
        "corr": 2 * rng.beta(2.0, 2.0) - 1,
    }


def simulate(truth: dict, rng: np.random.Generator, groups=20, per=10) -> pd.DataFrame:
    g = np.repeat(np.arange(groups), per)
    x = np.tile(np.linspace(-1, 1, per), groups)
    cov = np.array(
        [
            [truth["sd_x"] ** 2, truth["corr"] * truth["sd_x"] * truth["sd_cons"]],
            [0.0, truth["sd_cons"] ** 2],
        ]
    )
    cov[1, 0] = cov[0, 1]
    b = rng.multivariate_normal(np.zeros(2), cov, size=groups)
    y = truth["beta_cons"] + truth["beta_x"] * x + b[g, 1] + b[g, 0] * x
    return pd.DataFrame({"g": g, "x": x, "y": y + rng.normal(0, truth["sigma"], len(y))})


def posterior_params(r) -> dict[str, np.ndarray]:
    post = r.idata["posterior"]
    beta = post["beta"].values.reshape(-1, 2)
    sd = post["sd[g]"].values.reshape(-1, 2)
    return {
        "beta_x": beta[:, 0],
        "beta_cons": beta[:, 1],
        "sigma": post["sigma"].values.ravel(),
        "sd_x": sd[:, 0],
        "sd_cons": sd[:, 1],
        "corr": post["corr[g]"].values[..., 0, 1].ravel(),
    }


def one_rep(seed: int, draws: int, thin: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    truth = draw_prior(rng)
    design = build_design(SPEC, simulate(truth, rng))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_bayes(
            design, draws=draws, tune=draws, chains=1, seed=seed, priors=PRIORS, progressbar=False
        )
    draws_ = posterior_params(r)
    return {p: int(np.sum(draws_[p][::thin] < truth[p])) for p in PARAMS} | {
        "divergences": r.divergences
    }


def uniformity(ranks: pd.DataFrame, n_ranks: int, bins: int = 10) -> pd.DataFrame:
    rows = {}
    for p in PARAMS:
        counts, _ = np.histogram(ranks[p], bins=bins, range=(0, n_ranks + 1))
        chi2, pval = stats.chisquare(counts)
        rows[p] = {"chi2": chi2, "p_value": pval, "mean_rank": ranks[p].mean() / n_ranks}
    return pd.DataFrame(rows).T


def summarize(rows: list[dict], draws: int, thin: int, seconds: float | None = None) -> None:
    ranks = pd.DataFrame(rows)
    n_ranks = len(range(0, draws, thin))
    print(uniformity(ranks, n_ranks).round(3).to_string())
    took = "" if seconds is None else f" in {seconds:.0f} s"
    print(f"{len(ranks)} replications{took}; {int(ranks.divergences.sum())} divergences in total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--start", type=int, default=0, help="first replication (seed 1000+)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--thin", type=int, default=5)
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--summarize", nargs="+", metavar="JSON", help="only pool these runs' ranks and test them"
    )
    args = parser.parse_args()
    if args.summarize:
        rows = [row for path in args.summarize for row in json.load(open(path))]
        summarize(rows, args.draws, args.thin)
        return
    rows, t0 = [], time.perf_counter()
    for rep in range(args.start, args.start + args.reps):
        rows.append(one_rep(1000 + rep, args.draws, args.thin))
        print(json.dumps(rows[-1]), flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(rows, fh)
    summarize(rows, args.draws, args.thin, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
