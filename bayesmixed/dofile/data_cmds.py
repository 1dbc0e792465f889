"""Data commands: ``use``, ``describe``, ``codebook``, ``summarize``, ``sort``, ``generate``.

They change or describe the current dataset only; the output imitates Stata's layout
closely enough to be read side by side with the workshop's handout, not byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import datasets
from ..errors import StataSyntaxError, VariableError
from ..results.format import fmt_fc, fmt_g
from ..syntax.expr import eval_node
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream
from .args import expand_varlist, parse_args, select_rows
from .errors import CommandError
from .session import Session


def cmd_use(session: Session, text: str) -> str:
    source, options = _use_source(text)
    args = parse_args(f"use {options}", 1, {"clear": 5})
    if not source or args.words:
        raise CommandError("use: give one dataset name or path, e.g. 'use jsp2, clear'")
    if session.data is not None and not args.has("clear") and session.data_changed:
        raise CommandError("no; dataset in memory has changed since last saved (use ..., clear)")
    session.data = _load(session.base_dir, source)
    session.var_labels, session.value_label_of, session.panel = {}, {}, None
    session.data_name = Path(source).stem
    session.data_token += 1
    session.sortvars = []
    session.data_changed = False
    return ""


def _use_source(text: str) -> tuple[str, str]:
    """(file name, ``, options``) of ``use NAME [, options]``.

    The name is read as written, not as a Stata expression: a path has dots and
    slashes (``use data/jsp2.dta``), and a quoted one may have blanks.
    """
    parts = text.split(None, 1)
    rest = parts[1].strip() if len(parts) == 2 else ""
    if rest.startswith('"'):
        end = rest.find('"', 1)
        if end < 0:
            raise CommandError("use: the file name's closing '\"' is missing")
        return rest[1:end], rest[end + 1 :]
    name, comma, options = rest.partition(",")
    if len(name.split()) > 1:
        raise CommandError("use: give one dataset name or path, e.g. 'use jsp2, clear'")
    return name.strip(), comma + options


def _load(base: Path, source: str) -> pd.DataFrame:
    if source in datasets.list_datasets():
        return datasets.load(source).reset_index(drop=True)
    path = Path(source)
    if not path.is_absolute():
        path = base / path
    if path.suffix == "":
        path = path.with_suffix(".dta")
    return datasets.load(path).reset_index(drop=True)


def cmd_describe(session: Session, text: str) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {})
    names = expand_varlist(args.words, frame) if args.words else list(map(str, frame.columns))
    lines = [
        f"Contains data from {session.data_name}",
        f" Observations:{fmt_fc(len(frame)):>13}",
        f"    Variables:{fmt_fc(frame.shape[1]):>13}",
        "-" * 60,
        f"{'Variable name':<16}{'Storage type':<14}{'Missing':>9}{'Distinct':>10}",
        "-" * 60,
    ]
    for name in names:
        col = frame[name]
        lines.append(f"{name:<16}{_storage(col):<14}{int(col.isna().sum()):>9}{col.nunique():>10}")
    lines.append("-" * 60)
    if session.sortvars:
        lines.append(f"Sorted by: {' '.join(session.sortvars)}")
    return "\n".join(lines)


def _storage(col: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_integer_dtype(col):
        lo, hi = (col.min(), col.max()) if len(col) else (0, 0)
        return "byte" if -127 <= lo and hi <= 100 else "int" if abs(hi) < 32740 else "long"
    if pd.api.types.is_float_dtype(col):
        return "double" if col.dtype == np.float64 else "float"
    width = int(col.astype(str).str.len().max()) if len(col) else 1
    return f"str{max(width, 1)}"


def cmd_codebook(session: Session, text: str) -> str:
    """``codebook, compact``-style: one line per variable (our codebook is always compact)."""
    frame = session.require_data()
    args = parse_args(text, 1, {"compact": 1})
    names = expand_varlist(args.words, frame) if args.words else list(map(str, frame.columns))
    head = f"{'Variable':<12}{'Obs':>7}{'Unique':>8}{'Mean':>11}{'Min':>10}{'Max':>10}  Missing"
    lines = [head, "-" * len(head)]
    for name in names:
        col = frame[name]
        nums = _numeric(col)
        stats_ = (nums.mean(), nums.min(), nums.max()) if nums is not None else (np.nan,) * 3
        cells = "".join(f"{fmt_g(v):>{w}}" for v, w in zip(stats_, (11, 10, 10), strict=True))
        lines.append(
            f"{name[:12]:<12}{int(col.notna().sum()):>7}{col.nunique():>8}{cells}"
            f"  {int(col.isna().sum())}"
        )
    return "\n".join(lines)


def _numeric(col: pd.Series) -> pd.Series | None:
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return col.astype(float).dropna()
    return None


def cmd_summarize(session: Session, text: str) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {"detail": 1, "separator": 3, "meanonly": 5})
    if args.has("detail"):
        raise CommandError("summarize, detail is not supported: use summarize without options")
    names = expand_varlist(args.words, frame) if args.words else list(map(str, frame.columns))
    rows = select_rows(args, frame)
    head = f"{'Variable':>12} |{'Obs':>11}{'Mean':>12}{'Std. dev.':>12}{'Min':>11}{'Max':>11}"
    lines = [head, "-" * 13 + "+" + "-" * 57]
    for name in names:
        nums = _numeric(rows[name])
        if nums is None:
            lines.append(f"{name[:12]:>12} |{0:>11}")
            session.results = {"N": 0}
            continue
        sd = nums.std(ddof=1) if len(nums) > 1 else np.nan
        session.results = {  # r() of the last variable, as Stata leaves it
            "N": len(nums),
            "mean": nums.mean() if len(nums) else np.nan,
            "sd": sd,
            "Var": sd**2,
            "min": nums.min() if len(nums) else np.nan,
            "max": nums.max() if len(nums) else np.nan,
            "sum": nums.sum(),
        }
        cells = "".join(
            f"{fmt_g(v):>{w}}" for v, w in zip((nums.mean(), sd), (12, 12), strict=True)
        )
        cells += f"{fmt_g(nums.min()):>11}{fmt_g(nums.max()):>11}"
        lines.append(f"{name[:12]:>12} |{fmt_fc(len(nums)):>11}{cells}")
    return "" if args.has("meanonly") else "\n".join(lines)


def cmd_count(session: Session, text: str) -> str:
    """``count [if] [in]``: the number of observations, also left in ``r(N)``."""
    frame = session.require_data()
    args = parse_args(text, 1, {})
    if args.words:
        raise CommandError("count: 'count [if exp] [in range]' takes no variables")
    n = len(select_rows(args, frame))
    session.results = {"N": n}
    return f"{n:>7,}"


def cmd_sort(session: Session, text: str) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {"stable": 6})
    if not args.words:
        raise CommandError("sort: give the variables to sort by")
    names = expand_varlist(args.words, frame)
    # Stata's sort is not stable unless asked; a stable sort is one valid outcome of it.
    session.data = frame.sort_values(names, kind="mergesort", na_position="last")
    session.sortvars = names
    return ""


def cmd_generate(
    session: Session, text: str, replace: bool = False, by: list[str] | None = None
) -> str:
    """``generate``/``replace``; with ``by`` (``by g:``), ``_n``/``_N`` count within groups."""
    frame = session.require_data()
    name, expr_text = _assignment(text)
    exists = name in frame.columns
    if exists and not replace:
        raise VariableError(f"variable '{name}' already defined (use replace to change it)")
    if not exists and replace:
        raise VariableError(f"variable '{name}' not found")
    stream = TokenStream(expr_text)
    expr = parse_if(stream)
    condition = None
    if stream.at_word("if"):
        stream.next()
        condition = parse_if(stream)
    if not stream.at("EOF"):
        stream.fail("unexpected text after the expression")
    values = _by_groups(frame, by, lambda part: eval_node(expr.root, part))
    new = frame.copy()
    if condition is not None:
        keep = _by_groups(frame, by, condition.evaluate).astype(bool)
        old = new[name].to_numpy() if exists else np.full(len(frame), np.nan)
        values = np.where(keep, values, old)
    new[name] = values
    session.data = new
    session.data_changed = True
    if replace:
        old = pd.Series(frame[name].to_numpy())
        same = old.eq(pd.Series(values)) | (old.isna() & pd.isna(values))
        return f"({int((~same).sum())} real changes made)"
    missing = int(pd.isna(values).sum())
    return f"({missing} missing values generated)" if missing else ""


def _by_groups(frame: pd.DataFrame, by: list[str] | None, fn) -> np.ndarray:
    """``fn`` evaluated on the whole frame, or on each ``by`` group, as one array."""
    if not by:
        return np.broadcast_to(fn(frame), (len(frame),)).copy()
    pieces = []
    for _, part in frame.groupby(by, sort=False, dropna=False):
        pieces.append(pd.Series(np.broadcast_to(fn(part), (len(part),)), index=part.index))
    return pd.concat(pieces).reindex(frame.index).to_numpy()


def _assignment(text: str) -> tuple[str, str]:
    stream = TokenStream(text)
    stream.next()  # generate / replace
    if stream.at("NAME") and stream.peek.text in ("byte", "int", "long", "float", "double"):
        stream.next()
    target = stream.expect("NAME", "a new variable name")
    if not stream.at("="):
        raise StataSyntaxError("expected '=' after the variable name", text, stream.peek.col)
    eq = stream.next()
    return target.text, text[eq.end :]
