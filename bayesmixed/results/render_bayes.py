"""Text rendering of a :class:`BayesResult` in the layout of Stata's ``bayes:`` output.

Stata's header (sample sizes, groups, acceptance rate and efficiency), then one row per
parameter with Mean, Std. dev., MCSE, Median and the equal-tailed 95% credible interval,
grouped by equation as Stata groups them.  Two columns Stata does not print are added on
the right, R-hat and bulk ESS, because NUTS users check them first.  The priors used are
stated under the table, so a printed result is reproducible.
"""

from __future__ import annotations

import numpy as np

from ..spec.options import DEFAULT_LEVEL
from .bayes import BayesResult
from .format import fmt_g, two_columns

TABLE = 78
WIDTH = TABLE + 16
STUB = 12


def _right(label: str, value: str) -> str:
    """Stata's ``bayes`` header: ``=`` one column left of the ``mixed`` header's
    (:func:`.format.stat_pair`), with a space after it (``MCMC iterations  =      4,000``)."""
    return f"{label:<17}= {value:>10}"


def _int(n: int) -> str:
    return f"{n:,}"


def header_lines(result: BayesResult, summary) -> list[str]:
    d = result.design
    title = "Bayesian multilevel regression"
    if result.method == "nuts":
        how = f"Hamiltonian Monte Carlo (NUTS, {result.sampler})"
        total = result.chains * (result.draws + result.tune)
        rows = [
            (title, _right("MCMC iterations", _int(total))),
            (how, _right("Burn-in", _int(result.chains * result.tune))),
            ("", _right("MCMC sample size", _int(result.chains * result.draws))),
        ]
    else:
        rows = [
            (title, _right("Approx. draws", _int(result.draws))),
            ("Laplace approximation at the posterior mode", ""),
        ]
    for g in d.group_info:
        rows.append((f"Group variable: {g.level}", _right("Number of groups", _int(g.n_groups))))
    rows.append(("", _right("Number of obs", _int(d.n))))
    if result.method == "nuts":
        eff = summary["ess_bulk"].to_numpy() / (result.chains * result.draws)
        rows += [
            ("", _right("Acceptance rate", fmt_g(result.acceptance_rate))),
            ("", _right("Efficiency:  min", fmt_g(np.nanmin(eff)))),
            ("", f"{'avg':>16} = {fmt_g(np.nanmean(eff)):>10}"),
            ("", f"{'max':>16} = {fmt_g(np.nanmax(eff)):>10}"),
        ]
    return [two_columns(a, b).rstrip() for a, b in rows]


def _cells(row, interval: tuple[str, str] = ("eti_lo", "eti_hi")) -> str:
    lo, hi = interval
    vals = [row["mean"], row["sd"], row["mcse"], row["median"], row[lo], row[hi]]
    text = " ".join(f"{fmt_g(v):>10}" for v in vals)
    rhat = "." if np.isnan(row["r_hat"]) else f"{row['r_hat']:.3f}"
    ess = "." if np.isnan(row["ess_bulk"]) else f"{row['ess_bulk']:.0f}"
    return f"{text} {rhat:>6} {ess:>7}"


def table_lines(summary, level: float = DEFAULT_LEVEL, hpd: bool = False) -> list[str]:
    """The table of a summary frame; ``hpd``: its interval columns are ``hpd_lo``/``hpd_hi``."""
    # a stub as wide as the longest label (Stata's is 12; cov(...) labels are longer)
    stub = min(max([STUB] + [len(p) for _, p in summary.index]), 28)
    width = WIDTH + stub - STUB
    rule = "-" * width
    sep = "-" * stub + "-+" + "-" * (width - stub - 2)
    ci = f"[{level:g}% cred. interval]"
    interval = ("hpd_lo", "hpd_hi") if hpd else ("eti_lo", "eti_hi")
    head1 = f"{'':<{stub}} | {'':>54}" + (f"{'HPD':>12}" if hpd else "Equal-tailed")
    head2 = (
        f"{'':<{stub}} | {'Mean':>10} {'Std. dev.':>10} {'MCSE':>10} {'Median':>10}"
        f"  {ci:>20} {'R-hat':>6} {'ESS':>7}"
    )
    lines = [rule, head1, head2]
    current = None
    for (eq, par), row in summary.iterrows():
        if eq != current:
            lines.append(sep)
            lines.append(f"{eq[:stub]:<{stub}} |")
            current = eq
        lines.append(f"{par[-stub:]:>{stub}} | {_cells(row, interval)}")
    lines.append(rule)
    return lines


def note_lines(result: BayesResult) -> list[str]:
    notes = []
    if result.marginalized:
        notes.append(
            "Note: random effects integrated out while sampling and drawn from their "
            "exact conditional posterior."
        )
    if result.method == "nuts":
        notes.append(f"Note: {result.divergences} divergent transitions.")
    extra = result.info.get("extra_rounds", 0)
    if extra:
        first = result.chains // (extra + 1)
        notes.append(
            f"Note: R-hat above 1.01 or bulk ESS below 400 after {first} chains; "
            f"{result.chains - first} more were run and pooled ({result.chains} in all)."
        )
    notes.append("Priors:")
    notes += [f"  {line}" for line in result.info.get("prior_lines", [])]
    return notes


def render_text(result: BayesResult) -> str:
    """Stata-style text output of a Bayesian fit."""
    summary = result.summary()
    lines = header_lines(result, summary) + [""] + table_lines(summary) + note_lines(result)
    return "\n".join(lines) + "\n"
