"""More data commands: files (``import delimited``, ``save``, ``export delimited``,
``log``), the dataset (``keep``, ``drop``, ``rename``, ``egen``, ``preserve``,
``restore``, ``label``, ``xtset``), listings (``list``, ``tabulate``), ``set`` and
the ``by``/``bysort`` prefix.

Paths are relative to the do-file's folder, as for ``use``.  Writing a file that
exists needs ``replace``, as in Stata.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, StataSyntaxError, VariableError
from ..results.format import fmt_g
from ..syntax.expr import eval_node
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream
from .args import expand_varlist, parse_args, select_rows
from .errors import CommandError
from .macros import split_words
from .session import Session


# ------------------------------------------------------------------ files
def _file_and_options(text: str, skip: int, what: str) -> tuple[list[str], str, str]:
    """``[varlist] [using] "file" [, options]`` -> (varlist words, file, options)."""
    rest = text.split(None, skip)[skip] if len(text.split(None, skip)) > skip else ""
    quoted = re.search(r'"([^"]*)"', rest)
    if quoted:
        before, name, after = rest[: quoted.start()], quoted.group(1), rest[quoted.end() :]
    else:
        head, comma, tail = rest.partition(",")
        tokens = head.split()
        if not tokens:
            raise CommandError(f"{what}: give the file name")
        before, name, after = " ".join(tokens[:-1]), tokens[-1], comma + tail
    words = before.split()
    if words and words[-1] == "using":
        words = words[:-1]
    after = after.strip()
    if after and not after.startswith(","):
        raise CommandError(f"{what}: unexpected '{after}' after the file name")
    return words, name, after.lstrip(",").strip()


def _options(text: str, allowed: dict[str, int], what: str):
    return parse_args(f"{what} , {text}" if text else what, 1, allowed)


def _path(session: Session, name: str, suffix: str) -> Path:
    path = Path(name)
    if not path.suffix:
        path = path.with_suffix(suffix)
    return path if path.is_absolute() else session.base_dir / path


def _check_clear(session: Session, args) -> None:
    if session.data is not None and session.data_changed and not args.has("clear"):
        raise CommandError("no; dataset in memory has changed since last saved (add ', clear')")


def _new_data(session: Session, frame: pd.DataFrame, name: str) -> None:
    session.data = frame.reset_index(drop=True)
    session.data_name = name
    session.data_token += 1
    session.sortvars = []
    session.data_changed = False
    session.var_labels, session.value_label_of = {}, {}
    session.panel = None


def cmd_import(session: Session, text: str, line: int) -> str:
    words = text.split()
    if len(words) < 2 or not "delimited".startswith(words[1]) or len(words[1]) < 5:
        raise CommandError("import: only 'import delimited [using] file.csv [, clear]'")
    _, name, opts = _file_and_options(text, 2, "import delimited")
    allowed = {"clear": 5, "delimiters": 5, "varnames": 7, "case": 4, "encoding": 8}
    args = _options(opts, allowed, "import")
    _check_clear(session, args)
    path = _path(session, name, ".csv")
    if not path.is_file():
        raise DataError(f"file {name} not found")
    sep = args.option_text("delimiters")
    sep = "," if sep is None else sep.strip().strip('"').replace("\\t", "\t").replace("tab", "\t")
    header = 0 if (args.option_text("varnames") or "1").strip() == "1" else None
    encoding = (args.option_text("encoding") or "utf-8").strip().strip('"')
    try:
        frame = pd.read_csv(path, sep=sep, header=header, encoding=encoding)
    except Exception as exc:  # pandas documents no set of exceptions: the file is at fault
        raise DataError(f"cannot read {name}: {type(exc).__name__}: {exc}"[:300]) from exc
    if header is None:
        frame.columns = [f"v{k}" for k in range(1, frame.shape[1] + 1)]
    case = (args.option_text("case") or "lower").strip()
    if case not in ("lower", "upper", "preserve"):
        raise CommandError("import delimited, case(): lower, upper or preserve")
    if case != "preserve":
        frame.columns = [getattr(str(c), case)() for c in frame.columns]
    frame.columns = [_stata_name(str(c), k) for k, c in enumerate(frame.columns, start=1)]
    _new_data(session, frame, path.stem)
    return f"({frame.shape[1]} vars, {len(frame):,} obs)"


def _stata_name(name: str, k: int) -> str:
    """A CSV header as a Stata variable name: invalid characters become ``_``."""
    clean = re.sub(r"\W", "_", name.strip())[:32]
    if not clean or clean[0].isdigit():
        clean = f"v{k}"
    return clean


def _refuse_overwrite(path: Path, args) -> None:
    if path.exists() and not args.has("replace"):
        raise CommandError(f"file {path.name} already exists (add ', replace')")


def cmd_save(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    words, name, opts = _file_and_options(text, 1, "save")
    if words:
        raise CommandError("save: give one file name")
    args = _options(opts, {"replace": 7}, "save")
    path = _path(session, name, ".dta")
    _refuse_overwrite(path, args)
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype("int8")
    labels = {k: v[:80] for k, v in session.var_labels.items() if k in out.columns}
    try:
        out.to_stata(path, write_index=False, version=118, variable_labels=labels)
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot save {name}: {exc}") from exc
    session.data_changed = False
    return f"file {name if Path(name).suffix else name + '.dta'} saved"


def cmd_export(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    words = text.split()
    if len(words) < 2 or not "delimited".startswith(words[1]) or len(words[1]) < 5:
        raise CommandError("export: only 'export delimited [varlist] using file.csv [, replace]'")
    varlist, name, opts = _file_and_options(text, 2, "export delimited")
    args = _options(opts, {"replace": 7, "delimiter": 5, "novarnames": 9}, "export")
    names = expand_varlist(varlist, frame) if varlist else list(map(str, frame.columns))
    path = _path(session, name, ".csv")
    _refuse_overwrite(path, args)
    sep = args.option_text("delimiter")
    sep = "," if sep is None else sep.strip().strip('"').replace("tab", "\t")
    try:
        frame[names].to_csv(path, index=False, sep=sep, header=not args.has("novarnames"))
    except OSError as exc:
        raise DataError(f"cannot write {name}: {exc.strerror or exc}") from exc
    return f"file {path.name} saved"


def cmd_log(session: Session, text: str, line: int) -> str:
    words = text.split()
    if len(words) >= 2 and words[1] == "close":
        if session.log_file is None:
            raise CommandError("no log file open")
        session.sinks.remove(session.log_file)
        session.log_file.close()
        session.log_file = None
        return ""
    if len(words) < 2 or words[1] != "using":
        raise CommandError("log: 'log using file [, replace text append]' or 'log close'")
    _, name, opts = _file_and_options(text, 2, "log using")
    args = _options(opts, {"replace": 7, "text": 1, "smcl": 1, "append": 1, "name": 1}, "log")
    if session.log_file is not None:
        raise CommandError("log file already open")
    path = _path(session, name, ".log")
    if not args.has("append"):
        _refuse_overwrite(path, args)
    try:
        session.log_file = path.open("a" if args.has("append") else "w", encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot open the log {name}: {exc.strerror or exc}") from exc
    session.sinks.append(session.log_file)
    return ""


# ------------------------------------------------------------------ the dataset
def cmd_keep(session: Session, text: str, line: int) -> str:
    return _keep_drop(session, text, keep=True)


def cmd_drop(session: Session, text: str, line: int) -> str:
    return _keep_drop(session, text, keep=False)


def _keep_drop(session: Session, text: str, keep: bool) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {})
    what = "keep" if keep else "drop"
    if args.words and (args.if_ is not None or args.in_ is not None):
        raise CommandError(f"{what}: give variables or if/in, not both")
    if args.words:
        names = expand_varlist(args.words, frame)
        kept = [c for c in frame.columns if (c in names) == keep]
        session.set_data(frame[kept])
        session.sortvars = [v for v in session.sortvars if v in kept]
        return ""
    if args.if_ is None and args.in_ is None:
        raise CommandError(f"{what}: give variables, 'if exp' or 'in range'")
    chosen = frame.index.isin(select_rows(args, frame).index)
    rows = chosen if keep else ~chosen
    session.set_data(frame[rows].reset_index(drop=True))
    return f"({int((~rows).sum()):,} observations deleted)"


def cmd_rename(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    parts = text.split()[1:]
    if len(parts) != 2:
        raise CommandError("rename: 'rename oldname newname'")
    old = expand_varlist([parts[0]], frame)[0]
    new = parts[1]
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", new):
        raise StataSyntaxError(f"rename: '{new}' is not a valid variable name")
    if new in frame.columns and new != old:
        raise VariableError(f"variable '{new}' already defined")
    session.set_data(frame.rename(columns={old: new}))
    session.sortvars = [new if v == old else v for v in session.sortvars]
    for store in (session.var_labels, session.value_label_of):
        if old in store:
            store[new] = store.pop(old)
    return ""


def cmd_preserve(session: Session, text: str, line: int) -> str:
    session.require_data()
    session.preserved = (
        session.data.copy(),
        session.data_name,
        session.data_token,
        list(session.sortvars),
        session.data_changed,
    )
    return ""


def cmd_restore(session: Session, text: str, line: int) -> str:
    if session.preserved is None:
        raise CommandError("nothing to restore")
    args = parse_args(text, 1, {"not": 3, "preserve": 3})
    if args.words:
        raise CommandError("restore: 'restore [, not preserve]'")
    if not args.has("not"):
        restore_preserved(session)
    if not args.has("preserve"):
        session.preserved = None
    return ""


def restore_preserved(session: Session) -> None:
    """Put the preserved data back (``session.preserved`` is kept)."""
    data, name, token, sortvars, changed = session.preserved
    session.data, session.data_name, session.data_token = data.copy(), name, token
    session.sortvars, session.data_changed = list(sortvars), changed


def cmd_label(session: Session, text: str, line: int) -> str:
    words = text.split(None, 2)
    sub = words[1] if len(words) > 1 else ""
    rest = words[2] if len(words) > 2 else ""
    if "variable".startswith(sub) and len(sub) >= 3:
        name, _, label = rest.partition(" ")
        name = expand_varlist([name], session.require_data())[0]
        session.var_labels[name] = label.strip().strip('"')
    elif "define".startswith(sub) and len(sub) >= 3:
        body, _, opts = rest.partition(",")
        name, _, pairs = body.strip().partition(" ")
        items = split_words(pairs)
        if len(items) % 2 or not name:
            raise CommandError('label define: \'label define name 1 "one" 2 "two"\'')
        if name in session.value_labels and not re.search(r"\b(replace|add|modify)\b", opts):
            raise CommandError(f"label {name} already defined (add ', replace' or ', modify')")
        mapping = dict(session.value_labels.get(name, {})) if "replace" not in opts else {}
        for value, label in zip(items[::2], items[1::2], strict=True):
            try:
                mapping[float(value)] = label
            except ValueError as err:
                raise CommandError(f"label define: '{value}' is not a number") from err
        session.value_labels[name] = mapping
    elif "values".startswith(sub) and len(sub) >= 3:
        parts = rest.split()
        if not parts:
            raise CommandError("label values: 'label values varlist labelname'")
        frame = session.require_data()
        label = parts[-1] if len(parts) > 1 else None
        for name in expand_varlist(parts[:-1] if label else parts, frame):
            if label is None or label == ".":
                session.value_label_of.pop(name, None)
            else:
                session.value_label_of[name] = label
    elif sub in ("data", "drop", "list", "dir"):
        return ""
    else:
        raise CommandError("label: variable, define or values")
    return ""


def cmd_xtset(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {"delta": 1, "yearly": 1, "clear": 5})
    if args.has("clear"):
        session.panel = None
        return ""
    if not args.words:
        if session.panel is None:
            raise CommandError("panel variable not set; use xtset panelvar [timevar]")
    else:
        names = expand_varlist(args.words, frame)
        if len(names) > 2:
            raise CommandError("xtset: 'xtset panelvar [timevar]'")
        session.panel = (names[0], names[1] if len(names) == 2 else None)
    panel, time = session.panel
    lines = [f"Panel variable: {panel}"]
    if time is not None:
        if frame.duplicated([panel, time]).any():
            raise CommandError(f"repeated time values within panel ({panel} {time})")
        sizes = frame.groupby(panel)[time].count()
        balanced = sizes.nunique() == 1
        lines[0] += " (strongly balanced)" if balanced else " (unbalanced)"
        lo, hi = frame[time].min(), frame[time].max()
        lines += [f" Time variable: {time}, {fmt_g(lo)} to {fmt_g(hi)}", "         Delta: 1 unit"]
    return "\n".join(lines)


def cmd_set(session: Session, text: str, line: int) -> str:
    words = text.split()
    if len(words) < 2:
        raise CommandError("set: which setting?")
    if words[1] == "seed":
        if len(words) != 3 or not words[2].isdigit():
            raise CommandError("set seed: give a whole number, e.g. 'set seed 12345'")
        session.seed = int(words[2])
        np.random.seed(session.seed % 2**32)
        return ""
    ignored = ("more", "linesize", "varabbrev", "type", "scheme", "matsize", "maxvar", "rmsg")
    if words[1] in ignored or words[1].startswith("output"):
        return ""
    raise CommandError(f"set {words[1]}: not supported (set seed and, ignored, set more ...)")


def cmd_version(session: Session, text: str, line: int) -> str:
    return ""


def cmd_macro(session: Session, text: str, line: int) -> str:
    words = text.split()
    if len(words) >= 3 and words[1] == "drop":
        for name in words[2:]:
            if name == "_all":
                session.globals.clear()
            session.globals.pop(name, None)
            session.locals.pop(name.lstrip("_"), None)
        return ""
    if len(words) >= 2 and words[1] in ("list", "dir"):
        rows = [f"{k + ':':<12} {v}" for k, v in session.globals.items()]
        rows += [f"_{k + ':':<11} {v}" for k, v in session.locals.items()]
        return "\n".join(rows)
    raise CommandError("macro: 'macro drop names' or 'macro list'")


# ------------------------------------------------------------------ egen
EGEN = ("mean", "sum", "total", "count", "max", "min", "sd", "median", "group", "tag")


def cmd_egen(session: Session, text: str, line: int, by: list[str] | None = None) -> str:
    frame = session.require_data()
    match = re.match(
        r"\s*egen\s+(?:(?:byte|int|long|float|double)\s+)?([A-Za-z_]\w*)\s*=\s*(\w+)\((.*?)\)"
        r"\s*(.*)$",
        text,
        re.S,
    )
    if match is None:
        raise StataSyntaxError("egen: 'egen newvar = fcn(exp) [if] [, by(varlist)]'")
    name, fcn, inner, rest = match.groups()
    if fcn not in EGEN:
        raise CommandError(f"egen {fcn}(): not supported (supported: {', '.join(EGEN)})")
    if name in frame.columns:
        raise VariableError(f"variable '{name}' already defined")
    args = parse_args(f"egen {rest}", 1, {"by": 2, "missing": 7})
    if args.words:
        raise StataSyntaxError(f"egen: unexpected '{' '.join(args.words)}'")
    groups = list(by or [])
    if args.has("by"):
        groups += expand_varlist(args.option_text("by").split(), frame)
    use = np.ones(len(frame), bool)
    if args.if_ is not None or args.in_ is not None:
        use = frame.index.isin(select_rows(args, frame).index)
    if fcn in ("group", "tag"):
        names = expand_varlist(inner.split(), frame)
        values = _egen_group(frame, names, use, fcn, args.has("missing"))
    else:
        stream = TokenStream(inner)
        expr = parse_if(stream)
        if not stream.at("EOF"):
            stream.fail("unexpected text in egen's argument")
        raw = np.asarray(eval_node(expr.root, frame))
        if raw.dtype == object:
            raise CommandError(f"egen {fcn}(): needs a numeric expression, not a string")
        x = np.broadcast_to(raw.astype(float), (len(frame),))
        values = _egen_stat(frame, pd.Series(x, index=frame.index), fcn, groups, use)
    new = frame.copy()
    new[name] = values
    session.set_data(new)
    missing = int(pd.isna(values).sum())
    return f"({missing} missing values generated)" if missing else ""


def _egen_stat(frame, x: pd.Series, fcn: str, groups: list[str], use) -> np.ndarray:
    x = x.where(use)
    if not groups:
        keys = pd.Series(0, index=frame.index)
        grouped = x.groupby(keys)
    else:
        grouped = x.groupby([frame[g] for g in groups], dropna=False)
    how = {"sum": "sum", "total": "sum", "mean": "mean", "count": "count", "max": "max"}
    how.update(min="min", sd="std", median="median")
    values = grouped.transform(how[fcn]).astype(float)
    return np.where(use, values.to_numpy(), np.nan)


def _egen_group(frame, names: list[str], use, fcn: str, missing: bool) -> np.ndarray:
    keys = frame[names]
    ok = use & (missing | ~keys.isna().any(axis=1).to_numpy())
    if fcn == "tag":
        first = ~keys.duplicated() & ok
        return np.where(use, first.astype(float), np.nan)
    codes = keys[ok].drop_duplicates().sort_values(names, na_position="last")
    numbering = {tuple(row): k for k, row in enumerate(codes.itertuples(index=False), 1)}
    out = np.full(len(frame), np.nan)
    for i, row in enumerate(keys.itertuples(index=False)):
        if ok[i]:
            out[i] = numbering[tuple(row)]
    return out


# ------------------------------------------------------------------ listings
def _cell(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "."
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    x = float(value)
    return str(int(x)) if x.is_integer() and abs(x) < 1e12 else fmt_g(x)


def cmd_list(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {"noobs": 3, "clean": 1, "sep": 3, "separator": 3})
    names = expand_varlist(args.words, frame) if args.words else list(map(str, frame.columns))
    rows = select_rows(args, frame)
    numbers = [int(frame.index.get_loc(i)) + 1 for i in rows.index]
    cells = [[_label_of(session, name, v) for v in rows[name]] for name in names]
    widths = [max([len(n), *map(len, col)]) for n, col in zip(names, cells, strict=True)]
    obs_w = len(str(max(numbers, default=1))) + 2
    pad = " " * (obs_w + 1)
    inner = "  ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
    rule = "+" + "-" * (len(inner) + 2) + "+"
    lines = [pad + rule, f"{pad}| {inner} |", f"{pad}|" + "-" * (len(inner) + 2) + "|"]
    for k, number in enumerate(numbers):
        row = "  ".join(f"{col[k]:>{w}}" for col, w in zip(cells, widths, strict=True))
        lines.append(f"{str(number) + '.':>{obs_w}} | {row} |")
    lines.append(pad + rule)
    return "\n".join(lines)


def _label_of(session: Session | None, name: str, value: object) -> str:
    if session is not None and name in session.value_label_of and not isinstance(value, str):
        labels = session.value_labels.get(session.value_label_of[name], {})
        if value is not None and not pd.isna(value) and float(value) in labels:
            return labels[float(value)]
    return _cell(value)


def cmd_tabulate(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {"missing": 1, "nolabel": 3})
    names = expand_varlist(args.words, frame)
    if len(names) not in (1, 2):
        raise CommandError("tabulate: give one or two variables")
    rows = select_rows(args, frame)
    if not args.has("missing"):
        rows = rows.dropna(subset=names)
    if len(rows) == 0:
        return "no observations"
    label = None if args.has("nolabel") else session
    if len(names) == 1:
        return _oneway(rows[names[0]], names[0], label)
    return _twoway(rows, names, label)


def _oneway(col: pd.Series, name: str, session) -> str:
    counts = col.value_counts(dropna=False).sort_index(na_position="last")
    total = int(counts.sum())
    lines = [f"{name[:11]:>11} |      Freq.     Percent        Cum.", "-" * 12 + "+" + "-" * 35]
    cum = 0.0
    for value, n in counts.items():
        pct = 100 * n / total
        cum += pct
        lines.append(
            f"{_label_of(session, name, value)[:11]:>11} |{n:>11,}{pct:>12.2f}{cum:>12.2f}"
        )
    lines += ["-" * 12 + "+" + "-" * 35, f"{'Total':>11} |{total:>11,}{100:>12.2f}"]
    return "\n".join(lines)


def _twoway(rows: pd.DataFrame, names: list[str], session) -> str:
    table = pd.crosstab(rows[names[0]], rows[names[1]], dropna=False)
    columns = [_label_of(session, names[1], c)[:9] for c in table.columns]
    head = f"{names[0][:11]:>11} |" + "".join(f"{c:>10}" for c in columns) + " |     Total"
    lines = [f"{'':>11} |{names[1]:>{10 * len(columns)}} |", head]
    rule = "-" * 12 + "+" + "-" * (10 * len(columns)) + "-+" + "-" * 10
    lines.append(rule)
    for value, counts in table.iterrows():
        cells = "".join(f"{int(n):>10,}" for n in counts)
        label = _label_of(session, names[0], value)[:11]
        lines.append(f"{label:>11} |{cells} |{int(counts.sum()):>10,}")
    lines.append(rule)
    totals = "".join(f"{int(n):>10,}" for n in table.sum())
    lines.append(f"{'Total':>11} |{totals} |{int(table.values.sum()):>10,}")
    return "\n".join(lines)


# ------------------------------------------------------------------ by / bysort
Handlers = Callable[[str], Callable]
BY_EACH = ("summarize", "list", "tabulate", "describe", "codebook", "display")


def run_by(session: Session, text: str, line: int, find_handler: Handlers) -> str:
    """``by g: cmd`` / ``bysort g (t): cmd`` / ``by g, sort: cmd``."""
    prefix, _, command = text.partition(":")
    command = command.strip()
    if not command:
        raise CommandError("by: which command?")
    word, _, spec = prefix.partition(" ")
    sort = word.startswith("bys") or ", sort" in spec or ",sort" in spec or word.endswith(",")
    spec = re.sub(r",\s*sort\s*$", "", spec).strip()
    match = re.fullmatch(r"([^()]+?)\s*(?:\(([^()]*)\))?", spec)
    if match is None or not match.group(1).strip():
        raise StataSyntaxError("by: 'by varlist: command' or 'bysort varlist (sortvars): command'")
    frame = session.require_data()
    groups = expand_varlist(match.group(1).split(), frame)
    within = expand_varlist(match.group(2).split(), frame) if match.group(2) else []
    order = groups + within
    if sort:
        frame = frame.sort_values(order, kind="mergesort", na_position="last")
        session.data, session.sortvars = frame, order
    elif session.sortvars[: len(order)] != order:
        raise CommandError("not sorted (use bysort, or sort the data first)")
    head = command.split(None, 1)[0]
    handler = find_handler(head)
    from . import dispatch

    full = next(f for f, m, h in dispatch.TABLE if h is handler and len(head) >= m)
    if full in ("generate", "replace"):
        from .data_cmds import cmd_generate

        return cmd_generate(session, command, replace=full == "replace", by=groups)
    if full == "egen":
        return cmd_egen(session, command, line, by=groups)
    if full not in BY_EACH:
        raise CommandError(
            f"by: not supported with {full} (only generate, replace, egen, {', '.join(BY_EACH)})"
        )
    out: list[str] = []
    for key, part in frame.groupby(groups, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        label = " ".join(
            f"{g} = {_label_of(session, g, v)}" for g, v in zip(groups, key, strict=True)
        )
        saved = session.data
        session.data = part
        try:
            printed = handler(session, command, line)
        finally:
            session.data = saved
        out += ["-" * 78, f"-> {label}", "", printed]
    return "\n".join(out)
