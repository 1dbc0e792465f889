"""``import bayesmixed`` leaves scipy.stats (~0.5 s) for the first result that needs it."""

from __future__ import annotations

import subprocess
import sys

from bayesmixed.lazy_import import LazyModule


def test_import_bayesmixed_does_not_import_scipy_stats():
    code = "import sys, bayesmixed; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_module_imports_at_first_attribute():
    lazy = LazyModule("json")
    assert "not imported yet" in repr(lazy)
    assert lazy.dumps([1]) == "[1]"
    assert "imported" in repr(lazy) and "not" not in repr(lazy)
