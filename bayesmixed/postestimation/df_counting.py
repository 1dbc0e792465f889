"""Stata's counting rules for denominator degrees of freedom: residual, repeated, anova.

These three need no covariance parameters, only ranks of design matrices:

* ``residual``: every fixed effect gets n - rank(X).
* ``repeated`` (repeated-measures ANOVA; two-level models): the residual df
  are split into a between-group and a within-group part (Schluchter &
  Elashoff 1990, SAS's DDFM=BETWITHIN).  A fixed effect that is constant
  within every group, the constant included, gets the between df
  G - rank(X_between); any other gets the within df
  n - rank(X) - (G - rank(X_between)).
* ``anova`` (traditional ANOVA, "containment"): a fixed effect *contained* in a
  random-effects term -- it varies only as that term's effect variable times a
  group constant (a between-group variable for a random intercept, the
  variable itself for its random slope) -- gets the rank contribution of the
  outermost term containing it; an effect no term contains gets
  n - rank([X Z]).  Contributions are sequential, levels in the model's order
  (Stata writes them outermost first), each level's intercept before its
  slopes, so a nested design gets the classical nested-ANOVA counts (schools -
  rank of the between-school columns, classes - schools, ...) and a
  between-school effect is judged against the school term.  (SAS's
  DDFM=CONTAIN takes the smallest contribution instead, which for nested
  levels would judge the constant against classes.)
"""

from __future__ import annotations

import numpy as np

from ..errors import NotSupportedError


def _rank(m: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(m)) if m.size else 0


def residual_df(design) -> np.ndarray:
    """n - rank(X) for every fixed effect."""
    return np.full(design.p, float(design.n - _rank(design.X)))


def _constant_within(x: np.ndarray, codes: np.ndarray, z: np.ndarray | None = None) -> bool:
    """Whether x = z * (a group constant) on every row (z = 1: x constant within groups)."""
    z = np.ones_like(x) if z is None else z
    n_groups = int(codes.max()) + 1
    zz = np.bincount(codes, z * z, n_groups)
    zx = np.bincount(codes, z * x, n_groups)
    a = np.divide(zx, zz, out=np.zeros(n_groups), where=zz > 0)
    scale = max(float(np.max(np.abs(x))), 1.0)
    return bool(np.max(np.abs(x - a[codes] * z)) <= 1e-9 * scale)


def repeated_df(design) -> np.ndarray:
    """Between/within split of the residual df (two-level models only)."""
    if len(design.blocks) != 1:
        raise NotSupportedError(
            "dfmethod(repeated) is available only for two-level models "
            "(one random-effects equation)"
        )
    codes = design.blocks[0].codes
    between = np.array([_constant_within(design.X[:, j], codes) for j in range(design.p)])
    df_between = design.blocks[0].n_groups - _rank(design.X[:, between])
    df_within = design.n - _rank(design.X) - df_between
    return np.where(between, float(df_between), float(df_within))


def _terms(design) -> list[tuple[np.ndarray, np.ndarray]]:
    """(codes, effect values) of every random term: per level, intercept first."""
    terms = []
    for block in design.blocks:
        cols = sorted(range(block.k), key=lambda j: not np.allclose(block.Z[:, j], 1.0))
        terms += [(block.codes, block.Z[:, j]) for j in cols]
    return terms


def _indicator(codes: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = np.zeros((len(codes), int(codes.max()) + 1))
    out[np.arange(len(codes)), codes] = z
    return out


def anova_df(design) -> np.ndarray:
    """Containment df: the outermost containing term's sequential rank contribution."""
    terms = _terms(design)
    mats = [design.X]
    contrib = []
    rank_before = _rank(design.X)
    for codes, z in terms:
        mats.append(_indicator(codes, z))
        rank_now = _rank(np.hstack(mats))
        contrib.append(rank_now - rank_before)
        rank_before = rank_now
    df_resid = float(design.n - rank_before)
    out = np.full(design.p, df_resid)
    for j in range(design.p):
        x = design.X[:, j]
        inside = [
            c for (codes, z), c in zip(terms, contrib) if c > 0 and _constant_within(x, codes, z)
        ]
        if inside:
            out[j] = float(inside[0])
    return out


COUNTING_RULES = {"residual": residual_df, "repeated": repeated_df, "anova": anova_df}
