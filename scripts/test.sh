#!/usr/bin/env bash
# Install what the tests need (scripts/setup.sh), then run the whole test suite.
#
#   bash scripts/test.sh                 every test, slow ones included
#   bash scripts/test.sh tests/syntax -x extra arguments go to pytest
#
# Slow tests run too (-m "slow or not slow"): CI must see the same suite a developer can.
# Tests run in parallel workers (pytest-xdist), one per core up to four, grouped by module so
# a module's fixtures are built once: on 2 cores the suite takes ~11 min instead of ~20.
# BAYESMIXED_TEST_WORKERS=0 runs everything in this process (for pdb or a single test).
# pytest's exit status 5 ("no tests collected") is turned into a failure with a message,
# so a broken collection can never pass as green.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${BAYESMIXED_VENV:-$ROOT/.venv}

bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
export MPLBACKEND=${MPLBACKEND:-Agg}

CORES=$(nproc 2>/dev/null || echo 2)
WORKERS=${BAYESMIXED_TEST_WORKERS:-$((CORES < 4 ? CORES : 4))}
PARALLEL=(-n "$WORKERS")
[ "$WORKERS" -gt 0 ] && PARALLEL+=(--dist loadscope)

status=0
"$VENV/bin/python" -m pytest -m "slow or not slow" "${PARALLEL[@]}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test: error: pytest collected no tests (exit 5); treating that as a failure." >&2
    exit 1
fi
exit "$status"
