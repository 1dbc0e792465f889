"""The report page: a do-file's log as one self-contained ``index.html``.

Stata-style output stays in ``<pre>`` (its columns are the point); each ``bayes:`` model
sits beside its ML twin, with a table of both estimates and the Bayesian figures.  The
page has no scripts and no external resources except the PNGs beside it.

Each model's output appears once.  An ML fit that a later ``bayes:`` twin shows beside
itself is not also printed where it ran: there the page keeps the command and a link to
the side-by-side block.  (It used to be printed in both places, so in the workshop, where
every model has a twin, every ML table appeared twice.)  The side-by-side block is the
one kept because comparing the two fits is what the report is for.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from ..results.format import fmt_g
from .compare import CompareRow, finite, same_model, side_by_side
from .figures import bayes_figures
from .records import Figure, Heading, ModelEntry, Output, Unavailable

CSS = """
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 1.5em auto; padding: 0 1.5em;
       max-width: 1500px; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: .3em; }
h2 { border-bottom: 2px solid #1a476f; padding-top: .8em; }
h4 { margin: .2em 0; color: #1a476f; }
p.facts { margin: .1em 0; color: #555; font-size: 14px; }
pre { background: #f7f7f4; border: 1px solid #ddd; padding: .6em; overflow-x: auto;
      font-size: 12px; line-height: 1.25; margin: .3em 0 .8em; }
pre.cmd { background: none; border: none; padding: 0 .6em; margin: .5em 0 .2em; color: #1a476f;
          overflow: visible; white-space: pre-wrap; font-weight: 600; }
.side { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1em; }
.side pre { font-size: 10.5px; }
@media (max-width: 1100px) { .side { grid-template-columns: minmax(0, 1fr); } }
.bayes { border-left: 4px solid #90353b; padding: .2em 0 .2em 1em; margin: 1em 0 1.5em; }
table.bm-compare { border-collapse: collapse; font-size: 13px; margin: .8em 0;
      font-variant-numeric: tabular-nums; }
table.bm-compare caption { text-align: left; font-weight: 600; padding-bottom: .3em; }
table.bm-compare td, table.bm-compare th { border-bottom: 1px solid #ddd; padding: 3px 10px;
      text-align: right; white-space: nowrap; }
table.bm-compare th { background: #eef2f6; }
table.bm-compare tr.sep td { border-top: 2px solid #bbb; }
table.bm-compare th.lbl, table.bm-compare td.lbl { text-align: left; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: .8em 0; max-width: 100%; }
figure img { max-width: 100%; max-height: 900px; border: 1px solid #eee; }
.figs figure { margin: 0; max-width: 720px; }
figcaption { font-size: 12px; color: #555; }
.note, .warn { color: #7a4b00; font-size: 13px; margin: .3em 0; }
.unavailable { background: #fff4e0; border: 1px solid #e0b060; border-left: 4px solid #c07a00;
      padding: .6em 1em; margin: .5em 0 1.5em; font-size: 14px; }
nav ul { columns: 2; font-size: 14px; }
"""


def build_page(
    log: list, title: str, facts: list[str] = (), progress: Callable[[str], None] | None = None
) -> tuple[str, dict[str, bytes]]:
    """(index.html text, {relative file name: PNG bytes}).

    ``progress`` gets one line per Bayesian model before its figures are drawn: they are
    most of the writing time (about 40 s for the workshop), which was silent before.
    """
    n_bayes = sum(isinstance(e, ModelEntry) and e.estimate.bayes and not e.quiet for e in log)
    done = 0
    files: dict[str, bytes] = {}
    body: list[str] = []
    toc: list[str] = []
    models: list[ModelEntry] = []
    twinned = _twinned(log)
    for entry in log:
        if isinstance(entry, Heading):
            anchor = f"s{len(toc) + 1}"
            toc.append(f'<li><a href="#{anchor}">{escape(entry.title)}</a></li>')
            body.append(f'<h2 id="{anchor}">{escape(entry.title)}</h2>')
        elif isinstance(entry, Output):
            body.append(_output(entry))
        elif isinstance(entry, Figure):
            files[f"figures/{entry.name}"] = entry.png
            body.append(_figure(f"figures/{entry.name}", entry.caption))
        elif isinstance(entry, ModelEntry):
            if progress is not None and entry.estimate.bayes and not entry.quiet:
                done += 1
                progress(f"  report: figures of Bayesian model {done} of {n_bayes}")
            body.append(_model(entry, models, files, twinned))
            models.append(entry)
        elif isinstance(entry, Unavailable):
            body.append(_unavailable(entry))
    nav = f"<nav><h3>Contents</h3><ul>{''.join(toc)}</ul></nav>" if toc else ""
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>"
        f"<h1>{escape(title)}</h1>{_facts(facts)}{nav}\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return page, files


def _facts(facts) -> str:
    return "".join(f'<p class="facts">{escape(f)}</p>' for f in facts)


def _unavailable(entry: Unavailable) -> str:
    """A visible box where the Bayesian twin would be: said plainly, nothing stands in."""
    return (
        '<div class="unavailable"><strong>Bayesian twin not available in this version of '
        f"bayesmixed.</strong> The engine refused <code>{escape(entry.command)}</code>: "
        f"{escape(entry.reason)}. No Bayesian numbers or figures are shown for this model; "
        "its maximum-likelihood fit above stands alone.</div>"
    )


def _output(entry: Output) -> str:
    echo = f'<pre class="cmd">. {escape(entry.command)}</pre>'
    return echo + (f"<pre>{escape(entry.text)}</pre>" if entry.text.strip() else "")


def _figure(src: str, caption: str) -> str:
    cap = escape(caption)
    return f'<figure><img src="{src}" alt="{cap}"><figcaption>{cap}</figcaption></figure>'


def _twinned(log: list) -> dict[int, str]:
    """{id of an ML entry: anchor of the ``bayes:`` block that shows it beside its twin}."""
    earlier: list[ModelEntry] = []
    out: dict[int, str] = {}
    for entry in log:
        if not isinstance(entry, ModelEntry):
            continue
        if entry.estimate.bayes and not entry.quiet:
            twin = _ml_twin(entry, earlier)
            if twin is not None:
                out[id(twin)] = _anchor(entry, earlier)
        earlier.append(entry)
    return out


def _anchor(entry: ModelEntry, earlier: list[ModelEntry]) -> str:
    return f"bayes{sum(e.estimate.bayes for e in earlier) + 1:02d}"


def _model(
    entry: ModelEntry,
    earlier: list[ModelEntry],
    files: dict[str, bytes],
    twinned: dict[int, str],
) -> str:
    if entry.quiet:
        return ""
    if not entry.estimate.bayes:
        anchor = twinned.get(id(entry))
        if anchor is not None:
            return (
                f'<p class="note">Output shown <a href="#{anchor}">beside its Bayesian '
                "twin below</a>.</p>"
            )
        return f"<pre>{escape(entry.text)}</pre>"
    twin = _ml_twin(entry, earlier)
    ml_text = escape(twin.text) if twin else "(no ML fit of this model earlier in the do-file)"
    stem = _anchor(entry, earlier)
    parts = [
        f'<div class="bayes" id="{stem}">',
        '<div class="side">',
        f"<div><h4>Maximum likelihood</h4><pre>{ml_text}</pre></div>",
        f"<div><h4>Bayesian</h4><pre>{escape(entry.text)}</pre></div>",
        "</div>",
    ]
    ml = twin.estimate.result if twin else None
    parts += [f'<p class="warn">Sampler warning: {escape(n)}</p>' for n in entry.notes]
    parts.append(compare_table(side_by_side(ml, entry.estimate.result)))
    figures, notes = bayes_figures(entry.estimate.result, ml, stem)
    parts.append('<div class="figs">')
    for name, png, caption in figures:
        files[f"figures/{name}"] = png
        parts.append(_figure(f"figures/{name}", caption))
    parts.append("</div>")
    parts += [f'<p class="note">{escape(n)}</p>' for n in notes]
    return "\n".join(parts) + "</div>"


def _ml_twin(entry: ModelEntry, earlier: list[ModelEntry]) -> ModelEntry | None:
    for other in reversed(earlier):
        if not other.estimate.bayes and same_model(other.estimate.command, entry.estimate.command):
            return other
    return None


def compare_table(rows: list[CompareRow]) -> str:
    """ML estimate (SE) beside posterior mean (SD), 95% CrI, R-hat and bulk ESS."""
    heads = [
        "Equation",
        "Parameter",
        "ML estimate",
        "Std. err.",
        "Posterior mean",
        "Post. sd",
        "95% CrI",
        "R-hat",
        "ESS bulk",
    ]
    head = "".join(
        f'<th class="lbl">{h}</th>' if i < 2 else f"<th>{h}</th>" for i, h in enumerate(heads)
    )
    body = []
    previous = None
    for r in rows:
        sep = ' class="sep"' if previous is not None and r.equation != previous else ""
        previous = r.equation
        cri = f"[{fmt_g(r.lo)}, {fmt_g(r.hi)}]" if finite(r.lo) else ""
        cells = [
            fmt_g(r.ml),
            fmt_g(r.ml_se),
            fmt_g(r.mean),
            fmt_g(r.sd),
            cri,
            f"{r.r_hat:.3f}" if finite(r.r_hat) else "",
            f"{r.ess:.0f}" if finite(r.ess) else "",
        ]
        tds = "".join(f"<td>{escape(c)}</td>" for c in cells)
        body.append(
            f'<tr{sep}><td class="lbl">{escape(r.equation)}</td>'
            f'<td class="lbl">{escape(r.label)}</td>{tds}</tr>'
        )
    caption = "<caption>Maximum likelihood beside the posterior (95% equal-tailed CrI)</caption>"
    return f'<table class="bm-compare">{caption}<tr>{head}</tr>' + "".join(body) + "</table>"
