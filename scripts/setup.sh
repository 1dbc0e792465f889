#!/usr/bin/env bash
# Create or reuse the repository's virtual environment and install bayesmixed into it.
#
#   bash scripts/setup.sh            make .venv ready (fast no-op when already up to date)
#   bash scripts/setup.sh --stamp    print the stamp an up-to-date .venv carries, and exit
#
# Why a stamp: `pip install -e` re-resolves every dependency (pymc, pytensor, ...) and costs
# 10-60 s even when nothing changed.  The stamp records what the last successful install was
# made from (a hash of pyproject.toml, the extras, the repository path); when it matches and
# the package still imports from this checkout, nothing is installed.  Edit pyproject.toml
# and the next run reinstalls.
#
# Environment: BAYESMIXED_VENV (default <repo>/.venv), BAYESMIXED_EXTRAS (default "test,nutpie": nutpie samples Gaussian models without a compile),
# BAYESMIXED_PYTHON (interpreter to build the venv from; see scripts/find_python.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${BAYESMIXED_VENV:-$ROOT/.venv}
EXTRAS=${BAYESMIXED_EXTRAS:-test,nutpie}
STAMP_FILE=$VENV/.bayesmixed-install-stamp
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

say() { echo "setup: $*" >&2; }

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

expected_stamp() {
    echo "pyproject=$(sha256_of "$ROOT/pyproject.toml") extras=$EXTRAS root=$ROOT"
}

venv_python_ok() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
            >/dev/null 2>&1
}

# The editable install must point at *this* checkout: a venv copied from another clone
# would otherwise test the other clone's code.
installed_here() {
    "$VENV/bin/python" - "$ROOT" >/dev/null 2>&1 <<'PY'
import pathlib, sys
import bayesmixed
root = pathlib.Path(sys.argv[1]).resolve()
sys.exit(0 if root in pathlib.Path(bayesmixed.__file__).resolve().parents else 1)
PY
}

make_venv() {
    local py
    if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
        say "error: $VENV exists but is not a virtual environment; move it away and rerun."
        exit 1
    fi
    py=$(bash "$ROOT/scripts/find_python.sh") || exit 1
    if [ -e "$VENV" ]; then
        say "$VENV is broken or older than Python 3.12; recreating it with $py"
    else
        say "creating $VENV with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
    fi
    "$py" -m venv --clear "$VENV"
}

install() {
    local log=$VENV/pip-install.log
    say "installing bayesmixed[$EXTRAS] and its dependencies into $VENV" \
        "(about a minute on a fresh machine; log: $log)"
    rm -f "$STAMP_FILE"
    if ! "$VENV/bin/python" -m pip install --progress-bar off -e "${ROOT}[${EXTRAS}]" \
        >"$log" 2>&1; then
        say "error: pip install failed; last lines of $log:"
        tail -n 40 "$log" >&2
        exit 1
    fi
    # pip can succeed and still report errors (e.g. dependency conflicts): show those, and
    # keep the rest (progress, the machine's index warnings) in the log.
    grep -E '^ERROR' "$log" >&2 || true
    expected_stamp >"$STAMP_FILE"
    say "done"
}

# The Bayesian kernels, compiled here once (as a C extension is built at install) instead of
# on a user's first bayes: fit (bayesmixed/engines/precompiled.py says why).  The check reads
# a manifest of the kernels' sources, so an edited kernel is rebuilt on the next run.  A
# failure is only a warning: fits then compile the kernels on first use, as before.
precompile() {
    "$VENV/bin/python" -P "$ROOT/bayesmixed/engines/precompiled.py" --check && return 0
    say "compiling the Bayesian kernels once (about 20 s; later bayes: fits start at once)"
    "$VENV/bin/bayesmixed" precompile >&2 ||
        say "warning: could not precompile; a first bayes: fit will compile them instead"
}

main() {
    if [ "${1:-}" = "--stamp" ]; then
        expected_stamp
        return 0
    fi
    venv_python_ok || make_venv
    if ! { [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$(expected_stamp)" ] &&
        installed_here; }; then
        install
    fi
    precompile
}

main "$@"
