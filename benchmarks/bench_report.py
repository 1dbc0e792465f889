"""Machine facts and the printed comparison table of ``lmm_bench.py``.

Kept apart from the timing code so the table can be re-rendered from a saved JSON report:
``python benchmarks/bench_report.py report.json``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def _blas() -> list[dict]:
    """BLAS/LAPACK libraries NumPy and SciPy loaded, via threadpoolctl when installed."""
    import numpy  # noqa: F401  (load the libraries threadpoolctl reports)
    import scipy.linalg  # noqa: F401

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed; see numpy.show_config()"}]
    keys = ("internal_api", "version", "num_threads", "architecture", "filepath")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


def machine_facts() -> dict:
    """What a reader needs to judge the timings: CPU, cores, memory, versions, BLAS."""
    import numpy
    import pandas
    import scipy

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "mem_gib": _mem_total_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "bayesmixed": _bayesmixed_version(),
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "blas": _blas(),
    }


def _bayesmixed_version() -> str:
    try:
        import bayesmixed

        return bayesmixed.__version__
    except Exception as exc:
        return f"not importable ({exc})"


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _row(name: str, ours: dict, lme4: dict) -> list[str]:
    t_o, t_r = ours.get("seconds"), lme4.get("seconds")
    ll_o, ll_r = ours.get("loglik"), lme4.get("loglik")
    ratio = t_r / t_o if t_o and t_r else None
    diff = ll_o - ll_r if ll_o is not None and ll_r is not None else None
    reps = f"{ours.get('reps', '-')}/{lme4.get('reps', '-')}"
    via = ours.get("api", "-")
    nobs = lme4.get("nobs") or ours.get("nobs")
    return [
        name,
        str(nobs or "-"),
        _num(t_o, ".3f"),
        _num(t_r, ".3f"),
        _num(ratio, ".1f"),
        _num(ll_o, ".4f"),
        _num(ll_r, ".4f"),
        _num(diff, ".1e"),
        reps,
        via,
    ]


HEADER = [
    "model",
    "n",
    "ours (s)",
    "lme4 (s)",
    "lme4/ours",
    "loglik ours",
    "loglik lme4",
    "diff",
    "reps",
    "via",
]


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    fmt = [f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths)]
    lines = ["  ".join(f.format(c) for f, c in zip(fmt, r, strict=True)) for r in [HEADER, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _machine_lines(report: dict) -> list[str]:
    m = report["machine"]
    mem = f", {m['mem_gib']:.0f} GiB" if m.get("mem_gib") else ""
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable){mem},"
        f" load average {_num(m.get('load_avg_1min'), '.2f')} at the end (other work skews times)",
        f"python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, pandas {m['pandas']},"
        f" bayesmixed {m['bayesmixed']}",
    ]
    for b in m["blas"]:
        if "internal_api" in b:
            lines.append(
                f"BLAS (ours): {b['internal_api']} {b['version']}, {b['num_threads']} threads,"
                f" {b['architecture']}"
            )
        else:
            lines.append(f"BLAS (ours): {b.get('note')}")
    r = report.get("r_meta") or {}
    if r:
        lines.append(f"{r.get('r_version')}, lme4 {r.get('lme4')}, Matrix {r.get('matrix')}")
        lines.append(f"BLAS (R): {r.get('blas')}; LAPACK: {r.get('lapack')}")
    return lines


def _notes(report: dict) -> list[str]:
    """Failures and warnings, each distinct message once with the models it concerns."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for side in ("ours", "lme4"):
        for name in report["models"]:
            rec = report[side].get(name, {})
            if rec.get("error"):
                grouped.setdefault((f"{side} failed", rec["error"]), []).append(name)
            for w in rec.get("warnings") or []:
                grouped.setdefault((f"{side} warned", w), []).append(name)
            if rec.get("loglik_bobyqa") is not None:
                msg = f"refitted with bobyqa (untimed): loglik {rec['loglik_bobyqa']:.4f}"
                grouped.setdefault((f"{side} did not converge", msg), []).append(name)
    notes = [f"skipped: {p}" for p in report.get("problems", [])]
    for (what, msg), names in grouped.items():
        where = "all models" if len(names) == len(report["models"]) > 1 else ", ".join(names)
        notes.append(f"{what} ({where}): {msg}")
    return notes


def _memory_lines(report: dict) -> list[str]:
    """Peak RSS per child process: one for the workshop group, one per large model."""
    lines = []
    for side in ("ours", "lme4"):
        by_process: dict[str, tuple[float, list[str]]] = {}
        for name in report["models"]:
            rec = report[side].get(name, {})
            if "peak_mb" in rec:
                key = rec.get("process", name)
                by_process.setdefault(key, (rec["peak_mb"], []))[1].append(name)
        for mb, names in by_process.values():
            label = names[0] if len(names) == 1 else f"{len(names)} models in one process"
            lines.append(f"peak RSS {side:4s} {mb:8.0f} MiB  ({label})")
    return lines


def render(report: dict) -> str:
    """The report as text: machine, table, peak memory, notes."""
    rows = [
        _row(name, report["ours"].get(name, {}), report["lme4"].get(name, {}))
        for name in report["models"]
    ]
    parts = _machine_lines(report) + ["", _table(rows), ""] + _memory_lines(report)
    notes = _notes(report)
    if notes:
        parts += ["", "notes:"] + [f"  {n}" for n in notes]
    parts.append(
        "times: median of reps (ours/lme4); diff = loglik ours - loglik lme4;"
        " via: the bayesmixed entry point that fitted"
    )
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
