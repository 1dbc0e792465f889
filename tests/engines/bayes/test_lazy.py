"""Fits on our own densities never import PyMC or PyTensor (~0.55 s of every start-up).

Each case runs in a fresh interpreter, since the test session itself has PyMC loaded.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bayesmixed.engines.bayes.lazy import LazyModule

SCRIPT = """
import sys
import bayesmixed as bm
data = bm.datasets.load({data!r})
r = bm.stata({command!r}, data, progressbar=False, draws=30, tune=30, chains=1, seed=1{extra})
loaded = [m for m in ("pymc", "pytensor") if m in sys.modules]
print("LOADED", loaded, r.sampler)
"""

CASES = [
    ("jsp2", "bayes: mixed math5 math3 || school: math3, cov(uns)", ""),
    ("jsp2", "mixed math5 math3 || school: math3", ', method="laplace", priors="flat"'),
    ("rats", "bayes: mixed weight i.dose size female || litter:, "
             "residuals(independent, by(female))", ""),
    ("bangladesh", "bayes: melogit c_use urban age || district:", ""),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("data", "command", "extra"), CASES, ids=[c[0] for c in CASES])
def test_fits_on_our_densities_leave_pymc_unimported(data, command, extra):
    code = SCRIPT.format(data=data, command=command, extra=extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED")][-1]
    assert line.startswith("LOADED []"), line


def test_lazy_module_imports_on_first_attribute():
    lazy = LazyModule("json")
    assert "not imported" in repr(lazy)
    assert lazy.dumps([1]) == "[1]"
    assert "imported" in repr(lazy) and "not" not in repr(lazy)
