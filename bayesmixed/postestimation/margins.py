"""Stata's ``margins`` after ``mixed`` and ``me*``: predictive margins and marginal effects.

A margin is a prediction averaged over the estimation sample with some
variables *set*: every row's ``dose`` set to 1 (``margins dose``), ``size``
set to 5 (``at(size=5)``), or every covariate at its mean (``atmeans``, one
row instead of an average).  ``over(female)`` averages within each observed
group instead of over the whole sample; ``dydx(size)`` reports the average
derivative of the prediction in ``size`` (numerical, central differences of
the whole prediction, as Stata), and for a factor variable the discrete
change from its base level.  Counterfactual rows are coded by the same code
that codes new data for ``predict`` (:func:`.predict_rows.prediction_rows`),
so factor columns and interactions are never re-derived here.

Standard errors are the delta method, ``J V J'`` with ``J`` the Jacobian of
the margins in beta, which :mod:`.margins_predict` gives analytically for
each prediction (with a central difference in the variable for ``dydx``);
tests are z tests, as Stata's after ``mixed`` and ``me*``.  Estimation
weights (``[fw=]``, ``[pw=]``) weight the averages, as Stata's default.

Stata's ``margins`` reads the data in memory; a Python result does not keep
its data, so ``data`` (the frame the model was fitted on) is required and its
estimation-sample rows (``result.design.rows``) are used.  ``if`` and ``in``
(``margins dose if female == 1``) keep a subsample of those rows: averages,
``over()`` groups and the ``atmeans`` and ``at((mean) x)`` statistics are over
it, as Stata's; the factor levels stay those of the model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..lazy_import import stats
from ..maths import critical_value
from ..results.base import ResultKind
from ..results.format import fmt_g
from .margins_design import (
    column_means,
    estimation_frame,
    model_factors,
    model_variables,
    over_groups,
    statistic,
    subsample,
)
from .margins_predict import Prediction, choose_prediction, evaluate
from .margins_spec import AtItem, MarginsError, MarginsRequest, parse_margins
from .predict_rows import prediction_rows

VCE_LABELS = {"oim": "OIM", "robust": "Robust", "cluster": "Robust"}


@dataclass
class MarginRow:
    """What one row of the table is: its section, its label and the settings behind it.

    ``settings`` maps each variable set for this row to its value (``at()``
    values and margin-list levels), ``at_index`` is the 1-based ``_at`` scenario,
    ``over`` the over-group labels, ``dydx`` the effect (``size``, ``1.dose``) or "".
    """

    section: str
    label: str
    settings: dict = field(default_factory=dict)
    at_index: int = 1
    over: tuple = ()
    dydx: str = ""
    over_code: int | None = None
    levels: dict = field(default_factory=dict)  # margin-list factor -> level label


@dataclass
class Margins:
    """The result of ``margins``; ``str()`` prints Stata's table.

    ``table`` has margin, se, z, p, lower, upper (one row per :class:`MarginRow`);
    ``jacobian`` (k x p) and ``vcov`` (k x k, the delta method) let ``contrast``
    and ``pwcompare`` test differences of margins.
    """

    table: pd.DataFrame
    rows: list[MarginRow]
    jacobian: np.ndarray
    vcov: np.ndarray
    title: str
    expression: str
    at_legend: list[str]
    dydx: tuple[str, ...]
    nobs: int
    level: float
    notes: list[str] = field(default_factory=list)
    at_vars: tuple[str, ...] = ()
    marginlist: tuple[tuple[str, ...], ...] = ()
    over: tuple[str, ...] = ()
    vce: str = "OIM"  # Stata's "Model VCE:" line

    @property
    def margin(self) -> np.ndarray:
        return self.table["margin"].to_numpy()

    def __str__(self) -> str:
        from .margins_render import render_margins

        return render_margins(self)


# -- entry point ---------------------------------------------------------------------------
def margins(result, data: pd.DataFrame | None, spec: str | MarginsRequest = "") -> Margins:
    """Stata's ``margins`` (see the module notes); ``spec`` is the text after the command."""
    req = spec if isinstance(spec, MarginsRequest) else parse_margins(spec)
    pred = choose_prediction(result, req.predict)
    frame = estimation_frame(result, data)
    ctx = _Context(result, pred, frame, data, req)
    rows, values, jac = ctx.compute()
    return _assemble(result, req, pred, ctx, rows, values, jac)


# -- the computation -------------------------------------------------------------------------
class _Context:
    """The estimation sample, its factors and weights, and a cache of predictions."""

    def __init__(
        self,
        result,
        pred: Prediction,
        frame: pd.DataFrame,
        data: pd.DataFrame,
        req: MarginsRequest,
    ):
        self.result, self.pred, self.req = result, pred, req
        design = result.design
        w = np.ones(len(frame))
        if design.weights is not None:  # fweights: rows of the expanded data, fweight() too
            w = design.weights.total if design.weights.frequency else design.weights.obs
        self.factors = model_factors(result, frame)  # levels of the whole sample
        keep = np.ones(len(frame), bool)
        if req.if_ is not None or req.in_ is not None:
            keep = subsample(result, data, req.if_, req.in_)
        self.keep, self.frame, self.weights = keep, frame.loc[keep], np.asarray(w, float)[keep]
        self.nobs = result.nobs if keep.all() else _count(design, self.weights)
        self.over_codes, self.over_labels = over_groups(self.frame, req.over)
        self.cache: dict = {}

    # one prediction per (settings, shifts, group) -- values and Jacobian averaged
    def average(self, settings: dict, group: int | None, shift: tuple = ()) -> tuple:
        key = (tuple(sorted(settings.items())), group, shift)
        if key not in self.cache:
            self.cache[key] = self._average(settings, group, shift)
        return self.cache[key]

    def _average(self, settings: dict, group: int | None, shift: tuple) -> tuple:
        mask = np.ones(len(self.frame), bool) if group is None else self.over_codes == group
        frame = self.frame.loc[mask].copy()
        for var, value in settings.items():
            frame[var] = value
        if shift:
            frame[shift[0]] = frame[shift[0]].astype(float) + shift[1]
        w = self.weights[mask]
        glmm = self.result.kind is ResultKind.GLMM
        rows = prediction_rows(self.result, frame, glmm)
        if self.req.atmeans:
            X = column_means(self.result, frame, w)[None, :]
            Z = [np.average(z, axis=0, weights=w)[None, :] for z in rows.Z]
            offset = np.array([np.average(rows.offset, weights=w)])
            trials = rows.trials
            if isinstance(trials, np.ndarray):
                trials = np.array([np.average(trials, weights=w)])
            values, jac = evaluate(self.result, self.pred, X, Z, offset, trials)
            return float(values[0]), jac[0]
        values, jac = evaluate(self.result, self.pred, rows.X, rows.Z, rows.offset, rows.trials)
        total = w.sum()
        return float(w @ values / total), w @ jac / total

    def compute(self) -> tuple[list[MarginRow], list[float], list[np.ndarray]]:
        rows: list[MarginRow] = []
        values: list[float] = []
        jac: list[np.ndarray] = []
        for spec_row in self._layout():
            value, grad = self._estimate(spec_row)
            rows.append(spec_row)
            values.append(value)
            jac.append(grad)
        return rows, values, jac

    def _estimate(self, row: MarginRow) -> tuple[float, np.ndarray]:
        group = row.over_code
        if not row.dydx:
            return self.average(row.settings, group)
        var, level = _split_effect(row.dydx)
        if level is None:  # continuous: central difference of the averaged prediction
            h = self._step(var)
            up = self.average(row.settings, group, (var, h))
            down = self.average(row.settings, group, (var, -h))
            return (up[0] - down[0]) / (2 * h), (up[1] - down[1]) / (2 * h)
        factor = self.factors[var]
        base = factor.values[factor.base if factor.base is not None else 0]
        hi = self.average({**row.settings, var: self._value(var, level)}, group)
        lo = self.average({**row.settings, var: base}, group)
        return hi[0] - lo[0], hi[1] - lo[1]

    def _step(self, var: str) -> float:
        x = pd.to_numeric(self.frame[var], errors="coerce").to_numpy(float)
        return 1e-4 * (float(np.nanstd(x)) or 1.0)

    def _value(self, var: str, label: str):
        factor = self.factors[var]
        return factor.values[factor.labels.index(label)]

    # the rows of the table, in Stata's order
    def _layout(self) -> list[MarginRow]:
        scenarios = [self._resolve(s) for s in self.req.at_scenarios()]
        multi_at = len(scenarios) > 1
        terms = list(self.req.marginlist) or [()]
        effects = self._effects()
        out: list[MarginRow] = []
        for effect, term in itertools.product(effects, terms):
            section = _section(effect, term, multi_at, self.req.over)
            combos = itertools.product(enumerate(scenarios, 1), self._cells(term), self._groups())
            for (i, at), cell, (code, olabel) in combos:
                settings = {**at, **{v: self._value(v, lab) for v, lab in cell}}
                label = _label(i if multi_at else None, olabel, cell)
                out.append(MarginRow(section, label, settings, i, olabel, effect, code, dict(cell)))
        return out

    def _effects(self) -> list[str]:
        if not self.req.dydx:
            return [""]
        out: list[str] = []
        for var in self.req.dydx:
            if var not in self.frame.columns:
                raise MarginsError(f"dydx({var}): variable {var} not found")
            if var in self.factors:
                f = self.factors[var]
                base = f.base if f.base is not None else 0
                out += [f"{lab}.{var}" for j, lab in enumerate(f.labels) if j != base]
            elif var not in model_variables(self.result):
                raise MarginsError(f"dydx({var}): {var} is not in the model")
            else:
                out.append(var)
        return out

    def _cells(self, term: tuple[str, ...]) -> list[tuple]:
        for var in term:
            if var not in self.factors:
                raise MarginsError(
                    f"margins {var}: factor variables required ({var} must enter the model as "
                    f"i.{var}); for a continuous variable use at({var}=(...))"
                )
        levels = [[(v, lab) for lab in self.factors[v].labels] for v in term]
        return list(itertools.product(*levels))

    def _groups(self) -> list[tuple]:
        if not self.req.over:
            return [(None, ())]
        return [(i, lab) for i, lab in enumerate(self.over_labels)]

    def _resolve(self, items: tuple[AtItem, ...]) -> dict:
        out: dict = {}
        for item in items:
            names = list(model_variables(self.result)) if item.var == "_all" else [item.var]
            for var in names:
                if var not in self.frame.columns:
                    raise MarginsError(f"at(): variable {var} not found")
                if item.stat is not None and var in self.factors:
                    if item.var == "_all":
                        continue  # a factor keeps its observed levels (use atmeans for means)
                    raise MarginsError(
                        f"at(): ({item.stat}) {var}: {var} is a factor variable; set a level "
                        f"({var}=#) or use atmeans"
                    )
                if item.stat is None:
                    out[var] = item.values[0]
                elif item.stat != "asobserved":
                    out[var] = statistic(self.frame[var], item.stat, self.weights)
        return out


def _count(design, weights: np.ndarray) -> int:
    """Stata's "Number of obs" of a subsample: rows, or the sum of frequency weights."""
    fweights = design.weights is not None and design.weights.kind == "fweight"
    return int(round(weights.sum())) if fweights else len(weights)


def _split_effect(effect: str) -> tuple[str, str | None]:
    level, dot, var = effect.partition(".")
    return (var, level) if dot else (effect, None)


def _section(effect: str, term: tuple, multi_at: bool, over: tuple) -> str:
    dims = (["_at"] if multi_at else []) + list(over) + list(term)
    head = "#".join(dims)
    if effect:
        return effect if not head else f"{effect}|{head}"
    return head or "_cons"


def _label(at_index: int | None, over: tuple, cell: tuple) -> str:
    parts = ([str(at_index)] if at_index is not None else []) + list(over)
    parts += [lab for _, lab in cell]
    return " ".join(parts)


# -- the table -------------------------------------------------------------------------------
def _assemble(result, req, pred, ctx, rows, values, jac) -> Margins:
    J = np.array(jac).reshape(len(rows), -1)
    # a prediction that depends on the cutpoints has a column per (beta, working) parameter
    cov = result.vcov_beta if J.shape[1] == result.design.p else result.vcov_joint
    V = J @ np.asarray(cov, float) @ J.T
    table = inference_table(np.array(values), np.sqrt(np.clip(np.diag(V), 0, None)), req.level)
    table.index = pd.Index([f"{r.section}:{r.label}" for r in rows], name="margin")
    title = _title(req)
    means = _mean_lines(ctx) if req.atmeans else []
    legend = at_legend(req, [ctx._resolve(s) for s in req.at_scenarios()], means)
    notes = []
    if any(r.dydx and "." in r.dydx for r in rows):
        notes.append("Note: dy/dx for factor levels is the discrete change from the base level.")
    at_vars = tuple(dict.fromkeys(i.var for spec in req.at for i in spec if i.stat is None))
    return Margins(
        table, rows, J, V, title, pred.label, legend, req.dydx, ctx.nobs, req.level, notes,
        at_vars, req.marginlist, req.over, VCE_LABELS.get(result.vce, result.vce),
    )  # fmt: skip


def inference_table(est: np.ndarray, se: np.ndarray, level: float) -> pd.DataFrame:
    """margin, se, z, p, lower, upper with normal-theory intervals."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    crit = critical_value(level)
    return pd.DataFrame(
        {
            "margin": est,
            "se": se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "lower": est - crit * se,
            "upper": est + crit * se,
        }
    )


def _title(req: MarginsRequest) -> str:
    if req.dydx:
        return "Conditional marginal effects" if req.atmeans else "Average marginal effects"
    return "Adjusted predictions" if req.atmeans else "Predictive margins"


def at_legend(req: MarginsRequest, scenarios: list[dict], means: list[str]) -> list[str]:
    """Stata's ``at:`` lines: one block per scenario (``1._at: size = 5``), then the
    ``atmeans`` values of every other covariate (``size = 13.32919 (mean)``)."""
    if not req.at and not means:
        return []
    lines: list[str] = []
    multi = len(scenarios) > 1
    for i, at in enumerate(scenarios, 1):
        head = f"{i}._at: " if multi else "At: "
        items = [f"{var} = {fmt_g(value).strip()}" for var, value in at.items()] + means
        for j, text in enumerate(items or ["(as observed)"]):
            lines.append((head if j == 0 else " " * len(head)) + text)
    return lines


def _mean_lines(ctx: _Context) -> list[str]:
    """``var = mean (mean)`` for each covariate ``atmeans`` sets (factor levels: proportions)."""
    fixed = {v for spec in ctx.req.at for i in spec for v in [i.var]}
    fixed |= {v for term in ctx.req.marginlist for v in term}
    lines: list[str] = []
    for var in dict.fromkeys(model_variables(ctx.result)):
        if var in fixed:
            continue
        if var in ctx.factors:
            f = ctx.factors[var]
            codes = np.asarray(f.codes)[ctx.keep]
            for k, lab in enumerate(f.labels):
                share = float(np.average(codes == k, weights=ctx.weights))
                lines.append(f"{lab}.{var} = {fmt_g(share).strip()} (mean)")
        else:
            value = statistic(ctx.frame[var], "mean", ctx.weights)
            lines.append(f"{var} = {fmt_g(value).strip()} (mean)")
    return lines
