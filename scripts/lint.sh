#!/usr/bin/env bash
# Lint and format-check the whole repository with ruff (installed by scripts/setup.sh).
#
#   bash scripts/lint.sh          report problems, change nothing (exit 1 if any)
#   bash scripts/lint.sh --fix    apply ruff's safe fixes and reformat
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${BAYESMIXED_VENV:-$ROOT/.venv}

bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
if [ "${1:-}" = "--fix" ]; then
    "$VENV/bin/ruff" check --fix .
    "$VENV/bin/ruff" format .
else
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
fi
