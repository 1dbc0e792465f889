"""Simulate an InstEval-sized data set with crossed random effects.

lme4's InstEval (73,421 ratings of 1,128 lecturers by 2,972 students, 14 departments) is the
usual stress test for crossed designs: neither grouping factor nests in the other, so the
random-effects cross-product is not block diagonal.  We simulate data of that shape rather than
ship InstEval so the benchmark needs no download and the truth is known.  Students rate
lecturers chosen with unequal popularity; each lecturer belongs to one of 30 departments, so
``(1 | s) + (1 | d) + (1 | dept)`` (Stata: ``|| _all: R.s || dept: || d:``) has three
variance components besides the residual.

Run as a script to write the CSV: ``python benchmarks/simulate_crossed.py out.csv``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CrossedTruth:
    """Sizes and true parameters of the simulated design (InstEval-like magnitudes)."""

    n_obs: int = 73_421
    n_students: int = 2_972
    n_lecturers: int = 1_128
    n_depts: int = 30
    beta: tuple[float, float, float] = (3.2, -0.07, -0.03)  # _cons, service, lectage
    sd_student: float = 0.32
    sd_lecturer: float = 0.52
    sd_dept: float = 0.25
    sd_resid: float = 1.18

    def scaled(self, scale: float) -> CrossedTruth:
        """A smaller design of the same shape (for quick checks); ``scale`` = 1 is full size."""
        if not 0 < scale <= 1:
            raise ValueError(f"scale must lie in (0, 1], got {scale}")

        def size(n: int, floor: int) -> int:
            return max(floor, round(n * scale))

        return CrossedTruth(
            n_obs=size(self.n_obs, 200),
            n_students=size(self.n_students, 20),
            n_lecturers=size(self.n_lecturers, 10),
            n_depts=size(self.n_depts, 3),
        )


def _assign(rng: np.random.Generator, n_obs: int, n_levels: int, weights: np.ndarray) -> np.ndarray:
    """Level of each observation: every level at least once, the rest drawn by ``weights``."""
    rest = rng.choice(n_levels, size=n_obs - n_levels, p=weights / weights.sum())
    return rng.permutation(np.concatenate([np.arange(n_levels), rest]))


def simulate(seed: int = 20240611, truth: CrossedTruth | None = None) -> pd.DataFrame:
    """Simulate the crossed design; the same seed and truth always give the same frame.

    Returns columns ``y, service, lectage, s, d, dept`` with 1-based integer ids.
    """
    t = truth or CrossedTruth()
    if t.n_obs < t.n_students + t.n_lecturers:
        raise ValueError("n_obs must cover every student and every lecturer at least once")
    rng = np.random.default_rng(seed)
    s = _assign(rng, t.n_obs, t.n_students, rng.gamma(2.0, 1.0, t.n_students))
    d = _assign(rng, t.n_obs, t.n_lecturers, rng.lognormal(0.0, 0.8, t.n_lecturers))
    dept_of_d = rng.permutation(np.arange(t.n_lecturers) % t.n_depts)
    dept = dept_of_d[d]
    service = rng.binomial(1, 0.45, t.n_obs)
    lectage = rng.integers(1, 7, t.n_lecturers)[d]
    u_s = rng.normal(0, t.sd_student, t.n_students)
    u_d = rng.normal(0, t.sd_lecturer, t.n_lecturers)
    u_dept = rng.normal(0, t.sd_dept, t.n_depts)
    b0, b_service, b_lectage = t.beta
    y = (
        b0
        + b_service * service
        + b_lectage * lectage
        + u_s[s]
        + u_d[d]
        + u_dept[dept]
        + rng.normal(0, t.sd_resid, t.n_obs)
    )
    return pd.DataFrame(
        {
            "y": np.round(y, 6),
            "service": service,
            "lectage": lectage,
            "s": s + 1,
            "d": d + 1,
            "dept": dept + 1,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="CSV file to write")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    args = ap.parse_args()
    simulate(args.seed, CrossedTruth().scaled(args.scale)).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
