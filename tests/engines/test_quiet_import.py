"""nutpie without ArviZ's plotting stack, and no import deadlock with the kernels' thread.

Each check runs in a fresh interpreter: what is being tested is what a new process imports
(and in which order), which this test process has long since done.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

needs_nutpie = pytest.mark.skipif(
    importlib.util.find_spec("nutpie") is None, reason="nutpie is not installed"
)


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_nutpie
def test_nutpie_imports_without_matplotlib_and_arviz_stays_real():
    found = run(
        "import json, sys\n"
        "from bayesmixed.engines.quiet_import import import_nutpie\n"
        "nutpie = import_nutpie()\n"
        "before = {m: m in sys.modules for m in ('matplotlib', 'arviz_plots', 'arviz')}\n"
        "import arviz\n"
        "s = sys.modules['nutpie.sample']\n"
        "real = type(arviz).__name__ == 'module' and hasattr(arviz, 'from_dict')\n"
        "same = s.arviz.from_dict is arviz.from_dict and s.arviz.__version__ == arviz.__version__\n"
        "print(json.dumps({**before, 'real': real, 'same': same, 'ok': nutpie is not None}))\n"
    )
    assert found == {"matplotlib": False, "arviz_plots": False, "arviz": False,
                     "real": True, "same": True, "ok": True}  # fmt: skip


@needs_nutpie
def test_kernels_load_while_another_thread_imports_nutpie():
    """Seen before the import lock: the caller's numba import deadlocked with nutpie's in
    the kernels' thread, Python raised _DeadlockError in one, and the compiled density was
    silently dropped (a 20 s fit instead of 0.6 s, other draws for the seed).  Without the
    lock (``fast_kernels.IMPORT_LOCK`` replaced by a null context) this fails every time."""
    code = (
        "import json, threading\n"
        "from bayesmixed.engines.bayes import fast_kernels\n"
        "from bayesmixed.engines.quiet_import import import_nutpie\n"
        "t = threading.Thread(target=import_nutpie)\n"
        "t.start()\n"
        "k = fast_kernels.kernels()\n"
        "t.join()\n"
        "print(json.dumps({'kernels': k is not None, 'nutpie': import_nutpie() is not None}))\n"
    )
    assert run(code) == {"kernels": True, "nutpie": True}
