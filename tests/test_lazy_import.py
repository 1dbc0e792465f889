"""``import bayesmixed`` leaves scipy.stats (~0.5 s) for the first result that needs it and
formulae (~0.34 s, with scipy.optimize) for the first lme4 formula."""

from __future__ import annotations

import subprocess
import sys

from bayesmixed.lazy_import import LazyModule


def test_import_bayesmixed_does_not_import_scipy_stats_or_formulae():
    code = (
        "import sys, bayesmixed\n"
        "print([m in sys.modules for m in ('scipy.stats', 'formulae', 'scipy.optimize')])\n"
        "import pandas as pd\n"
        "d = pd.DataFrame({'y': [1.0, 2.0, 4.0, 3.0], 'x': [0.0, 1.0, 2.0, 3.0]})\n"
        "bayesmixed.syntax.formula_to_spec('y ~ x', d)\n"
        "print('formulae' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[False, False, False]", "True"]


def test_lazy_module_imports_at_first_attribute():
    lazy = LazyModule("json")
    assert "not imported yet" in repr(lazy)
    assert lazy.dumps([1]) == "[1]"
    assert "imported" in repr(lazy) and "not" not in repr(lazy)
