"""Time bayesmixed's ML/REML fits against lme4 on the same data, and compare log likelihoods.

    .venv/bin/python benchmarks/lmm_bench.py                 # everything (about 2 minutes)
    .venv/bin/python benchmarks/lmm_bench.py --no-large      # workshop models only
    .venv/bin/python benchmarks/lmm_bench.py --json out.json # also keep the raw numbers

Models (``bench_models.py``): the workshop's linear mixed models and an InstEval-sized
simulated crossed model (``simulate_crossed.py``).  Every data set is written to CSV in one
directory and both sides read those files, so R and Python fit identical numbers.

Each side fits in child processes: the workshop models together, each large model alone, so
that the child's peak resident memory (``ru_maxrss`` from ``os.wait4``) is that model's.  The
timing rule is the same on both sides: a first fit faster than ``--warm-limit`` seconds is a
warm-up and is discarded; fits then repeat while the total stays under ``--budget`` seconds,
at most ``--max-reps`` times; the median is reported.  A side that cannot fit a model (API
not there yet, R missing, an error) is skipped with its message, never guessed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_report
from bench_models import MODELS, BenchModel, by_name, write_json
from simulate_crossed import CrossedTruth, simulate

HERE = Path(__file__).resolve().parent
WORKSHOP_DATASETS = ("jsp2", "productivity", "grunfeld", "rats")


# -- fitting (runs inside a worker process) ------------------------------------------------
def _ours_calls(model: BenchModel, data):
    """Entry points to try, preferred first: (api name, zero-argument fitting call)."""
    entry = {api: _entry_point(api) for api in ("stata", "fit")}
    missing = [reason for _, reason in entry.values() if reason]
    entry = {api: found for api, (found, _) in entry.items()}

    def via_stata():
        return entry["stata"](model.stata, data=data)

    def via_fit():
        return entry["fit"](model.formula, data=data, reml=model.reml)

    calls = {"stata": via_stata, "fit": via_fit}
    order = [model.prefer] + [k for k in calls if k != model.prefer]
    return [(api, calls[api]) for api in order if entry[api] is not None], missing


def _entry_point(name: str):
    """``bayesmixed.<name>``, else ``bayesmixed.api.<name>``: (callable or None, why not)."""
    import bayesmixed

    found = getattr(bayesmixed, name, None)
    if found is not None:
        return found, ""
    try:
        from bayesmixed import api
    except Exception as exc:
        return None, f"bayesmixed.{name} missing (import bayesmixed.api: {exc})"
    found = getattr(api, name, None)
    return found, "" if found is not None else f"bayesmixed.{name} does not exist yet"


def _first_working_fit(model: BenchModel, data):
    """Fit once through the first entry point that works; its time is the first timing."""
    available, errors = _ours_calls(model, data)
    for api, call in available:
        start = time.perf_counter()
        try:
            result = call()
            loglik = float(result.loglik)
        except Exception as exc:  # a benchmark reports failures, it does not stop on them
            errors.append(f"{api}: {type(exc).__name__}: {exc}")
            continue
        return api, call, time.perf_counter() - start, result, loglik
    raise RuntimeError("; ".join(errors))


def time_ours(model: BenchModel, data_dir: Path, opts: argparse.Namespace) -> dict:
    """Time one model by the benchmark's rule; return a record like lme4_bench.R's."""
    import pandas as pd

    data = pd.read_csv(data_dir / f"{model.dataset}.csv")
    api, call, first, result, loglik = _first_working_fit(model, data)
    times = [] if first < opts.warm_limit else [first]
    while not times or (len(times) < opts.max_reps and sum(times) + times[-1] <= opts.budget):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return {
        "name": model.name,
        "api": api,
        "seconds": statistics.median(times),
        "times": times,
        "reps": len(times),
        "loglik": float(result.loglik),
        "nobs": len(data),
        "error": None,
    }


def worker(opts: argparse.Namespace) -> None:
    """Fit ``--only`` models in this process and write their records to ``--out``."""
    try:
        import bayesmixed  # noqa: F401  (fail once, clearly, rather than per model)
    except Exception as exc:
        records = [{"name": n, "error": f"import bayesmixed failed: {exc}"} for n in opts.only]
    else:
        records = []
        for model in by_name(opts.only):
            print(f"ours: {model.name}", file=sys.stderr)
            try:
                records.append(time_ours(model, Path(opts.data_dir), opts))
            except Exception as exc:
                print(f"ours: skipped {model.name}: {exc}", file=sys.stderr)
                records.append({"name": model.name, "error": str(exc)})
    Path(opts.out).write_text(json.dumps({"results": records}))


# -- orchestration (runs in the parent) -----------------------------------------------------
def run_child(cmd: list[str], timeout: float) -> tuple[int, float]:
    """Run ``cmd``; return its exit status and peak resident memory in MiB (Linux ru_maxrss)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return -9, usage.ru_maxrss / 1024
        time.sleep(0.05)


def run_side(side: str, models: list[BenchModel], data_dir: Path, opts) -> tuple[dict, dict]:
    """Fit ``models`` on one side in one child process: (records by model name, R's facts)."""
    out = data_dir / f"{side}-{len(list(data_dir.glob(f'{side}-*.json')))}.json"
    names = ",".join(m.name for m in models)
    common = ["--budget", str(opts.budget), "--max-reps", str(opts.max_reps)]
    common += ["--warm-limit", str(opts.warm_limit), "--out", str(out)]
    if side == "ours":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--only", names]
        cmd += ["--data-dir", str(data_dir), *common]
    else:
        cmd = [opts.rscript, str(HERE / "lme4_bench.R"), "--models", str(data_dir / "models.json")]
        cmd += ["--data-dir", str(data_dir), "--only", names, *common]
    rc, peak_mb = run_child(cmd, opts.timeout)
    if rc != 0 or not out.exists():
        why = "timed out" if rc == -9 else f"exited with status {rc}"
        return {m.name: {"name": m.name, "error": f"{side} process {why}"} for m in models}, {}
    payload = json.loads(out.read_text())
    records = {r["name"]: r | {"peak_mb": peak_mb, "process": out.stem} for r in payload["results"]}
    return records, payload.get("meta", {})


def write_datasets(data_dir: Path, opts) -> list[str]:
    """Write every data set the chosen models need; return messages for those that failed."""
    problems = []
    needed = {m.dataset for m in opts.models}
    if "crossed" in needed:
        truth = CrossedTruth().scaled(opts.scale)
        simulate(opts.seed, truth).to_csv(data_dir / "crossed.csv", index=False)
    for name in sorted(needed & set(WORKSHOP_DATASETS)):
        try:
            from bayesmixed import datasets

            datasets.load(name).to_csv(data_dir / f"{name}.csv", index=False)
        except Exception as exc:
            problems.append(f"data set {name}: {type(exc).__name__}: {exc}")
    return problems


def groups(models: list[BenchModel]) -> list[list[BenchModel]]:
    """Workshop models share a process; each large model gets its own (for its peak memory)."""
    small = [m for m in models if not m.large]
    return ([small] if small else []) + [[m] for m in models if m.large]


def run_all(opts, data_dir: Path) -> dict:
    problems = write_datasets(data_dir, opts)
    for p in problems:
        print(f"skip: {p}", file=sys.stderr)
    write_json(list(opts.models), data_dir / "models.json")
    sides = []
    if not opts.no_ours:
        sides.append("ours")
    if not opts.no_r:
        if opts.rscript and shutil.which(opts.rscript):
            sides.append("lme4")
        else:
            problems.append(f"Rscript not found ({opts.rscript!r}); lme4 column left empty")
    results: dict[str, dict] = {side: {} for side in ("ours", "lme4")}
    r_meta: dict = {}
    for side in sides:
        for group in groups(list(opts.models)):
            records, meta = run_side(side, group, data_dir, opts)
            results[side].update(records)
            r_meta = r_meta or meta
    return {
        "machine": bench_report.machine_facts(),
        "r_meta": r_meta,
        "problems": problems,
        "models": [m.name for m in opts.models],
        "ours": results["ours"],
        "lme4": results["lme4"],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", type=lambda s: s.split(","), help="comma-separated model names")
    ap.add_argument("--no-large", action="store_true", help="skip the 73k crossed models")
    ap.add_argument("--no-workshop", action="store_true", help="skip the workshop models")
    ap.add_argument("--no-r", action="store_true", help="do not run lme4")
    ap.add_argument("--no-ours", action="store_true", help="do not run bayesmixed")
    ap.add_argument("--rscript", default="Rscript", help="Rscript executable")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds of repeats per model")
    ap.add_argument("--max-reps", type=int, default=5)
    ap.add_argument("--warm-limit", type=float, default=2.0, help="discard faster first fits")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    ap.add_argument("--scale", type=float, default=1.0, help="size of the crossed data (0, 1]")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--data-dir", help="write/keep the CSVs here instead of a temp dir")
    ap.add_argument("--json", help="also write all results to this JSON file")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.worker:
        return opts
    chosen = by_name(opts.only) if opts.only else list(MODELS)
    chosen = [m for m in chosen if not (m.large and opts.no_large)]
    opts.models = [m for m in chosen if not (not m.large and opts.no_workshop)]
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.worker:
        worker(opts)
        return 0
    if opts.list:
        for m in MODELS:
            print(f"{m.name:26s} {m.stata}\n{'':26s} {m.r_formula}")
        return 0
    if opts.data_dir:
        data_dir = Path(opts.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        report = run_all(opts, data_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="bayesmixed-bench-") as tmp:
            report = run_all(opts, Path(tmp))
    print(bench_report.render(report))
    if opts.json:
        Path(opts.json).write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
