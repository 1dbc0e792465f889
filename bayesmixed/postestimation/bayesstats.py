"""``bayesstats summary | ess | grubin | ic`` after a Bayesian fit, in Stata's words.

Parameters are named as Stata's ``bayes: mixed`` names them
(:mod:`bayesmixed.design.bayes_names`: ``{math5:math3}``, ``{U0:sigma2}``,
``{U:Sigma_2_1}``, ``{e.math5:sigma2}``); an item is one such name, ``{math5:}`` (every
coefficient), or an expression of them in parentheses, optionally labelled:
``(diff: {math5:math3} - {math5:_cons})``.  An expression is evaluated draw by draw
(Stata's expression grammar and functions: ``exp()``, ``sqrt()`` ...), so its summary
is that of the draws of the expression, as in Stata.

Differences from Stata, said here once: ``grubin`` prints ArviZ's rank-normalised
split R-hat (Vehtari et al. 2021), stricter than Stata's original Gelman-Rubin Rc; ESS
is ArviZ's bulk ESS.  ``ic`` prints Stata's DIC and, beside it, WAIC and PSIS-LOO on the
same deviance scale (-2 elpd), all from the log likelihood conditional on the random
effects (Stata's DIC for ``bayes: mixed`` conditions on them too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from ..design.bayes_names import canonical_names, parameter_draws, prior_names
from ..engines.bayes_estimates import diagnose
from ..errors import BayesmixedError
from ..spec.options import DEFAULT_LEVEL
from ..syntax.expr import eval_node
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream
from .bayes_effects import effect_draws, expand_effects, is_effect_reference

_ITEM = re.compile(r"\s*(\{[^}]*\}|\()")
_LABEL = re.compile(r"\s*([A-Za-z_]\w*)\s*:(?![^{]*\})")


@dataclass(frozen=True)
class Item:
    """One summarised quantity: its label, its equation (``""`` for expressions), its text."""

    equation: str
    label: str
    text: str
    draws: np.ndarray  # (chain, draw)
    is_expression: bool = False  # an expression in parentheses (listed above the table)

    @property
    def expression(self) -> bool:
        return self.is_expression


def items(result, spec: str | list[str] | None = None) -> list[Item]:
    """The quantities ``spec`` names (all parameters when empty), as (chain, draw) draws."""
    table = parameter_draws(result)
    table.update(_aliases(result.design, table))
    texts = _split_items(spec) if isinstance(spec, str) else list(spec or [])
    if not texts:
        return [_param_item(name, table[name]) for name in parameter_draws(result)]
    if any("[" in t for t in texts) or any(is_effect_reference(t) for t in texts):
        table.update(effect_draws(result))  # {U0[3.school]}: only when asked (q of them)
    out: list[Item] = []
    for i, text in enumerate(texts, start=1):
        text = text.strip()
        if text.startswith("("):
            out.append(_expression_item(text, table, f"expr{i}"))
        elif is_effect_reference(text):
            out += [_param_item(n, table[n]) for n in expand_effects(result, text)]
        else:
            out += [_param_item(n, table[n]) for n in _names(text, table)]
    return out


def _aliases(design, table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{var_U0}`` and a shared level's ``{U0:sigma2}``: the draws of the name they alias.

    A bare ``{U0}`` is not an alias here: in Stata's ``bayesstats`` it names the random
    effects themselves (:mod:`.bayes_effects`).
    """
    shown = canonical_names(design)
    out = {}
    for name, target in prior_names(design).items():
        canonical = shown.get(target.engine)
        if (":" in name or name.startswith("var_")) and canonical in table:
            out.setdefault(f"{{{name}}}", table[canonical])
    return {k: v for k, v in out.items() if k not in table}


def _split_items(spec: str) -> list[str]:
    """``{a} (d: {a}-{b}) {c}`` -> ``["{a}", "(d: {a}-{b})", "{c}"]`` (balanced parentheses)."""
    out, pos = [], 0
    while pos < len(spec.rstrip()):
        match = _ITEM.match(spec, pos)
        if match is None:
            raise BayesmixedError(
                f"cannot read '{spec[pos:].strip()}': name parameters in braces ({{math5:math3}}) "
                "or write an expression in parentheses (({math5:math3} - {math5:_cons}))"
            )
        start = match.start(1)
        if match.group(1) != "(":
            out.append(match.group(1))
            pos = match.end()
            continue
        depth, end = 0, start
        for end in range(start, len(spec)):
            depth += {"(": 1, ")": -1}.get(spec[end], 0)
            if depth == 0:
                break
        if depth:
            raise BayesmixedError(f"unbalanced parentheses in '{spec[start:]}'")
        out.append(spec[start : end + 1])
        pos = end + 1
    return out


def _names(ref: str, table: dict[str, np.ndarray]) -> list[str]:
    body = ref.strip()[1:-1].replace(" ", "")
    if body.endswith(":"):  # {math5:} -> every parameter of that equation
        found = [n for n in table if n.startswith("{" + body)]
    else:
        found = [ref.replace(" ", "")] if ref.replace(" ", "") in table else []
    if not found:
        raise BayesmixedError(f"no parameter {ref} in this model; it has {', '.join(table)}")
    return found


def _param_item(name: str, draws: np.ndarray) -> Item:
    if is_effect_reference(name):  # {U0[3.school]}: printed whole, as a one-word name
        return Item("", name[1:-1], name, draws)
    eq, _, label = name[1:-1].rpartition(":")
    return Item(eq, label, name, draws)


def _expression_item(text: str, table: dict[str, np.ndarray], default: str) -> Item:
    body = text[1:-1]
    label_match = _LABEL.match(body)
    label = default
    if label_match:
        label, body = label_match.group(1), body[label_match.end() :]
    return Item("", label, body.strip(), evaluate(body, table), True)


def evaluate(expression: str, table: dict[str, np.ndarray]) -> np.ndarray:
    """An expression of ``{...}`` parameters, draw by draw: (chain, draw)."""
    columns: dict[str, np.ndarray] = {}

    def placeholder(match: re.Match) -> str:
        name = match.group(0).replace(" ", "")
        if name not in table:
            raise BayesmixedError(f"no parameter {name} in this model; it has {', '.join(table)}")
        key = f"_bp{list(table).index(name)}_"
        columns[key] = table[name]
        return f" {key} "  # spaced: the lexer reads "x*" as a wildcard

    text = re.sub(r"\{[^}]*\}", placeholder, expression)
    if not columns:
        raise BayesmixedError(f"the expression '{expression}' names no parameter in braces")
    shape = next(iter(columns.values())).shape
    stream = TokenStream(text)
    node = parse_if(stream)
    if not stream.at("EOF"):
        stream.fail("unexpected text after the expression")
    frame = pd.DataFrame({k: v.ravel() for k, v in columns.items()})
    value = np.asarray(eval_node(node.root, frame), dtype=float)
    return np.broadcast_to(value, frame.shape[:1]).reshape(shape)


# -- bayesstats summary --------------------------------------------------------------------
@dataclass
class PosteriorSummary:
    """``bayesstats summary``: one row per item (Stata's columns, then R-hat and ESS).

    The interval columns are ``eti_lo``/``eti_hi`` (equal-tailed), or ``hpd_lo``/
    ``hpd_hi`` with ``hpd``.  ``title`` and ``notes`` (lines above the table) let
    ``margins``, ``lincom`` and ``estat`` after ``bayes:`` print in the same layout.
    """

    table: pd.DataFrame
    expressions: list[tuple[str, str]] = field(default_factory=list)
    sample_size: int = 0
    level: float = DEFAULT_LEVEL
    hpd: bool = False
    title: str = "Posterior summary statistics"
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        from ..results.render_bayes import table_lines

        lines = [f"{self.title:<50}{_size(self.sample_size)}", ""]
        lines += self.notes + ([""] if self.notes else [])
        lines += [f"{label:>12} : {text}" for label, text in self.expressions]
        lines += [""] if self.expressions else []
        return "\n".join(lines + table_lines(self.table, self.level, self.hpd)) + "\n"


def _size(n: int) -> str:
    return f"MCMC sample size = {n:>10,}"


def summary(result, spec=None, level: float = DEFAULT_LEVEL, hpd: bool = False) -> PosteriorSummary:
    """Posterior mean, SD, MCSE, median and equal-tailed (or HPD) interval of each item."""
    return summarize(items(result, spec), level, hpd)


def summarize(chosen: list[Item], level: float = DEFAULT_LEVEL, hpd: bool = False,
              **shown) -> PosteriorSummary:  # fmt: skip
    """The summary of any (chain, draw) draws: the one place Stata's columns are computed.

    ``shown`` (``title``, ``notes``) passes to :class:`PosteriorSummary`; ``margins``,
    ``lincom`` and ``estat`` after ``bayes:`` summarise their per-draw values here.
    """
    level = float(level)
    if not 10 <= level <= 99.99:
        raise BayesmixedError(f"level({level:g}) must be between 10 and 99.99")
    tail = (100 - level) / 2
    lo_key, hi_key = ("hpd_lo", "hpd_hi") if hpd else ("eti_lo", "eti_hi")
    rows = {}
    for item in chosen:
        flat, diag = item.draws.ravel(), diagnose(item.draws)
        lo, med, hi = np.percentile(flat, [tail, 50, 100 - tail])
        if hpd:
            lo, hi = hpd_interval(flat, level)
        rows[(item.equation, item.label)] = {
            "mean": flat.mean(), "sd": flat.std(ddof=1), "mcse": diag["mcse"], "median": med,
            lo_key: lo, hi_key: hi, "r_hat": diag["r_hat"], "ess_bulk": diag["ess_bulk"],
        }  # fmt: skip
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["equation", "parameter"])
    exprs = [(i.label, i.text) for i in chosen if i.expression]
    return PosteriorSummary(frame, exprs, _n(chosen), level, hpd, **shown)


def hpd_interval(draws: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The shortest interval holding ``level`` percent of the draws (Chen and Shao 1999).

    Stata's ``hpd``: among the intervals [x_(i), x_(i+m)] of the sorted draws, with
    m = ceil(level/100 * N) - 1, the shortest (the first of equal ones).
    """
    x = np.sort(np.asarray(draws, float).ravel())
    m = max(int(np.ceil(level / 100 * len(x))) - 1, 0)
    widths = x[m:] - x[: len(x) - m]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + m])


def _n(chosen: list[Item]) -> int:
    return int(chosen[0].draws.size) if chosen else 0


# -- bayesstats ess and grubin -------------------------------------------------------------
@dataclass
class Diagnostics:
    """``bayesstats ess`` (ESS, correlation time, efficiency) or ``grubin`` (R-hat)."""

    table: pd.DataFrame
    kind: str  # "ess" or "grubin"
    sample_size: int
    chains: int

    def __str__(self) -> str:
        t = self.table
        if self.kind == "ess":
            eff = t["efficiency"]
            head = [
                f"{'Efficiency summaries':<50}{_size(self.sample_size)}",
                f"{'':<50}{'Efficiency:  min':>16} = {eff.min():>10.4g}",
                f"{'':<50}{'avg':>16} = {eff.mean():>10.4g}",
                f"{'':<50}{'max':>16} = {eff.max():>10.4g}",
            ]
            cols = [("ESS", "ess", "{:>12.2f}"), ("Corr. time", "corr_time", "{:>12.2f}"),
                    ("Efficiency", "efficiency", "{:>12.4f}")]  # fmt: skip
        else:
            head = [
                "Gelman-Rubin convergence diagnostic (rank-normalised split R-hat)",
                "",
                f"Number of chains     = {self.chains:>10}",
                f"MCMC size, per chain = {self.sample_size // max(self.chains, 1):>10,}",
                f"Max Gelman-Rubin Rc  = {t['rc'].max():>10.6g}",
            ]
            cols = [("Rc", "rc", "{:>12.6g}")]
        return "\n".join(head + [""] + _columns(t, cols)) + "\n"


def _columns(table: pd.DataFrame, cols) -> list[str]:
    stub = min(max([12] + [len(p) for _, p in table.index]), 28)
    width = stub + 2 + 13 * len(cols)
    lines = ["-" * width, f"{'':<{stub}} |" + "".join(f"{h:>13}" for h, _, _ in cols)]
    current = None
    for (eq, par), row in table.iterrows():
        if eq != current:
            lines += ["-" * stub + "-+" + "-" * (width - stub - 2)]
            lines += [f"{eq[:stub]:<{stub}} |"] if eq else []
            current = eq
        cells = "".join(" " + fmt.format(row[key]) for _, key, fmt in cols)
        lines.append(f"{par[-stub:]:>{stub}} |{cells}")
    return lines + ["-" * width]


def ess(result, spec=None) -> Diagnostics:
    """Effective sample size, correlation time (N / ESS) and efficiency (ESS / N)."""
    chosen = items(result, spec)
    n = _n(chosen)
    rows = {}
    for item in chosen:
        value = diagnose(item.draws)["ess_bulk"]
        rows[(item.equation, item.label)] = {
            "ess": value, "corr_time": n / value, "efficiency": value / n,
        }  # fmt: skip
    return Diagnostics(_frame(rows), "ess", n, _chains(chosen))


def grubin(result, spec=None) -> Diagnostics:
    """R-hat of each item (needs two or more chains, as Stata's ``grubin`` does)."""
    chosen = items(result, spec)
    if _chains(chosen) < 2:
        raise BayesmixedError("bayesstats grubin needs two or more chains: refit with nchains(2)")
    rows = {(i.equation, i.label): {"rc": diagnose(i.draws)["r_hat"]} for i in chosen}
    return Diagnostics(_frame(rows), "grubin", _n(chosen), _chains(chosen))


def _chains(chosen: list[Item]) -> int:
    return int(chosen[0].draws.shape[0]) if chosen else 0


def _frame(rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["equation", "parameter"])
    return frame


# -- bayesstats ic -------------------------------------------------------------------------
@dataclass
class InformationCriteria:
    """``bayesstats ic``: DIC (Stata's) and WAIC and PSIS-LOO (ArviZ) per model."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        stub = max([12] + [len(str(n)) for n in self.table.index])
        cols = ["DIC", "WAIC", "LOOIC"]
        width = stub + 2 + 12 * len(cols)
        lines = ["Deviance information criterion", "", "-" * width]
        lines.append(f"{'':<{stub}} |" + "".join(f"{c:>12}" for c in cols))
        lines.append("-" * stub + "-+" + "-" * (width - stub - 2))
        for name, row in self.table.iterrows():
            cells = "".join(f"{row[c.lower()]:>12.3f}" for c in cols)
            lines.append(f"{str(name):>{stub}} |{cells}")
        lines.append("-" * width)
        return "\n".join(lines + self.notes) + "\n"


def ic(results, names: list[str] | None = None) -> InformationCriteria:
    """DIC = D(theta-bar) + 2 pD, WAIC and LOOIC (= -2 elpd) of one or several fits."""
    results = results if isinstance(results, list | tuple) else [results]
    if names is None:
        count = len(results)
        names = ["active"] if count == 1 else [f"model{i}" for i in range(1, count + 1)]
    rows, notes = {}, []
    for name, result in zip(names, results, strict=True):
        pointwise = _pointwise(result)
        dic, plug_in = _dic(result, pointwise)
        if not plug_in:
            notes.append(f"Note: {name}: DIC with pD = var(D)/2 (no plug-in deviance here).")
        rows[name] = {"dic": dic, "waic": _waic(pointwise), "looic": _looic(result)}
    return InformationCriteria(pd.DataFrame.from_dict(rows, orient="index"), notes)


def _pointwise(result) -> np.ndarray:
    """(chain, draw, obs) log likelihood conditional on the random effects."""
    if "log_likelihood" not in result.idata.children:
        raise BayesmixedError("this fit stored no pointwise log likelihood: bayesstats ic needs it")
    group = result.idata["log_likelihood"]
    return np.concatenate([group[v].values for v in group.data_vars], axis=-1)


def _dic(result, pointwise: np.ndarray) -> tuple[float, bool]:
    deviance = -2.0 * pointwise.sum(axis=-1).ravel()
    at_mean = _deviance_at_mean(result)
    if at_mean is None:
        return float(deviance.mean() + deviance.var(ddof=1) / 2), False
    return float(2 * deviance.mean() - at_mean), True


def _deviance_at_mean(result) -> float | None:
    """D at the posterior means of beta, u and sigma^2 (Gaussian, independent residuals)."""
    d, post = result.design, result.posterior
    gaussian_iid = "sigma" in post and "sigma_e" not in post and "residual" not in post
    blocks = [f"b[{n}]" for n in result.block_names]
    if not gaussian_iid or any(b not in post for b in blocks):
        return None
    mu = d.X @ post["beta"].values.reshape(-1, d.p).mean(axis=0)
    for name, block in zip(blocks, d.blocks):
        u = post[name].values.mean(axis=(0, 1)).reshape(len(block.groups), block.k)
        mu = mu + np.sum(block.Z * u[block.codes], axis=1)
    var = float((post["sigma"].values ** 2).mean())
    resid = d.y - mu
    return float(d.n * np.log(2 * np.pi * var) + resid @ resid / var)


def _waic(pointwise: np.ndarray) -> float:
    flat = pointwise.reshape(-1, pointwise.shape[-1])
    lppd = logsumexp(flat, axis=0) - np.log(flat.shape[0])
    return float(-2 * (lppd.sum() - flat.var(axis=0, ddof=1).sum()))


def _looic(result) -> float:
    import warnings

    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto-k warnings: the LOO object keeps them
        return float(-2 * az.loo(result.idata).elpd)
