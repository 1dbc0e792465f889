"""Blocks, loops and prefixes: ``foreach``, ``forvalues``, ``if``/``else``, ``capture``,
``quietly``, ``noisily``, ``exit``, ``continue``.

A command ending in ``{`` opens a block that a ``}`` on its own closes; blocks nest.
Macros in a block are expanded when each command runs, so a loop's body sees the
loop variable's current value.  As ``stata -b`` does, a block run at the top level is
echoed once, its lines numbered (``  2. display `i'``), and its commands then print
their output without being echoed again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BayesmixedError, DataError, StataSyntaxError, VariableError
from .args import expand_varlist
from .errors import CommandError, DoFileError
from .lexer import DoCommand
from .macros import expand, format_value, numlist, scalar, split_words
from .session import Heading, Session

QUIETLY = ("qui", "quie", "quiet", "quietl", "quietly")
NOISILY = ("n", "no", "noi", "nois", "noisi", "noisil", "noisily")
CAPTURE = ("cap", "capt", "captu", "captur", "capture")
MAX_ITERATIONS = 1_000_000


@dataclass
class Block:
    header: DoCommand
    body: list = field(default_factory=list)
    close_line: int = 0


class ExitDo(Exception):
    """``exit``: stop the do-file here, successfully."""


class _Continue(Exception):
    def __init__(self, brk: bool) -> None:
        self.brk = brk


def build_tree(commands: list[DoCommand], path: str) -> list:
    """Nest the commands between ``... {`` and ``}`` into :class:`Block` items."""
    stack: list[list] = [[]]
    opened: list[Block] = []
    for command in commands:
        text = command.text.strip()
        if command.kind == "command" and text == "}":
            if not opened:
                raise DoFileError(path, command.line, text, "'}' without a matching '{'")
            block = opened.pop()
            block.close_line = command.line
            stack.pop()
        elif command.kind == "command" and text.endswith("{"):
            block = Block(command)
            stack[-1].append(block)
            opened.append(block)
            stack.append(block.body)
        else:
            stack[-1].append(command)
    if opened:
        block = opened[-1]
        raise DoFileError(path, block.header.line, block.header.text, "'{' is never closed by '}'")
    return stack[0]


def _source_lines(block: Block) -> list[str]:
    lines = [block.header.text]
    for item in block.body:
        lines += _source_lines(item) if isinstance(item, Block) else [item.text]
    return [*lines, "}"]


Runner = Callable[[Session, Path, str, int], None]


def run_items(session: Session, path: Path, items: list, run_one: Runner) -> None:
    """Run a list of commands and blocks; a failure becomes a :class:`DoFileError`."""
    pending_else = False  # the previous item was an ``if`` block whose test was true
    for item in items:
        if isinstance(item, DoCommand) and item.kind == "heading":
            session.log.append(Heading(item.text))
            continue
        command = item.header if isinstance(item, Block) else item
        if session.progress is not None:
            session.progress(f"{path.name}:{command.line}: {command.text}")
        echo = session.block_depth == 0 and not session.quiet
        if echo:
            _echo(session, item)
        try:
            if isinstance(item, Block):
                pending_else = _run_block(session, path, item, run_one, pending_else)
            else:
                pending_else = False
                run_one(session, path, expand(session, item.text), item.line)
        except (DoFileError, ExitDo, _Continue):
            raise
        except BayesmixedError as err:
            raise DoFileError(str(path), command.line, command.text, str(err)) from err
        if echo:
            session.write("\n")


def _echo(session: Session, item) -> None:
    if isinstance(item, Block):
        lines = _source_lines(item)
        text = f". {lines[0]}\n" + "".join(
            f"{k:>3}. {ln}\n" for k, ln in enumerate(lines[1:], start=2)
        )
    else:
        text = f". {item.text}\n"
    session.write(text)


def _run_block(session: Session, path: Path, block: Block, run_one: Runner, after_if: bool):
    """Run one block; returns whether it was an ``if`` whose test held (for ``else``)."""
    header = expand(session, block.header.text)[:-1].strip()
    word, _, rest = header.partition(" ")
    rest = rest.strip()
    session.block_depth += 1
    try:
        if word in ("foreach",):
            _foreach(session, path, block, rest, run_one)
        elif word in ("forvalues", "forvalue", "forvalu", "forval", "forva", "forv"):
            _forvalues(session, path, block, rest, run_one)
        elif word == "if":
            holds = _truth(session, rest)
            if holds:
                run_items(session, path, block.body, run_one)
            return holds
        elif word == "else":
            if rest.startswith("if "):
                if after_if:
                    return True
                holds = _truth(session, rest[3:])
                if holds:
                    run_items(session, path, block.body, run_one)
                return holds
            if rest:
                raise StataSyntaxError("else: expected 'else {' or 'else if exp {'")
            if not after_if:
                run_items(session, path, block.body, run_one)
        elif word in QUIETLY and rest in ("", ":"):
            session.quiet += 1
            try:
                run_items(session, path, block.body, run_one)
            finally:
                session.quiet -= 1
        elif word in NOISILY and rest in ("", ":"):
            saved, session.quiet = session.quiet, 0
            try:
                run_items(session, path, block.body, run_one)
            finally:
                session.quiet = saved
        elif word in CAPTURE and rest in ("", ":"):
            _capture(session, lambda: run_items(session, path, block.body, run_one))
        else:
            raise CommandError(
                f"'{header} {{': blocks are foreach, forvalues, if/else, quietly, "
                "noisily and capture"
            )
        return False
    finally:
        session.block_depth -= 1


def _truth(session: Session, text: str) -> bool:
    value = scalar(session, text)
    if isinstance(value, str):
        raise CommandError("if: the condition is a string, not a number")
    return value != 0


def _loop(session: Session, path: Path, block: Block, name: str, values, run_one) -> None:
    session.loop_depth += 1
    try:
        for count, value in enumerate(values):
            if count >= MAX_ITERATIONS:
                raise CommandError(f"loop stopped after {MAX_ITERATIONS} iterations")
            session.locals[name] = value
            try:
                run_items(session, path, block.body, run_one)
            except _Continue as signal:
                if signal.brk:
                    return
    finally:
        session.loop_depth -= 1


def _foreach(session: Session, path: Path, block: Block, rest: str, run_one: Runner) -> None:
    match = re.match(r"([A-Za-z_]\w*)\s+(in|of)\b\s*(.*)$", rest, re.S)
    if match is None:
        raise StataSyntaxError(
            "foreach: write 'foreach x in a b c {' or 'foreach x of varlist|local|global|"
            "numlist ... {'"
        )
    name, how, items = match.groups()
    if how == "in":
        values = split_words(items)
    else:
        kind, _, items = items.partition(" ")
        items = items.strip()
        if "varlist".startswith(kind) and len(kind) >= 3 or kind == "newlist":
            frame = session.require_data()
            values = expand_varlist(items.split(), frame) if kind != "newlist" else items.split()
        elif kind == "local":
            values = split_words(session.locals.get(items, ""))
        elif kind == "global":
            values = split_words(session.globals.get(items, ""))
        elif kind == "numlist":
            values = [format_value(v) for v in numlist(items)]
        else:
            raise StataSyntaxError(
                f"foreach ... of {kind}: use varlist, newlist, local, global or numlist"
            )
    _loop(session, path, block, name, values, run_one)


def _forvalues(session: Session, path: Path, block: Block, rest: str, run_one: Runner) -> None:
    match = re.match(r"([A-Za-z_]\w*)\s*=\s*(\S+)\s*$", rest)
    if match is None or "," in match.group(2) or not re.search(r"[/(]", match.group(2)):
        raise StataSyntaxError("forvalues: write 'forvalues i = 1/5 {' or 'forvalues i = 1(2)9 {'")
    spec = match.group(2)
    values = [format_value(v) for v in numlist(spec)]
    if "/" in spec and len(values) > 1 and float(values[0]) > float(values[1]):
        values = []  # 5/1 runs no times, where the numlist 5/1 counts down
    _loop(session, path, block, match.group(1), values, run_one)


# ------------------------------------------------------------------ prefixes
def run_prefixed(session: Session, text: str, line: int, run: Callable[[str], None]) -> bool:
    """Handle ``capture``/``quietly``/``noisily``/``exit``/``continue``; False if none."""
    match = re.match(r"(\w+)(.*)$", text, re.S)
    if match is None:
        return False
    word, rest = match.group(1), match.group(2).strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
    if word in CAPTURE:
        if not rest:
            raise CommandError("capture: which command?")
        _capture(session, lambda: run(rest))
        return True
    if word in QUIETLY or word in NOISILY:
        if not rest:
            raise CommandError(f"{word}: which command?")
        saved = session.quiet
        session.quiet = saved + 1 if word in QUIETLY else 0
        try:
            run(rest)
        finally:
            session.quiet = saved
        return True
    if word == "exit":
        raise ExitDo()
    if word == "continue":
        if rest.replace(" ", "") not in ("", ",break"):
            raise CommandError("continue: only 'continue' and 'continue, break'")
        if session.loop_depth == 0:
            raise CommandError("continue: not inside a loop")
        raise _Continue(bool(rest))
    return False


def _capture(session: Session, action: Callable[[], None]) -> None:
    """Run quietly; a failure sets ``_rc`` instead of stopping the run."""
    session.quiet += 1
    try:
        action()
        session.rc = 0
    except DoFileError as err:
        session.rc = return_code(err.__cause__ or err)
    except BayesmixedError as err:
        session.rc = return_code(err)
    finally:
        session.quiet -= 1


def return_code(err: BaseException) -> int:
    """Stata's ``r()`` code for an error, as near as the error's class tells."""
    text = str(err)
    if isinstance(err, VariableError):
        return 110 if "already defined" in text else 111
    if isinstance(err, CommandError) and "is not supported by the do-file runner" in text:
        return 199
    if "no log file open" in text:
        return 606
    if "already exists" in text:
        return 602
    if isinstance(err, DataError) or "not found" in text:
        return 601
    if "no dataset in use" in text:
        return 4
    return 198
