"""No code outside the family classes branches on a family's or an me* command's name.

Families are objects (bayesmixed.spec.families): engines, results and postestimation
ask them (``closed_form``, ``uses_trials``, ``ancillary``...) instead of comparing
names, so a new family is its module plus a registry line.  The Stata front end
(bayesmixed/syntax) is exempt: it translates the user's words into those objects.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bayesmixed
from bayesmixed.spec.family import REGISTRY, glm_commands

PACKAGE = Path(bayesmixed.__file__).parent
EXEMPT = ("spec/families/", "spec/family.py", "syntax/")


def name_comparisons(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, code) of each comparison with a constant from ``names``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            hits = [c for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in names]
            if hits:
                out.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Dict):  # tables keyed by families' names
            # two or more: "gamma" alone is also a prior distribution's name
            keyed = [k for k in node.keys if isinstance(k, ast.Constant) and k.value in names]
            if len(keyed) >= 2:
                out.append((node.lineno, ast.unparse(node)[:80]))
    return out


def test_the_walker_catches_a_name_branch_and_a_name_table():
    names = {"poisson"}
    assert name_comparisons("if fam.name == 'poisson':\n    pass\n", names)
    assert name_comparisons("T = {'poisson': 1, 'gamma': 2}\n", names | {"gamma"})
    assert not name_comparisons("PRIORS = {'gamma': 1, 'normal': 2}\n", names | {"gamma"})
    assert not name_comparisons("if fam.binary:\n    pass\n", names)


def test_no_module_outside_the_families_branches_on_family_names():
    names = set(REGISTRY) | set(glm_commands())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(EXEMPT):
            continue
        found += [
            f"{rel}:{line}: {code}" for line, code in name_comparisons(path.read_text(), names)
        ]
    assert not found, "branching on family names:\n" + "\n".join(found)
