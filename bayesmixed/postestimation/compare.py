"""``bayesmixed.compare``: PSIS-LOO model comparison of Bayesian fits, beside ``lrtest``.

LOO is the Bayesian analogue of the likelihood-ratio test: each model is scored by its
expected log predictive density for held-out data (elpd), estimated from the posterior
draws by Pareto-smoothed importance sampling (arviz-stats).  Two units can be left out:

* ``by=None`` -- one observation at a time, from the pointwise log likelihood stored
  with the fit (conditional on the random effects: it asks how well the model predicts
  a new pupil in a school it has seen);
* ``by="school"`` -- one group at a time, from each group's *integrated* likelihood,
  log N(y_g | X_g beta, V_g) with V_g = sigma^2 I + Z_g Sigma Z_g' over the random
  effects of that level and of every level nested in it (how well the model predicts a
  new school).  Leaving one observation out while its own group effect stays in the
  model is easy and optimistic; leaving the whole group out is what a multilevel
  model's claims are about.  Effects of levels not nested in ``by`` (crossed factors, or
  levels above it) are conditioned on their draws, and the result says so.

The integrated density is computed per group and per draw by Woodbury's identity with
an m x m matrix (m = effects in the group), never an n_g x n_g one:
log|V| = n_g log sigma^2 + log|M| and r'V^-1 r = (r'r - c'c) / sigma^2, where
M = I + L'U'U L / sigma^2, U stacks the group's effect columns, L L' = Sigma
(block-diagonal) and c = chol(M)^-1 L'U'r / sigma.

Pareto k > 0.7 means the importance-sampling estimate for that unit is unreliable; a
warning names the model and the count.
"""

from __future__ import annotations

import textwrap
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EstimationError, SpecificationError
from ..maths import sqrt_psd
from ..results.base import ResultKind, kind_of
from .bayes_predict import posterior_draws

K_THRESHOLD = 0.7
LOG_2PI = float(np.log(2 * np.pi))


class ParetoKWarning(UserWarning):
    """PSIS-LOO estimates that rest on unreliable importance weights."""


@dataclass
class CompareResult:
    """Outcome of :func:`compare`; ``str()`` prints the LOO table and the LR tests.

    Attributes
    ----------
    table : one row per model (input order): ``rank``, ``elpd``, ``se``, ``p_loo``,
        ``elpd_diff`` and ``dse`` (difference from the best model and its SE),
        ``weight`` (stacking), ``n_high_k`` (Pareto k above the threshold),
        ``max_k``; with ML fits also ``ll``, ``df``, ``AIC``, ``BIC``.
    loo : model name -> arviz-stats ELPD object (pointwise ``elpd_i``, ``pareto_k``).
    by : the level left out one group at a time, or ``None`` (one observation).
    lrtests : (pair of names, LR test result or the reason there is none).
    notes : what was conditioned on, and similar remarks.
    """

    table: pd.DataFrame
    loo: dict
    by: str | None
    lrtests: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def preferred(self) -> str:
        """The model with the highest elpd."""
        return str(self.table["elpd"].idxmax())

    def preferred_lrtest(self, alpha: float = 0.05) -> str | None:
        """One pair: the larger model if the LR test rejects at ``alpha``, else the smaller."""
        if len(self.lrtests) != 1 or isinstance(self.lrtests[0][1], str):
            return None
        (small, big), test = self.lrtests[0][0], self.lrtests[0][1]
        chosen = test.full if test.p < alpha else test.nested
        return chosen if chosen in (small, big) else None

    def __str__(self) -> str:
        return format_compare(self)


def compare(
    *results,
    names: list[str] | None = None,
    by: str | None = None,
    ml=None,
    k_threshold: float = K_THRESHOLD,
) -> CompareResult:
    """Compare Bayesian fits by PSIS-LOO (and their ML twins by ``lrtest``).

    Parameters
    ----------
    results : two or more :class:`BayesResult` fits of the same response and sample.
    names : labels of the models (default ``model1``, ``model2``, ...).
    by : a grouping level: leave one group out, scoring each group by its integrated
        likelihood; ``None``: leave one observation out.
    ml : optional ML/REML fits of the same models, in the same order: their log
        likelihoods, AIC and BIC join the table and consecutive pairs get ``lrtest``.
    k_threshold : Pareto k above which an estimate is flagged (0.7, Vehtari et al.).
    """
    names = _names(results, names)
    _check_same_data(results, names)
    if ml is not None:
        _check_ml(results, ml, names)
    loo = {n: _loo(r, by) for n, r in zip(names, results)}
    notes = [] if by is None else _conditioned_notes(results, names, by)
    table = _loo_table(loo, names, k_threshold)
    _warn_high_k(table, k_threshold, by)
    lrtests: list = []
    if ml is not None:
        table, lrtests = _with_ml(table, results, ml, names)
    return CompareResult(table, loo, by, lrtests, notes)


# -- inputs ---------------------------------------------------------------------------------------
def _names(results, names) -> list[str]:
    if len(results) < 2:
        raise SpecificationError("compare needs at least two fitted models")
    for r in results:
        if kind_of(r) is not ResultKind.BAYES:
            raise SpecificationError(
                f"compare is for Bayesian fits (LOO needs posterior draws), got "
                f"{type(r).__name__}; pass ML fits as ml=(...) or use lrtest"
            )
    names = list(names) if names is not None else [f"model{i + 1}" for i in range(len(results))]
    if len(names) != len(results) or len(set(names)) != len(names):
        raise SpecificationError(f"compare: give {len(results)} distinct names, got {names}")
    return [str(n) for n in names]


def _check_same_data(results, names) -> None:
    units = [_pointwise_unit(r) for r in results]
    if len(set(units)) > 1:
        raise SpecificationError(
            "the pointwise log likelihoods are over different units ("
            + ", ".join(f"{n}: {u}" for n, u in zip(names, units))
            + "): a correlated residuals() structure scores each panel as a whole, so its "
            "elpd is comparable only with that of another such model"
        )
    y0 = np.asarray(results[0].design.y, float)
    for name, r in zip(names[1:], results[1:]):
        y = np.asarray(r.design.y, float)
        if y.shape != y0.shape or not np.allclose(y, y0, equal_nan=True):
            raise SpecificationError(
                f"{names[0]} and {name} were fitted to different observations "
                f"({len(y0)} vs {len(y)} rows, or different responses): their elpd values "
                "are not comparable"
            )


def _pointwise_unit(result) -> str:
    ll = result.idata["log_likelihood"].to_dataset()
    dims = [d for d in ll[next(iter(ll.data_vars))].dims if d not in ("chain", "draw")]
    return dims[0] if dims else "obs"


# -- LOO ------------------------------------------------------------------------------------------
def _loo(result, by: str | None):
    import arviz_stats
    import xarray as xr

    if by is None:
        tree = result.idata
    else:
        ll = group_loglik(result, by)
        tree = xr.DataTree.from_dict(
            {
                "posterior": result.posterior[["sigma"]]
                if "sigma" in result.posterior
                else result.posterior[["beta"]],
                "log_likelihood": xr.Dataset({ll.name: ll}),
            }
        )
    with warnings.catch_warnings():  # our own warning below names the model and threshold
        warnings.simplefilter("ignore", UserWarning)
        try:
            return arviz_stats.loo(tree, pointwise=True)
        except ValueError as err:  # e.g. too few draws for the Pareto fit
            raise EstimationError(f"PSIS-LOO failed: {err} (run more posterior draws)") from err


def _loo_table(loo: dict, names: list[str], k_threshold: float) -> pd.DataFrame:
    import arviz_stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cmp = arviz_stats.compare(dict(loo), round_to="none")
    rows = {}
    for name in names:
        k = np.asarray(loo[name].pareto_k).ravel()
        rows[name] = {
            "rank": int(cmp.loc[name, "rank"]),
            "elpd": float(loo[name].elpd),
            "se": float(loo[name].se),
            "p_loo": float(loo[name].p),
            "elpd_diff": float(cmp.loc[name, "elpd_diff"]),
            "dse": float(cmp.loc[name, "dse"]),
            "weight": float(cmp.loc[name, "weight"]),
            "n_high_k": int(np.sum(k > k_threshold)),
            "max_k": float(np.max(k)),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _warn_high_k(table: pd.DataFrame, k_threshold: float, by) -> None:
    unit = "observations" if by is None else f"{by} groups"
    for name, row in table.iterrows():
        if row["n_high_k"]:
            warnings.warn(
                f"{name}: {int(row['n_high_k'])} {unit} have Pareto k > {k_threshold} "
                f"(max {row['max_k']:.2f}); their LOO estimates are unreliable -- run more "
                "draws, or use K-fold cross-validation for this model",
                ParetoKWarning,
                stacklevel=3,
            )


# -- leave-one-group-out: integrated likelihood per group -----------------------------------------
def group_loglik(result, by: str):
    """Per draw and group of ``by``: the integrated log likelihood of the group's rows.

    Random effects of ``by`` and of levels nested in it are integrated out; others are
    held at their draws.  Returns a (chain, draw, ``by``) DataArray named like the response.
    """
    import xarray as xr

    design = result.design
    by_codes, labels = _by_codes(design, by)
    nested = [_is_nested(block.codes, by_codes) for block in design.blocks]
    d = posterior_draws(result)
    if d.sigma is None:
        raise SpecificationError(
            "leave-one-group-out LOO integrates the random effects of Gaussian models with "
            "iid errors; it is not available for this model (use by=None)"
        )
    roots = [sqrt_psd(cov) for cov in d.cov]
    fixed = _conditioned_part(design, d, nested)
    order = np.argsort(by_codes, kind="stable")
    bounds = np.searchsorted(by_codes[order], np.arange(len(labels) + 1))
    out = np.empty((d.n, len(labels)))
    for g in range(len(labels)):
        idx = order[bounds[g] : bounds[g + 1]]
        out[:, g] = _one_group(design, d, roots, nested, fixed, idx)
    post = result.posterior
    shape = (post.sizes["chain"], post.sizes["draw"], len(labels))
    return xr.DataArray(
        out.reshape(shape),
        dims=("chain", "draw", by),
        coords={by: [_label(v) for v in labels]},
        name=design.spec.response,
    )


def _by_codes(design, by: str):
    for block in design.blocks:
        if block.level == by and block.equation.factor is None:
            return block.codes, block.groups
    levels = [b.level for b in design.blocks if b.equation.factor is None]
    raise SpecificationError(
        f"by({by}): {by} is not a grouping level of {design.spec.command} "
        f"(levels: {', '.join(dict.fromkeys(levels))})"
    )


def _is_nested(codes: np.ndarray, by_codes: np.ndarray) -> bool:
    """Every group of ``codes`` lies within one group of ``by_codes``."""
    first = np.full(codes.max() + 1, -1)
    first[codes[::-1]] = by_codes[::-1]
    return bool(np.all(first[codes] == by_codes))


def _label(value) -> str:
    return "/".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _conditioned_part(design, d, nested) -> np.ndarray | None:
    """(S, n) sum of z'b over the blocks that are held at their draws, or None."""
    total = None
    for block, b, inside in zip(design.blocks, d.b, nested):
        if inside:
            continue
        part = np.einsum("snk,nk->sn", b[:, block.codes], block.Z)
        total = part if total is None else total + part
    return total


def _one_group(design, d, roots, nested, fixed, idx: np.ndarray) -> np.ndarray:
    """log N(y_g | mu_g, sigma^2 I + U Sigma U') for every draw, by Woodbury (m x m)."""
    resid = design.y[idx][None, :] - d.beta @ design.X[idx].T
    if fixed is not None:
        resid = resid - fixed[:, idx]
    u_cols, lam_parts = [], []
    for block, root, inside in zip(design.blocks, roots, nested):
        if not inside:
            continue
        codes = block.codes[idx]
        for grp in np.unique(codes):
            u_cols.append(np.where((codes == grp)[:, None], block.Z[idx], 0.0))
            lam_parts.append(root)
    s2 = d.sigma**2
    n_g = len(idx)
    rr = np.einsum("sn,sn->s", resid, resid)
    base = n_g * (LOG_2PI + np.log(s2))
    if not u_cols:
        return -0.5 * (base + rr / s2)
    u = np.concatenate(u_cols, axis=1)
    lam = _block_diag(lam_parts)
    m = u.shape[1]
    mat = np.eye(m) + np.einsum("sji,jk,skl->sil", lam, u.T @ u, lam) / s2[:, None, None]
    chol = np.linalg.cholesky(mat)
    v = np.einsum("sji,sj->si", lam, resid @ u) / d.sigma[:, None]
    c = np.linalg.solve(chol, v[..., None])[..., 0]
    logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    return -0.5 * (base + logdet + (rr - np.einsum("si,si->s", c, c)) / s2)


def _block_diag(parts: list[np.ndarray]) -> np.ndarray:
    """(S, m, m) block-diagonal matrix of (S, k, k) parts."""
    m = sum(p.shape[1] for p in parts)
    out = np.zeros((parts[0].shape[0], m, m))
    off = 0
    for p in parts:
        k = p.shape[1]
        out[:, off : off + k, off : off + k] = p
        off += k
    return out


def _conditioned_notes(results, names, by: str) -> list[str]:
    notes = []
    for name, r in zip(names, results):
        codes, _ = _by_codes(r.design, by)
        held = [b.key for b in r.design.blocks if not _is_nested(b.codes, codes)]
        if held:
            notes.append(
                f"{name}: random effects of {', '.join(held)} are not nested in {by}; the "
                "group likelihood conditions on their posterior draws"
            )
    return notes


# -- ML side --------------------------------------------------------------------------------------
def _check_ml(results, ml, names) -> None:
    ml = list(ml)
    if len(ml) != len(results):
        raise SpecificationError(f"ml: give one ML fit per Bayesian fit ({len(results)})")
    for name, m, r in zip(names, ml, results):
        kind = kind_of(m)
        if kind is None or not kind.likelihood or m.nobs != r.nobs:
            raise SpecificationError(
                f"ml fit for {name} is not an ML fit of the same {r.nobs} observations"
            )


def _with_ml(table: pd.DataFrame, results, ml, names: list[str]):
    from .lrtest import LRTestError, lrtest

    ml = list(ml)
    table = table.copy()
    table["ll"] = [float(m.loglik) for m in ml]
    table["df"] = [int(m.df_model) for m in ml]
    table["AIC"] = [float(m.aic) for m in ml]
    table["BIC"] = [float(m.bic) for m in ml]
    tests = []
    for i in range(len(ml) - 1):
        pair = (names[i], names[i + 1])
        try:
            tests.append((pair, lrtest(ml[i], ml[i + 1], names=pair)))
        except LRTestError as err:
            tests.append((pair, f"no likelihood-ratio test: {err}"))
    return table, tests


# -- printing -------------------------------------------------------------------------------------
def format_compare(res: CompareResult) -> str:
    """The LOO table (with the ML columns when given), then each LR test."""
    unit = "observation" if res.by is None else f"{res.by} group (integrated likelihood)"
    lines = [f"Model comparison: PSIS-LOO, leaving out one {unit} at a time", ""]
    t = res.table
    head = f"{'':>12} {'elpd':>10} {'se':>8} {'p_loo':>8} {'elpd_diff':>10} {'dse':>8} {'k>0.7':>6}"
    has_ml = "ll" in t.columns
    if has_ml:
        head += f" | {'ll(ML)':>10} {'df':>3} {'AIC':>10} {'BIC':>10}"
    lines += [head, "-" * len(head)]
    for name, row in t.iterrows():
        line = (
            f"{str(name)[:12]:>12} {row['elpd']:10.2f} {row['se']:8.2f} {row['p_loo']:8.2f} "
            f"{row['elpd_diff']:10.2f} {row['dse']:8.2f} {int(row['n_high_k']):6d}"
        )
        if has_ml:
            line += (
                f" | {row['ll']:10.2f} {int(row['df']):3d} {row['AIC']:10.2f} {row['BIC']:10.2f}"
            )
        lines.append(line)
    lines += ["-" * len(head), f"Preferred by LOO: {res.preferred}"]
    for (a, b), test in res.lrtests:
        lines += ["", f"lrtest {a} {b} (ML fits)"]
        lines += textwrap.wrap(test, 77) if isinstance(test, str) else str(test).splitlines()
    if res.lrtests and res.preferred_lrtest() is not None:
        lines.append(f"Preferred by lrtest (5% level): {res.preferred_lrtest()}")
    for note in res.notes:
        lines += [""] + textwrap.wrap("Note: " + note, 77, subsequent_indent=" " * 6)
    return "\n".join(lines)
