"""Command line: ``bayesmixed workshop``, ``bayesmixed run FILE.do`` and ``bayesmixed fit``.

``workshop`` is the project's main job: it runs ``tutorials/workshop.do`` (every command
of the "Multilevel and Mixed Models in Stata" workshop, each model followed by its
``bayes:`` twin) on the bundled data and writes the HTML report.  ``workshop --print``
keeps the older behaviour: fit and print the workshop's linear models only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from .errors import BayesmixedError

WORKSHOP: list[tuple[str, list[str]]] = [
    (
        "jsp2",
        [
            "mixed math5 math3 || school:",
            "mixed math5 math3 || school:, reml",
            "mixed math5 math3 || school: math3",
            "mixed math5 math3 || school: math3, cov(unstructured)",
            "mixed math5 math3 || school: math3, cov(unstructured) reml",
        ],
    ),
    (
        "productivity",
        [
            "mixed gsp private emp hwy water other unemp || region: || state:",
            "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:",
        ],
    ),
    (
        "grunfeld",
        [
            "mixed invest mvalue cstock || company:",
            "mixed invest mvalue cstock || _all: R.company || year:",
        ],
    ),
    ("rats", ["mixed weight i.dose size female || litter:"]),
]


def run_workshop(out=sys.stdout) -> int:
    """Fit and print every linear model of the workshop; return an exit code."""
    from . import api, datasets
    from .postestimation.lrtest import lrtest

    start = time.perf_counter()
    for name, commands in WORKSHOP:
        data = datasets.load(name)
        print(f"\n. use {name}, clear\n", file=out)
        fits = {}
        for command in commands:
            print(f". {command}\n", file=out)
            fits[command] = api.stata(command, data)
            print(fits[command], file=out)
        if name == "jsp2":
            ind = fits["mixed math5 math3 || school: math3"]
            uns = fits["mixed math5 math3 || school: math3, cov(unstructured)"]
            print(". lrtest ind uns\n", file=out)
            print(lrtest(ind, uns), file=out)
    print(f"\nworkshop models fitted in {time.perf_counter() - start:.1f} s", file=out)
    return 0


WORKSHOP_DO = Path(__file__).resolve().parent / "tutorials" / "workshop.do"
DEFAULT_DRAWS = 1000  # per chain, tuning as many: about 1.5 min for the whole workshop on 2 cores
DEFAULT_CHAINS = 2  # one per core of a small machine; enough for R-hat and rank plots
DEBUG_HELP = "on an error, show Python's traceback instead of one line"
INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C (128 + SIGINT)


def _progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def run_dofile(
    path: str,
    out: str | None,
    draws: int | None,
    chains: int | None,
    strict: bool,
    until_converged: bool = False,
    echo: bool = True,
    log: str | None = None,
) -> int:
    """Run a do-file, printing each command as it starts; write the report if asked.

    With ``echo`` the log goes to stdout as ``stata -b`` writes it (each command as
    ``. command``, then its output), and with ``log`` to that file too; the progress
    lines stay on stderr.

    ``until_converged`` (the workshop's default, ``--until-converged`` for ``run``) adds
    chains to a ``bayes:`` fit until R-hat <= 1.01 and bulk ESS >= 400 everywhere.
    """
    from .dofile import run_do
    from .dofile.session import Unavailable

    tty = sys.stderr.isatty()
    if not tty:
        # PyMC's "Initializing NUTS..." lines add nothing to ours; a root handler set before
        # PyMC is imported keeps it from installing its own INFO-level one
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    start = time.perf_counter()
    sinks = [sys.stdout] if echo else []
    log_file = None
    if log is not None:
        try:
            log_file = open(log, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as err:
            raise BayesmixedError(f"cannot write the log {log}: {err.strerror or err}") from err
        sinks.append(log_file)
    try:
        session = run_do(
            path,
            out=out,
            draws=draws,
            progress=_progress,
            chains=chains,
            default_chains=DEFAULT_CHAINS,  # run and workshop alike (issue 14)
            progressbar=tty,
            strict=strict,
            until_converged=until_converged,
            log=sinks,
        )
    finally:
        if log_file is not None:
            log_file.close()
    missing = sum(isinstance(e, Unavailable) for e in session.log)
    if missing:
        print(
            f"{path}: {missing} bayes: model(s) not available in this version "
            "(noted in the report; --strict stops at them instead)",
            file=sys.stderr,
        )
    where = f"; report in {Path(out) / 'index.html'}" if out else ""
    print(f"{path}: done in {time.perf_counter() - start:.0f} s{where}", file=sys.stderr)
    return 0


def run_fit(command: str, data: str) -> int:
    from . import api, datasets

    print(api.stata(command, datasets.load(data)))
    return 0


def _mcmc_flags(parser: argparse.ArgumentParser) -> None:
    default = f"default: the do-file's nchains(), else {DEFAULT_CHAINS}"
    parser.add_argument(
        "--chains", type=int, default=None, help=f"MCMC chains per bayes: model ({default})"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop at a bayes: model this version cannot fit (default: note it in the "
        "report and go on)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bayesmixed", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    work = sub.add_parser("workshop", help="run tutorials/workshop.do and write the report")
    work.add_argument("--out", default="report", help="report folder (default: report/)")
    work.add_argument(
        "--draws",
        type=int,
        default=DEFAULT_DRAWS,
        help=f"MCMC draws (and tuning steps) per chain (default {DEFAULT_DRAWS})",
    )
    _mcmc_flags(work)
    work.add_argument("--do", default=str(WORKSHOP_DO), help=argparse.SUPPRESS)
    work.add_argument(
        "--print",
        action="store_true",
        help="only fit and print the workshop's linear models (no report)",
    )
    work.add_argument(
        "--no-extend",
        action="store_true",
        help="keep each bayes: model at --chains chains even when R-hat > 1.01 or bulk "
        "ESS < 400 (by default more chains are run until both targets are met)",
    )
    run = sub.add_parser("run", help="run a Stata do-file")
    run.add_argument("dofile", help="the .do file")
    run.add_argument("--out", default=None, help="write an HTML report to this folder")
    run.add_argument("--draws", type=int, default=None, help="MCMC draws of every bayes: model")
    _mcmc_flags(run)
    run.add_argument(
        "--until-converged",
        action="store_true",
        help="run more chains of a bayes: model while R-hat > 1.01 or bulk ESS < 400",
    )
    run.add_argument(
        "--log", default=None, help="also write the log (as printed on stdout) to this file"
    )
    run.add_argument(
        "--no-echo",
        action="store_true",
        help="do not print the log on stdout (progress lines still go to stderr)",
    )
    fit = sub.add_parser("fit", help="fit one Stata command on a bundled data set or file")
    fit.add_argument("command", help='e.g. "mixed math5 math3 || school:"')
    fit.add_argument("--data", required=True, help="bundled name (jsp2 ...) or a .dta/.csv path")
    pre = sub.add_parser(
        "precompile",
        help="compile the Bayesian kernels once, so that a first bayes: fit does not wait "
        "for numba (scripts/setup.sh runs it after installing)",
    )
    pre.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    for command in (work, run, fit, pre):
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except BaseException as err:  # every error a user can cause ends in one line
        if args.debug or isinstance(err, SystemExit | GeneratorExit):
            raise
        message, status = _failure(err)
        print(f"bayesmixed: {message}", file=sys.stderr)
        return status


def _dispatch(args: argparse.Namespace) -> int:
    if args.what == "workshop":
        if args.print:
            return run_workshop()
        if not Path(args.do).is_file():
            raise BayesmixedError(f"the workshop do-file is missing: {args.do}")
        converge = not args.no_extend
        return run_dofile(args.do, args.out, args.draws, args.chains, args.strict, converge)
    if args.what == "run":
        logging_ = {"echo": False} if args.no_echo else {}
        if args.log is not None:
            logging_["log"] = args.log
        return run_dofile(
            args.dofile,
            args.out,
            args.draws,
            args.chains,
            args.strict,
            args.until_converged,
            **logging_,
        )
    if args.what == "precompile":
        return _precompile(args.folder)
    return run_fit(args.command, args.data)


def _precompile(where: str | None) -> int:
    from .engines import precompiled

    try:
        precompiled.build(None if where is None else Path(where))
    except RuntimeError as err:  # numba missing or failing: fits still work, compiling later
        raise BayesmixedError(f"cannot precompile: {err}") from None
    return 0


def _failure(err: BaseException) -> tuple[str, int]:
    """One line for the user and the exit status, for any error that reaches the CLI.

    A user's mistake (:class:`BayesmixedError`) is exit status 2 as before; Ctrl-C is 130
    as a shell expects, and nothing was written (the report is only swapped in complete);
    an operating-system error (a file that cannot be read or written) is 1.  Anything
    else is a bug: still one line, pointing at ``--debug`` for the traceback to report.
    """
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (Ctrl-C); stopped without writing anything", INTERRUPTED
    if isinstance(err, BayesmixedError):
        return str(err), 2
    if isinstance(err, UnicodeError):
        return f"cannot decode text: {err}", 2
    if isinstance(err, OSError):
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror or err}{where}", 1
    return (
        f"internal error ({type(err).__name__}: {err}); rerun with --debug for the "
        "traceback and please report it",
        1,
    )


if __name__ == "__main__":
    sys.exit(main())
