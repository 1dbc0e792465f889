#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter on stdout; exit 1 with a clear message if none.
#
# Why a search and not just `python3`: on the machines this project runs on, the default
# `python3` is pyenv's 3.11, and pyenv shims named python3.12/python3.13 exist but refuse to
# run unless that version is selected.  So every candidate is *executed* and its version
# checked; a name on PATH proves nothing.
#
# Search order (first that runs and is >= 3.12 wins):
#   1. $BAYESMIXED_PYTHON (an explicit choice always wins; an unusable one is an error)
#   2. python3.12, python3.13, python3.14, python3, python on PATH
#   3. pyenv versions under $PYENV_ROOT or `pyenv root` or ~/.pyenv (3.12.x first, newest patch)
#   4. common install locations (/usr/local/bin, /usr/bin, /opt, ~/.local, conda, uv),
#      or the directories in $BAYESMIXED_PY_DIRS when set (colon-separated; tests use it)
# 3.12 is preferred over 3.13 because the team's reference environment is 3.12.
set -u

MINOR_PREFERENCE="12 13 14 15"

# Succeeds when "$1" runs, is >= 3.12 and can make a venv (Debian ships venv/ensurepip
# separately, in python3.X-venv, so both are imported).
usable() {
    [ -n "$1" ] && [ -x "$1" ] || return 1
    "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
        >/dev/null 2>&1
}

found() {
    echo "$1"
    exit 0
}

path_candidates() {
    local name p
    for name in python3.12 python3.13 python3.14 python3 python; do
        # `type -aP` lists every match on PATH, not just the first (a broken shim may shadow
        # a good interpreter later on PATH).
        while IFS= read -r p; do
            echo "$p"
        done < <(type -aP "$name" 2>/dev/null)
    done
}

pyenv_root() {
    if [ -n "${PYENV_ROOT:-}" ]; then
        echo "$PYENV_ROOT"
    elif command -v pyenv >/dev/null 2>&1; then
        pyenv root 2>/dev/null
    else
        echo "${HOME:-/root}/.pyenv"
    fi
}

pyenv_candidates() {
    local root minor v dir
    root=$(pyenv_root)
    [ -d "$root/versions" ] || return 0
    for minor in $MINOR_PREFERENCE; do
        # Plain release names only (skip 3.13.0t free-threaded and -dev builds); newest first.
        for dir in "$root/versions/3.$minor".*; do
            v=${dir##*/}
            [[ $v =~ ^3\.$minor\.[0-9]+$ ]] && echo "$v"
        done | sort -rV | while IFS= read -r v; do
            echo "$root/versions/$v/bin/python3.$minor"
            echo "$root/versions/$v/bin/python3"
        done
    done
}

common_dirs() {
    if [ -n "${BAYESMIXED_PY_DIRS+set}" ]; then
        tr ':' '\n' <<<"$BAYESMIXED_PY_DIRS"
        return 0
    fi
    local home=${HOME:-/root} d
    echo /usr/local/bin
    echo /usr/bin
    echo "$home/.local/bin"
    for d in /opt/python*/bin /opt/conda/bin "$home"/miniconda3/bin "$home"/miniforge3/bin \
        "$home"/anaconda3/bin "$home"/.local/share/uv/python/cpython-3.1[2-9]*/bin; do
        [ -d "$d" ] && echo "$d"
    done
}

common_candidates() {
    local d minor
    while IFS= read -r d; do
        [ -n "$d" ] || continue
        for minor in $MINOR_PREFERENCE; do
            echo "$d/python3.$minor"
        done
        echo "$d/python3"
    done < <(common_dirs)
}

main() {
    local c
    if [ -n "${BAYESMIXED_PYTHON:-}" ]; then
        c=$(type -P "$BAYESMIXED_PYTHON" 2>/dev/null || echo "$BAYESMIXED_PYTHON")
        usable "$c" && found "$c"
        echo "error: BAYESMIXED_PYTHON=$BAYESMIXED_PYTHON is not a runnable Python >= 3.12" \
            "that can create a venv." >&2
        exit 1
    fi
    while IFS= read -r c; do
        usable "$c" && found "$c"
    done < <(path_candidates; pyenv_candidates; common_candidates)
    cat >&2 <<MSG
error: no Python >= 3.12 found. bayesmixed needs Python 3.12 or newer (with venv and ensurepip).
  Looked on PATH (python3.12, python3.13, python3.14, python3, python),
  in pyenv versions under $(pyenv_root)/versions, and in common locations.
  Install one (e.g. 'pyenv install 3.12', or your system's python3.12 and python3.12-venv),
  or point BAYESMIXED_PYTHON at it, then run this again.
MSG
    exit 1
}

main "$@"
