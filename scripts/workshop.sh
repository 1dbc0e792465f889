#!/usr/bin/env bash
# Install bayesmixed (scripts/setup.sh), then run the workshop (bayesmixed/tutorials/workshop.do):
# every model by ML/REML as in Stata and again behind `bayes:`, written as an HTML report
# (report/index.html + report/figures/*.png).  About 1.5 min on 2 cores with the default
# 2 chains x 1000 draws; a bayes: model this version cannot fit is marked in the report.
#
#   bash scripts/workshop.sh [--out report/] [--draws N] [--chains C] [--strict]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${BAYESMIXED_VENV:-$ROOT/.venv}

bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
export MPLBACKEND=${MPLBACKEND:-Agg}

if ! "$VENV/bin/python" -c \
    'import importlib.util as u, sys; sys.exit(u.find_spec("bayesmixed.__main__") is None)' \
    2>/dev/null; then
    echo "workshop: error: this checkout has no command-line entry yet" \
        "(bayesmixed/__main__.py is missing), so 'python -m bayesmixed workshop' cannot run." >&2
    exit 2
fi
exec "$VENV/bin/python" -m bayesmixed workshop "$@"
