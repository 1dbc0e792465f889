#!/usr/bin/env bash
# Install bayesmixed (scripts/setup.sh), then run the workshop: fit the workshop's linear
# mixed models by ML and REML and print them in Stata's layout.
#
#   bash scripts/workshop.sh [arguments for `python -m bayesmixed workshop`]
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
