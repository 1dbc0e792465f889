"""``graph twoway`` (``scatter``/``line`` layers, overlays in parentheses) and ``graph matrix``.

Accepted forms::

    graph twoway scatter y x [if] [, by(g) title("...")]
    twoway line yhat x [if], connect(ascending)          (also: scatter/line alone)
    twoway (scatter y x) (line yhat x, connect(L)) [if] [, by(g)]
    graph matrix v1 v2 v3 [if] [, half]

Cosmetic options Stata users write (``msize()``, ``legend()``, axis titles...) are
accepted and, apart from ``title()``, ignored: they change the look, never the data
drawn.  An option outside that list is an error, as in Stata.
"""

from __future__ import annotations

from ..errors import StataSyntaxError
from ..plot.twoway import Layer, matrix, to_png, twoway
from .args import expand_varlist, parse_args, select_rows
from .errors import CommandError
from .session import Figure, Session

COSMETIC = {
    name: 2
    for name in (
        "title",
        "subtitle",
        "ytitle",
        "xtitle",
        "legend",
        "msize",
        "msymbol",
        "mcolor",
        "lcolor",
        "lwidth",
        "lpattern",
        "note",
        "name",
        "scheme",
        "xlabel",
        "ylabel",
        "xscale",
        "yscale",
        "caption",
        "aspectratio",
        "jitter",
        "nodraw",
        "replace",
        "mlabel",
        "xsize",
        "ysize",
    )
}
LAYER_OPTIONS = {"connect": 1, "sort": 4, **COSMETIC}
GRAPH_OPTIONS = {"by": 2, **LAYER_OPTIONS}
ASCENDING = ("ascending", "L", "l")


def cmd_graph(session: Session, text: str, line: int) -> str:
    head, body = _normalise(text)
    if head == "matrix":
        return _matrix(session, text, body)
    return _twoway(session, text, body)


def _normalise(text: str) -> tuple[str, str]:
    """('twoway' | 'matrix', the text after those words)."""
    words = text.split(None, 2)
    first = words[0]
    if first in ("scatter", "sc", "line"):
        return "twoway", text
    if first in ("twoway", "tw"):
        return "twoway", text.split(None, 1)[1] if len(words) > 1 else ""
    if first in ("graph", "gr") and len(words) > 1:
        sub = words[1]
        rest = words[2] if len(words) > 2 else ""
        if sub in ("twoway", "tw"):
            return "twoway", rest
        if sub in ("matrix", "mat", "matr", "matri"):
            return "matrix", rest
        if sub in ("scatter", "sc", "line"):
            return "twoway", f"{sub} {rest}"
        raise CommandError(f"graph {sub}: not supported (use graph twoway or graph matrix)")
    raise CommandError("graph: say which kind (graph twoway ... or graph matrix ...)")


def _twoway(session: Session, text: str, body: str) -> str:
    frame = session.require_data()
    layers_text, rest = _split_overlays(body)
    if layers_text:
        layers = [_layer(t, frame, {**LAYER_OPTIONS})[0] for t in layers_text]
        args = parse_args("twoway " + rest, 1, GRAPH_OPTIONS)
        if args.words:
            raise StataSyntaxError(f"unexpected '{args.words[0]}' after the plots", text)
    else:
        layer, args = _layer(body, frame, GRAPH_OPTIONS)
        layers = [layer]
    shown = select_rows(args, frame)
    for t in layers_text:
        shown = select_rows(parse_args(t, 1, LAYER_OPTIONS), shown)
    by = args.option_text("by")
    if by is not None:
        by = expand_varlist(by.split(",")[0].split(), frame)[0]
    title = _title(args)
    fig = twoway(shown, layers, by=by, title=title)
    _save(session, text, fig, "twoway", title)
    return ""


def _split_overlays(body: str) -> tuple[list[str], str]:
    """``(scatter ...) (line ...) rest`` -> (['scatter ...', 'line ...'], 'rest')."""
    body = body.strip()
    parts: list[str] = []
    while body.startswith("("):
        depth = 0
        for i, ch in enumerate(body):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                parts.append(body[1:i].strip())
                body = body[i + 1 :].strip()
                break
        else:
            raise StataSyntaxError("unclosed parenthesis in the twoway plot list", body)
    return parts, body


def _layer(text: str, frame, options: dict[str, int]) -> tuple[Layer, object]:
    kind = text.split(None, 1)[0] if text.strip() else ""
    if kind not in ("scatter", "sc", "line"):
        raise CommandError(f"twoway plot '{kind}' not supported (use scatter or line)")
    args = parse_args(text, 1, options)
    names = expand_varlist(args.words, frame)
    if len(names) < 2:
        raise CommandError(f"{kind}: give the y variable(s), then the x variable")
    connect = args.option_text("connect")
    if connect is not None and connect.strip() not in ASCENDING:
        raise CommandError(f"connect({connect}) not supported: use connect(ascending)")
    ascending = connect is not None
    kind = "scatter" if kind.startswith("sc") else "line"
    return Layer(kind, tuple(names[:-1]), names[-1], ascending, args.has("sort")), args


def _title(args) -> str:
    text = args.option_text("title")
    return (text or "").split(",")[0].strip().strip('"')


def _matrix(session: Session, text: str, body: str) -> str:
    frame = session.require_data()
    args = parse_args("matrix " + body, 1, {"half": 4, **COSMETIC})
    names = expand_varlist(args.words, frame)
    shown = select_rows(args, frame)
    fig = matrix(shown, names, half=args.has("half"), title=_title(args))
    _save(session, text, fig, "matrix", _title(args))
    return ""


def _save(session: Session, text: str, fig, stem: str, caption: str) -> None:
    name = session.new_figure_name(stem)
    session.log.append(Figure(text, name, to_png(fig), caption or text))
