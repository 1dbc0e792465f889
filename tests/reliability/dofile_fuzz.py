"""A seeded generator of broken do-files, for the do-file runner's fuzz test.

Each do-file mixes what users really write -- the workshop's own commands
(``tutorials/workshop.do``, maximum likelihood only: no NUTS in a fuzzer) -- with what
goes wrong in practice: random tokens, a command cut or edited, quotes left open or
typed as curly quotes, comments nested deep or never closed, expressions nested
thousands of parentheses deep, do-files that call themselves, ``///`` chains, and the
encodings editors produce (Latin-1, Windows-1252, UTF-16, a byte-order mark, stray
bytes).  The bundled datasets are swapped for tiny copies so a valid fit costs
milliseconds.
"""

from __future__ import annotations

import random
from pathlib import Path

import bayesmixed as bm

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "tutorials" / "workshop.do"
# groups kept in each tiny dataset: enough for a mixed model to fit, small enough to be fast
TINY = {
    "jsp2": ("school", 6),
    "productivity": ("region", 3),
    "grunfeld": ("company", 5),
    "rats": ("litter", 8),
    "bangladesh": ("district", 6),
}
TOKENS = (
    "||", "|", ":", ",", "(", ")", "[", "]", '"', "'", "`", "///", "//", "/*", "*/", "*",
    "#", "##", "i.", "c.", "ib2.", "R.", "_all", "if", "in", "==", "&", "!", "~", "=",
    "1/5", ".", ".5", "-3e9", "1e999", "nocons", "reml", "cov(un)", "vce(cluster", "x",
    "math5", "school", "weight", "mixed", "meglm", "regress", "predict", "estimates",
    "use", "do", "quietly", "generate", "sort", "\t", "\u00e9", "\u201c", "\u2212", "\x00",
    "\ufeff", "\u202e", "\U0001f600", "_b[x]", "e(N)", "$global", "`local'", "%9.2f",
)  # fmt: skip
SLOW = (
    "graph",
    "twoway",
    "scatter",
    "line",
    "melogit c_use urban age child1 child2 child3 || district: urban",
)
ENCODINGS = ("utf-8", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")


def workshop_commands() -> list[str]:
    """The workshop's commands, one logical command a line, without ``bayes:`` fits."""
    from bayesmixed.dofile.lexer import split_commands

    commands = split_commands(WORKSHOP.read_text(encoding="utf-8"))
    return [c.text for c in commands if c.kind == "command" and "bayes" not in c.text]


def write_tiny_datasets(folder: Path) -> None:
    """``NAME_tiny.csv`` for each bundled dataset: its first few groups."""
    for name, (group, keep) in TINY.items():
        frame = bm.datasets.load(name)
        first = sorted(frame[group].unique())[:keep]
        frame[frame[group].isin(first)].to_csv(folder / f"{name}_tiny.csv", index=False)


def tiny(command: str) -> str:
    """``use jsp2, clear`` -> ``use "jsp2_tiny.csv", clear`` (other commands unchanged)."""
    words = command.split(None, 1)
    if words and words[0] == "use" and len(words) == 2:
        name, _, rest = words[1].partition(",")
        if name.strip() in TINY:
            return f'use "{name.strip()}_tiny.csv", clear'
    return command


class DoFileFuzzer:
    """Seeded do-files; :meth:`make` returns the file's bytes and the kinds of damage done."""

    def __init__(self, seed: int, commands: list[str]) -> None:
        self.rng = random.Random(seed)
        self.commands = commands

    def make(self, name: str) -> tuple[bytes, list[str]]:
        rng = self.rng
        sections = [i for i, c in enumerate(self.commands) if c.startswith("use ")]
        if rng.random() < 0.7:  # from a section's start: later commands find what they need
            start = rng.choice(sections)
        else:
            start = rng.randrange(len(self.commands))
        lines = [tiny(c) for c in self.commands[start : start + rng.randint(1, 10)]]
        if rng.random() < 0.85:  # a figure costs a second or two; a few files draw them
            lines = [c for c in lines if not c.startswith(SLOW)] or lines[:1]
        if start not in sections and rng.random() < 0.7:
            section = max([i for i in sections if i < start], default=sections[0])
            lines.insert(0, tiny(self.commands[section]))
        damage = rng.sample(list(self.DAMAGE), k=rng.choice([0, 0, 0, 1, 1, 2, 3]))
        for kind in damage:
            lines = self.DAMAGE[kind](self, lines, name)
        encoding = rng.choice(ENCODINGS)
        raw = "\n".join(lines).encode(encoding, errors="replace")
        if rng.random() < 0.1:
            raw = self._stray_bytes(raw)
            damage.append("bytes")
        return raw, damage + [encoding]

    # ---- kinds of damage, each (lines, file name) -> lines -----------------------------

    def _tokens(self, lines: list[str], name: str) -> list[str]:
        rng = self.rng
        soup = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.5:
            soup = f"{rng.choice(['mixed', 'regress', 'summarize', 'generate y ='])} {soup}"
        lines.insert(rng.randrange(len(lines) + 1), soup)
        return lines

    def _edit(self, lines: list[str], name: str) -> list[str]:
        rng = self.rng
        i = rng.randrange(len(lines))
        words = lines[i].split(" ")
        j = rng.randrange(len(words))
        action = rng.choice(["drop", "dup", "token", "cut"])
        if action == "drop" and len(words) > 1:
            del words[j]
        elif action == "dup":
            words.insert(j, words[j])
        elif action == "token":
            words[j] = rng.choice(TOKENS)
        else:
            words = words[: j + 1]
            words[-1] = words[-1][: rng.randint(0, len(words[-1]))]
        lines[i] = " ".join(words)
        return lines

    def _quotes(self, lines: list[str], name: str) -> list[str]:
        rng = self.rng
        i = rng.randrange(len(lines))
        quote = rng.choice(['"', "\u201c", "\u201d", "`", "'", '""', '"a b"'])
        at = rng.randint(0, len(lines[i]))
        lines[i] = lines[i][:at] + quote + lines[i][at:]
        return lines

    def _comments(self, lines: list[str], name: str) -> list[str]:
        rng = self.rng
        depth = rng.choice([1, 3, 50, 2000])
        close = depth if rng.random() < 0.7 else rng.randrange(depth)
        lines.insert(rng.randrange(len(lines) + 1), "/* " * depth + "x" + " */" * close)
        if rng.random() < 0.3:
            lines.insert(rng.randrange(len(lines) + 1), "summarize ///\n" * rng.randint(1, 300))
        return lines

    def _parens(self, lines: list[str], name: str) -> list[str]:
        rng = self.rng
        depth = rng.choice([5, 60, 400, 5000])
        inner = "(" * depth + "1" + ")" * (depth if rng.random() < 0.8 else depth - 1)
        command = rng.choice(
            [f"generate z{depth} = {inner}", f"summarize if {inner}", f"regress math5 if {inner}"]
        )
        lines.insert(rng.randrange(len(lines) + 1), command)
        return lines

    def _do(self, lines: list[str], name: str) -> list[str]:
        rng = self.rng
        target = rng.choice([name, name.removesuffix(".do"), "missing_file", '"a b.do"', ""])
        lines.insert(rng.randrange(len(lines) + 1), f"{rng.choice(['do', 'run'])} {target}")
        return lines

    def _stray_bytes(self, raw: bytes) -> bytes:
        rng = self.rng
        at = rng.randint(0, len(raw))
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return raw[:at] + junk + raw[at:]

    DAMAGE = {
        "tokens": _tokens,
        "edit": _edit,
        "quotes": _quotes,
        "comments": _comments,
        "parens": _parens,
        "do": _do,
    }
