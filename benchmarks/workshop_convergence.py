"""Convergence of every ``bayes:`` model of the workshop at the main job's defaults.

Runs ``tutorials/workshop.do`` the way ``bayesmixed workshop`` does (2 chains x 1000
draws after 1000 tuning steps, chains added until R-hat <= 1.01 and bulk ESS >= 400;
``--no-extend`` to switch that off) and prints, per Bayesian model, the worst R-hat, the
least bulk ESS, the chains it ended with and its divergences (issue 19 item 5).

    python benchmarks/workshop_convergence.py [--seeds 1 2 3] [--no-extend] [--draws N]

Seeds are set through the do-file's ``bayes:`` commands (``rseed()`` is added to each).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import ModelEntry

WORKSHOP = Path(__file__).resolve().parents[1] / "tutorials" / "workshop.do"


def seeded_copy(seed: int, folder: Path) -> Path:
    """The workshop do-file with ``rseed(seed)`` added to every ``bayes:`` prefix."""
    text = re.sub(r"^bayes:", f"bayes, rseed({seed}):", WORKSHOP.read_text(), flags=re.M)
    path = folder / f"workshop_seed{seed}.do"
    path.write_text(text)
    return path


def rows(session) -> list[tuple]:
    out = []
    for entry in session.log:
        if isinstance(entry, ModelEntry) and entry.estimate.bayes and entry.estimate.result:
            r = entry.estimate.result
            diag = r.diagnostics()
            out.append(
                (
                    entry.estimate.command.split(":", 1)[1].strip()[:70],
                    float(diag["r_hat"].max()),
                    float(diag["ess_bulk"].min()),
                    r.chains,
                    r.divergences,
                )
            )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--no-extend", action="store_true")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; draws {args.draws}, chains {args.chains}")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            path = seeded_copy(seed, Path(tmp))
            start = time.perf_counter()
            session = run_do(
                path,
                draws=args.draws,
                chains=args.chains,
                progressbar=False,
                until_converged=not args.no_extend,
            )
            print(f"\nseed {seed}: {time.perf_counter() - start:.0f} s")
            print(f"{'model':<70} {'max R-hat':>9} {'min ESS':>8} {'chains':>6} {'div':>4}")
            for text, rhat, ess, chains, div in rows(session):
                bad = rhat > 1.01 or ess < 400
                failures += bad
                flag = "  <- misses a target" if bad else ""
                print(f"{text:<70} {rhat:9.4f} {ess:8.0f} {chains:6d} {div:4d}{flag}")
    print(f"\n{failures} model(s) missing R-hat <= 1.01 or bulk ESS >= 400")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
