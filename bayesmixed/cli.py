"""Command line: ``bayesmixed workshop`` and ``bayesmixed fit``.

``workshop`` is the project's main job: it replays the linear mixed models of
the "Multilevel and Mixed Models in Stata" workshop on the bundled data and
prints each result as Stata would.  (The Bayesian reanalysis beside each model
and the HTML report join it as those engines land.)
"""

from __future__ import annotations

import argparse
import sys
import time

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


def run_fit(command: str, data: str) -> int:
    from . import api, datasets

    print(api.stata(command, datasets.load(data)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bayesmixed", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("workshop", help="replay the workshop's models on the bundled data")
    fit = sub.add_parser("fit", help="fit one Stata command on a bundled data set or file")
    fit.add_argument("command", help='e.g. "mixed math5 math3 || school:"')
    fit.add_argument("--data", required=True, help="bundled name (jsp2 ...) or a .dta/.csv path")
    args = parser.parse_args(argv)
    try:
        if args.what == "workshop":
            return run_workshop()
        return run_fit(args.command, args.data)
    except BayesmixedError as err:
        print(f"bayesmixed: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
