"""Write maximal.csv: kb07-shaped data for the many-covariance-parameter checks (seeded).

kb07 (MixedModels.jl's data set; Kronmüller & Barr 2007) crosses subjects and items in a
2 x 2 x 2 within-subject, within-item design; its "maximal" model has an 8 x 8
unstructured covariance on each (72 parameters) and a singular optimum.  :func:`kb07`
simulates data of that shape with low-rank true covariances (so the optimum is singular
too); ``benchmarks/maximal_bench.py`` fits the full shape.  The file written here is a
smaller cut of it for the tests (24 subjects x 16 items, two factors: 4 x 4 on each,
20 parameters), fitted with lme4 by ``maximal.R``.  Run from the repository root:
``python tests/reference/maximal_data.py``, then ``Rscript tests/reference/maximal.R``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

NAMES = ("spkr", "prec", "load")


def kb07(subjects: int = 56, items: int = 32, factors: int = 3, seed: int = 1) -> pd.DataFrame:
    """Each subject sees each item once, conditions in a Latin square; one row dropped.

    Columns: subj, item, the +-0.5 coded factors and every interaction (``sp``, ``sl``,
    ``pl``, ``spl`` for three factors), and the response ``rt``.
    """
    rng = np.random.default_rng(seed)
    names = NAMES[:factors]
    conditions = list(itertools.product([-0.5, 0.5], repeat=factors))
    rows = [
        (s, i, *conditions[(s + i) % len(conditions)])
        for s in range(subjects)
        for i in range(items)
    ]
    d = pd.DataFrame(rows, columns=["subj", "item", *names])
    d = d.drop(index=int(rng.integers(0, len(d)))).reset_index(drop=True)
    terms = [c for r in range(2, factors + 1) for c in itertools.combinations(names, r)]
    for combo in terms:
        d["".join(n[0] for n in combo)] = np.prod([d[n] for n in combo], axis=0)
    columns = ["_one", *names, *("".join(n[0] for n in c) for c in terms)]
    x = np.column_stack([np.ones(len(d))] + [d[c] for c in columns[1:]])
    k = x.shape[1]
    beta = np.concatenate([[2181.0, 68.0, -333.0, 78.0], np.full(k, 20.0)])[:k]

    def low_rank(sds: np.ndarray, rank: int) -> np.ndarray:
        a = rng.normal(size=(k, rank))
        c = a @ a.T
        d_ = np.sqrt(np.diag(c))
        return c / np.outer(d_, d_) * np.outer(sds, sds)

    sd_s = np.concatenate([[300.0, 60.0, 50.0, 60.0], np.full(k, 30.0)])[:k]
    sd_i = np.concatenate([[350.0, 40.0, 250.0, 40.0], np.full(k, 30.0)])[:k]
    rank = max(2, k // 2 - 1)
    b_s = rng.multivariate_normal(np.zeros(k), low_rank(sd_s, rank), subjects, method="eigh")
    b_i = rng.multivariate_normal(np.zeros(k), low_rank(sd_i, rank), items, method="eigh")
    s, i = d.subj.to_numpy(), d["item"].to_numpy()
    d["rt"] = x @ beta + np.sum(x * b_s[s], 1) + np.sum(x * b_i[i], 1)
    d["rt"] += rng.normal(0, 670, len(d))
    return d


def maximal_formula(d: pd.DataFrame) -> str:
    """``rt ~ effects + (1 + effects | subj) + (1 + effects | item)`` for :func:`kb07`'s data."""
    effects = " + ".join(c for c in d.columns if c not in ("subj", "item", "rt"))
    return f"rt ~ {effects} + (1 + {effects} | subj) + (1 + {effects} | item)"


if __name__ == "__main__":
    out = Path(__file__).with_name("maximal.csv")
    kb07(subjects=24, items=16, factors=2, seed=7).to_csv(out, index=False)
    print(f"wrote {out}")
