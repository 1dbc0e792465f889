"""The import rule of ``bayesmixed``, checked on the source with ``ast`` (issue 18, item 4).

Three checks, each naming the modules and the line:

(a) no import cycle between bayesmixed modules at module level;
(b) no private name (one leading underscore, not a dunder) imported from another module,
    at module level or inside a function;
(c) no module-level import from a later stage (the table below).

What counts as an edge: ``import bayesmixed.x`` and ``from .x import name`` at module level,
including inside ``if``/``try``/``with`` and class bodies (they run at import time);
``from .pkg import name`` is an edge to ``pkg.name`` when that is a submodule, else to
``pkg/__init__``.  Imports inside functions run later and do not count for (a) and (c);
imports under ``if TYPE_CHECKING:`` never run and do not count at all except for (b).

The stages, lowest first.  A module may import its own stage and earlier ones at module
level.  The one allowed upward import (documented in the package docstring): a result
method that imports postestimation -- or ``io`` for ``save`` -- inside the method, so
that ``r.predict()`` works while postestimation builds on results; (c) does not look
inside functions, so the exception needs no entry here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import bayesmixed

#: (stage, top-level modules or packages of bayesmixed in it, why it sits there)
STAGES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("leaves", ("errors", "validate", "maths", "lazy_import", "bayes_options", "datasets",
                "version"),
     "errors, validators, shared maths, option tables, data files: used by every stage"),
    ("spec", ("spec",), "backend-free domain objects (ModelSpec, structures, families)"),
    ("syntax", ("syntax",), "compiles Stata text and formulas into spec objects, so above spec"),
    ("design", ("design",), "spec + data -> Design, the only thing engines read"),
    ("engines", ("engines",), "fit a Design by ML/REML, Laplace/quadrature or PyMC"),
    ("results", ("results",), "what the engines estimate, as data, and its rendering"),
    ("fitting", ("fitting",), "turns an engine's estimates into a result (engines cannot)"),
    ("simulate", ("simulate",), "draws responses from a fitted result"),
    ("postestimation", ("postestimation",), "predict, lrtest, estat, test: read results"),
    ("plot", ("plot",), "figures of results and of postestimation output"),
    ("resampling", ("resampling",), "refits simulated responses; builds on simulate and lrtest"),
    ("io", ("io",), "saves and loads results, with their designs and specs"),
    ("api", ("api",), "the user's calls: syntax -> design -> engine -> result, lrtest dispatch"),
    ("report", ("report",), "renders a run's records (models, output, figures) as HTML"),
    ("dofile", ("dofile",), "runs do-files through api, postestimation, plot; writes the report"),
    ("entry", ("cli", "__main__", "tutorials", ""),
     "command line, the package root and the tutorials: may import everything"),
)  # fmt: skip

ROOT = Path(bayesmixed.__file__).parent


# -- the walker -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    """One imported module (and name, for ``from`` imports) as seen from ``source``."""

    source: str
    target: str
    name: str | None
    line: int
    module_level: bool
    type_checking: bool

    def where(self) -> str:
        what = self.target if self.name is None else f"{self.target} ({self.name})"
        return f"{self.source}:{self.line} imports {what}"


def module_map(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if path.name != "__init__.py":
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, modules: dict[str, Path], package: str) -> list[Import]:
    """Every import of ``package`` modules in one file, with where it runs."""
    out: list[Import] = []

    def visit(node: ast.AST, module_level: bool, type_checking: bool) -> None:
        if isinstance(node, ast.ImportFrom):
            base = _base(module, path, node)
            if base == package or base.startswith(package + "."):
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in modules else base
                    out.append(
                        Import(module, target, alias.name, node.lineno, module_level, type_checking)
                    )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(package + "."):
                    out.append(
                        Import(module, alias.name, None, node.lineno, module_level, type_checking)
                    )
        in_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, module_level, True)
            for child in node.orelse:
                visit(child, module_level, type_checking)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, module_level and not in_function, type_checking)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), True, False)
    return out


def all_imports(root: Path, package: str) -> tuple[dict[str, Path], list[Import]]:
    modules = module_map(root, package)
    found = [imp for m, p in modules.items() for imp in imports_of(m, p, modules, package)]
    return modules, found


# -- the three checks -----------------------------------------------------------------------------
def _runtime_edges(found: list[Import], modules: dict[str, Path]) -> dict[str, list[Import]]:
    edges: dict[str, list[Import]] = {m: [] for m in modules}
    for imp in found:
        if imp.module_level and not imp.type_checking and imp.target in modules:
            if imp.target != imp.source:
                edges[imp.source].append(imp)
    return edges


def _strong_components(nodes: list[str], edges: dict[str, list[Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (deep packages must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in nodes:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            targets = [e.target for e in edges[v]]
            if i < len(targets):
                work.append((v, i + 1))
                w = targets[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            for w in targets:
                if w in on_stack:
                    low[v] = min(low[v], low[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def find_cycles(modules: dict[str, Path], found: list[Import]) -> list[str]:
    """One message per module-level import cycle, listing the imports that close it."""
    edges = _runtime_edges(found, modules)
    messages = []
    for comp in _strong_components(sorted(modules), edges):
        inside = [e.where() for m in comp for e in edges[m] if e.target in comp]
        messages.append(f"import cycle between {', '.join(comp)}: " + "; ".join(inside))
    return messages


def _private(name: str | None) -> bool:
    return (
        bool(name) and name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
    )


def find_private(found: list[Import]) -> list[str]:
    """Private names imported from another module, wherever the import sits."""
    return [
        f"{imp.where()}: a private name of another module; give it a public name"
        for imp in found
        if _private(imp.name) and imp.target != imp.source
    ]


def stage_of(module: str, package: str, ranks: dict[str, int]) -> int:
    top = module[len(package) + 1 :].split(".", 1)[0] if module != package else ""
    if top not in ranks:
        raise KeyError(f"{module} belongs to no stage: add '{top}' to STAGES")
    return ranks[top]


def find_backward(found: list[Import], package: str, stages=STAGES) -> list[str]:
    """Module-level imports of a later stage than the importer's."""
    ranks = {top: i for i, (_, tops, _) in enumerate(stages) for top in tops}
    names = [stage for stage, _, _ in stages]
    messages = []
    for imp in found:
        if not imp.module_level or imp.type_checking:
            continue
        src, dst = stage_of(imp.source, package, ranks), stage_of(imp.target, package, ranks)
        if dst > src:
            messages.append(
                f"{imp.where()}: stage {names[src]} imports the later stage {names[dst]}"
            )
    return messages


# -- the package ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package():
    return all_imports(ROOT, "bayesmixed")


def test_no_module_level_import_cycles(package):
    modules, found = package
    cycles = find_cycles(modules, found)
    assert not cycles, "\n".join(cycles)


def test_no_private_names_imported_across_modules(package):
    _, found = package
    private = find_private(found)
    assert not private, "\n".join(private)


def test_no_module_level_import_from_a_later_stage(package):
    _, found = package
    backward = find_backward(found, "bayesmixed")
    assert not backward, "\n".join(backward)


def test_every_module_has_a_stage(package):
    modules, _ = package
    ranks = {top: i for i, (_, tops, _) in enumerate(STAGES) for top in tops}
    for module in modules:
        stage_of(module, "bayesmixed", ranks)  # raises naming the module


# -- the walker catches what it should (synthetic packages) ----------------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


def test_a_cycle_is_caught_with_its_lines(tmp_path):
    pkg = _write(
        tmp_path,
        {"__init__.py": "", "a.py": "import os\nfrom .b import f\n", "b.py": "from . import a\n"},
    )
    cycles = find_cycles(*all_imports(pkg, "pkg"))
    assert len(cycles) == 1
    assert "pkg.a, pkg.b" in cycles[0]
    assert "pkg.a:2 imports pkg.b (f)" in cycles[0] and "pkg.b:1 imports pkg.a (a)" in cycles[0]


def test_function_and_type_checking_imports_make_no_cycle(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from .b import f\n",
            "b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .a import g\n"
                "def f():\n    from .a import h\n"
            ),
        },
    )
    assert find_cycles(*all_imports(pkg, "pkg")) == []


def test_a_cycle_through_a_package_init_is_caught(tmp_path):
    # ``from .sub import name`` is an edge to sub/__init__ when name is not a submodule
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "from ..c import k\n",
            "sub/x.py": "",
            "c.py": "from .sub import helper\nfrom .sub import x\n",
        },
    )
    modules, found = all_imports(pkg, "pkg")
    assert {i.target for i in found if i.source == "pkg.c"} == {"pkg.sub", "pkg.sub.x"}
    assert len(find_cycles(modules, found)) == 1


def test_a_private_import_is_caught_even_inside_a_function(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "from .a import __version__\n",
            "a.py": "__version__ = '1'\ndef _helper():\n    pass\n",
            "b.py": "def f():\n    from .a import _helper\n",
            "c.py": "from pkg.a import _helper as h\n",
        },
    )
    private = find_private(all_imports(pkg, "pkg")[1])
    assert private == [
        "pkg.b:2 imports pkg.a (_helper): a private name of another module; give it a public name",
        "pkg.c:1 imports pkg.a (_helper): a private name of another module; give it a public name",
    ]


def test_a_backward_import_is_caught_but_not_inside_a_function(tmp_path):
    stages = (("low", ("low",), ""), ("high", ("high",), ""), ("top", ("",), ""))
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "from .high import run\n",
            "low/__init__.py": "",
            "low/model.py": "from ..high.run import go\ndef later():\n    from ..high import run\n",
            "high/__init__.py": "",
            "high/run.py": "from ..low.model import later\n",
        },
    )
    backward = find_backward(all_imports(pkg, "pkg")[1], "pkg", stages)
    assert backward == [
        "pkg.low.model:1 imports pkg.high.run (go): stage low imports the later stage high"
    ]


def test_a_module_outside_the_table_is_named(tmp_path):
    pkg = _write(tmp_path, {"__init__.py": "", "stray.py": "from . import other\n", "other.py": ""})
    with pytest.raises(KeyError, match="pkg.stray belongs to no stage"):
        find_backward(all_imports(pkg, "pkg")[1], "pkg", (("top", ("",), ""),))
