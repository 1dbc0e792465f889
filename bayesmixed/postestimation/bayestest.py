"""``bayestest interval``: the posterior probability that parameters lie in intervals.

``bayestest interval {math5:math3}, lower(0.5) upper(1)`` is the share of draws with
``0.5 < {math5:math3} < 1``; several specifications ``({a}, lower(0)) ({b}, upper(2))``
give one probability each, and ``joint`` one probability that all hold at once.  Each
is the mean of an indicator over the draws, reported as Stata does with its standard
deviation ``sqrt(p (1 - p))`` and its MCSE (from the indicator's effective sample size).
Bounds are strict, as Stata's: ``lower(a)`` means ``a < theta``; ``inclusive`` makes
them ``<=``.  Parameters and expressions are written as for ``bayesstats summary``
(:mod:`.bayesstats`).

``bayestest model name1 name2 [, prior(p1 p2)]`` gives each model's log marginal
likelihood (:mod:`.marginal_likelihood`), its prior probability (equal by default) and
its posterior probability P(M|y) = ML P(M) / sum(ML P(M)), in Stata's table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..engines.bayes_estimates import diagnose
from ..errors import BayesmixedError
from .bayesstats import items

_BOUND = re.compile(r"\b(lower|upper)\(\s*([^)]*?)\s*\)")


@dataclass(frozen=True)
class IntervalSpec:
    """One interval: the quantity's text (``{a}`` or ``(expr)``) and its bounds."""

    target: str
    lower: float = -np.inf
    upper: float = np.inf

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise BayesmixedError(f"bayestest interval: lower() must be below upper() ({self})")

    def describe(self, label: str) -> str:
        lo = "" if np.isinf(self.lower) else f"{self.lower:g} < "
        hi = "" if np.isinf(self.upper) else f" < {self.upper:g}"
        return f"{lo}{label}{hi}"


@dataclass
class IntervalTest:
    """Probabilities of the intervals (one row each, or one joint row)."""

    rows: list[tuple[str, str, float, float, float]]  # label, condition, mean, sd, mcse
    sample_size: int

    @property
    def probabilities(self) -> list[float]:
        return [r[2] for r in self.rows]

    def __str__(self) -> str:
        lines = [f"{'Interval tests':<50}MCMC sample size = {self.sample_size:>10,}", ""]
        lines += [f"{label:>12} : {cond}" for label, cond, *_ in self.rows]
        rule = "-" * 48
        lines += ["", rule, f"{'':<12} | {'Mean':>10} {'Std. dev.':>10} {'MCSE':>10}"]
        lines.append("-" * 13 + "+" + "-" * 34)
        for label, _, mean, sd, mcse in self.rows:
            lines.append(f"{label:>12} | {mean:>10.5g} {sd:>10.5g} {mcse:>10.5g}")
        return "\n".join(lines + [rule]) + "\n"


def interval(result, specs: list[IntervalSpec], joint: bool = False,
             inclusive: bool = False) -> IntervalTest:  # fmt: skip
    """Posterior probabilities that each quantity (or all jointly) lie in their intervals."""
    if not specs:
        raise BayesmixedError("bayestest interval: name a parameter and its lower()/upper()")
    flags, conds = [], []
    for spec in specs:
        chosen = items(result, [spec.target])
        if len(chosen) != 1:
            raise BayesmixedError(f"bayestest interval: {spec.target} is not one parameter")
        draws = chosen[0].draws
        label = spec.target if not chosen[0].expression else f"({chosen[0].text})"
        if inclusive:
            flags.append((draws >= spec.lower) & (draws <= spec.upper))
        else:
            flags.append((draws > spec.lower) & (draws < spec.upper))
        conds.append(spec.describe(label))
    if joint:
        flags, conds = [np.logical_and.reduce(flags)], [", ".join(conds)]
    rows = [(f"prob{i}", c, *_indicator(f)) for i, (c, f) in enumerate(zip(conds, flags), 1)]
    return IntervalTest(rows, int(flags[0].size))


def _indicator(flag: np.ndarray) -> tuple[float, float, float]:
    values = flag.astype(float)
    p = float(values.mean())
    sd = float(np.sqrt(p * (1 - p)))
    mcse = 0.0 if sd == 0 else float(diagnose(values)["mcse"])
    return p, sd, mcse


def parse_interval(text: str) -> tuple[list[IntervalSpec], bool, bool]:
    """``{a}, lower(0) upper(1)`` or ``({a}, lower(0)) ({b}, upper(2)), joint`` -> specs."""
    body = text.strip()
    groups, rest = _groups(body) if body.startswith("(") else ([], body)
    if groups and _BOUND.search(groups[0]):  # ({a}, lower(0)) ({b}, upper(1)) [, joint]
        specs = [_one(g) for g in groups]
    else:
        target, _, rest = body.partition(",")
        bounds, rest = _bounds(rest)
        specs = [IntervalSpec(target.strip(), *bounds)]
    words = rest.replace(",", " ").split()
    unknown = [w for w in words if w not in ("joint", "inclusive")]
    if unknown:
        raise BayesmixedError(f"bayestest interval: option(s) not allowed: {', '.join(unknown)}")
    return specs, "joint" in words, "inclusive" in words


def _groups(body: str) -> tuple[list[str], str]:
    groups, depth, start = [], 0, None
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
            start = i if depth == 1 else start
        elif ch == ")":
            depth -= 1
            if depth == 0:
                groups.append(body[start + 1 : i])
        elif depth == 0 and ch == ",":
            return groups, body[i:]
    return groups, ""


def _one(group: str) -> IntervalSpec:
    depth = 0
    for i, ch in enumerate(group):  # the comma outside any parentheses ends the target
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            bounds, rest = _bounds(group[i + 1 :])
            if rest.strip():
                raise BayesmixedError(f"bayestest interval: cannot read '{rest.strip()}'")
            return IntervalSpec(group[:i].strip(), *bounds)
    raise BayesmixedError(f"bayestest interval: give lower() or upper() for {group.strip()}")


def _bounds(text: str) -> tuple[tuple[float, float], str]:
    lower, upper = -np.inf, np.inf
    for kind, value in _BOUND.findall(text):
        try:
            number = float(value)
        except ValueError:
            raise BayesmixedError(f"bayestest interval: {kind}() takes a number") from None
        lower, upper = (number, upper) if kind == "lower" else (lower, number)
    rest = _BOUND.sub("", text)
    if np.isinf(lower) and np.isinf(upper):
        raise BayesmixedError("bayestest interval: give lower() or upper() (or both)")
    return (lower, upper), rest


# -- bayestest model -------------------------------------------------------------------
@dataclass
class ModelTest:
    """Posterior model probabilities: one row per model, and each log ML's Monte Carlo SE."""

    names: list[str]
    log_ml: np.ndarray
    mcse: np.ndarray
    prior: np.ndarray
    posterior: np.ndarray
    methods: list[str]

    def __str__(self) -> str:
        width = max(9, *(len(n) for n in self.names))
        rule = "-" * (width + 33)
        lines = ["Bayesian model tests", "", rule]
        lines.append(f"{'':>{width}} | {'log(ML)':>10} {'P(M)':>8} {'P(M|y)':>9}")
        lines.append("-" * (width + 1) + "+" + "-" * 31)
        for row in zip(self.names, self.log_ml, self.prior, self.posterior):
            lines.append(f"{row[0]:>{width}} | {row[1]:>10.4f} {row[2]:>8.4f} {row[3]:>9.4f}")
        lines.append(rule)
        how = " and ".join(sorted(set(self.methods)))
        lines.append(f"Note: Marginal likelihood (ML) is computed using {how}.")
        errors = ", ".join(f"{n} {e:.2g}" for n, e in zip(self.names, self.mcse))
        lines.append(f"      Monte Carlo SE of log(ML): {errors}.")
        return "\n".join(lines) + "\n"


def model(results: list, names: list[str], prior: list[float] | None = None,
          seed: int | None = 0) -> ModelTest:  # fmt: skip
    """Posterior probabilities of Bayesian fits of the same data, from their marginal
    likelihoods; ``prior`` defaults to equal probabilities and must sum to 1 (Stata's rule).
    """
    from .marginal_likelihood import log_marginal_likelihood

    if len(results) != len(names) or not results:
        raise BayesmixedError("bayestest model: give one name per model")
    probs = np.full(len(results), 1.0 / len(results)) if prior is None else np.asarray(prior)
    if len(probs) != len(results) or np.any(probs <= 0) or abs(probs.sum() - 1) > 1e-6:
        raise BayesmixedError(
            f"bayestest model: prior() needs {len(results)} positive probabilities summing to 1"
        )
    _same_data(results, names)
    estimates = [log_marginal_likelihood(r, seed) for r in results]
    log_ml = np.array([e.logml for e in estimates])
    log_post = log_ml + np.log(probs)
    post = np.exp(log_post - np.logaddexp.reduce(log_post))
    methods = ["importance sampling" if r.method == "laplace" else "bridge sampling"
               for r in results]  # fmt: skip
    return ModelTest(list(names), log_ml, np.array([e.mcse for e in estimates]), probs,
                     post, methods)  # fmt: skip


def _same_data(results: list, names: list[str]) -> None:
    """Marginal likelihoods compare models only of the same outcome on the same rows."""
    first = results[0].design
    for result, name in zip(results[1:], names[1:]):
        design = result.design
        same = design.spec.response == first.spec.response and np.array_equal(design.y, first.y)
        if not same:
            raise BayesmixedError(
                f"bayestest model: {name} was not fit to the same outcome and observations "
                f"as {names[0]}; marginal likelihoods compare only models of the same data"
            )
