#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv/.
#
# Idempotent: the environment is stamped with a hash of everything that
# decides its contents (pyproject.toml, this script, the GPAW site config);
# when the stamp matches, the script returns in well under a second.
#
# Why GPAW is built by hand: the FEniCSx wheel (dolfinx-solver-real) bundles
# its own OpenBLAS and MPICH. A default GPAW build links Debian's BLAS and
# Open MPI instead, and whichever of the two is imported second then fails
# with an undefined symbol. Building GPAW against the wheel's libraries
# (scripts/gpaw-siteconfig.py) lets both live in one process.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.multiscale-env-stamp"
log="$venv/setup.log"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

want=$(cat "$root/pyproject.toml" "$0" "$root/scripts/gpaw-siteconfig.py" | sha256sum | cut -c1-16)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

# --- 1. Python 3.12 -------------------------------------------------------
find_python() {
    local c
    for c in "${MULTISCALE_PYTHON:-}" python3.12 \
             "$(command -v pyenv >/dev/null 2>&1 && pyenv root)"/versions/3.12*/bin/python3.12 \
             "$HOME"/.pyenv/versions/3.12*/bin/python3.12 \
             /usr/bin/python3.12 /usr/local/bin/python3.12; do
        [[ -n "$c" ]] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
            command -v "$c"; return 0
        fi
    done
    return 1
}
if [[ ! -x "$venv/bin/python" ]]; then
    py=$(find_python) || die "Python 3.12 with the venv module was not found.
  The FEniCSx wheel needs CPython >= 3.12 (abi3). Install one, e.g.
    pyenv install 3.12            (then re-run this command), or
    apt-get install python3.12 python3.12-venv python3.12-dev
  or point MULTISCALE_PYTHON at a python3.12 executable."
    say "creating .venv with $py"
    "$py" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

# --- 2. libxc (GPAW's exchange-correlation library) ------------------------
have_libxc() { [[ -f /usr/include/xc.h ]] && ldconfig -p 2>/dev/null | grep -q 'libxc\.so '; }
if ! have_libxc; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing libxc-dev with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxc-dev >&2
    else
        die "libxc (headers and library) is missing and this user cannot apt-get.
  Ask an administrator for:   sudo apt-get install libxc-dev
  (or install libxc from conda-forge and set C_INCLUDE_PATH / LIBRARY_PATH)."
    fi
fi

# --- 3. Python packages -----------------------------------------------------
say "installing packages into .venv (first time: a few minutes; log: .venv/setup.log)"
: >"$log"
run() { "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "failed: $*"; }; }
run "${pip[@]}" install -U pip setuptools wheel pybind11
# The FEniCSx wheel first: GPAW is compiled against the libraries it ships.
run "${pip[@]}" install "dolfinx-solver-real>=0.11.0"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if ! "$venv/bin/python" - <<PY >/dev/null 2>&1
import importlib.util, pathlib, subprocess, sys
spec = importlib.util.find_spec("_gpaw")
assert spec is not None
out = subprocess.run(["ldd", spec.origin], capture_output=True, text=True).stdout
assert "$site/dolfinx_solver/lib" in out, out
PY
then
    say "building GPAW against the FEniCSx wheel's OpenBLAS and MPICH (~1 min)"
    export GPAW_CONFIG="$root/scripts/gpaw-siteconfig.py"
    export MULTISCALE_SOLVER_LIB="$site/dolfinx_solver/lib"
    export PATH="$venv/bin:$PATH"
    run "${pip[@]}" install --force-reinstall --no-deps --no-binary gpaw --no-build-isolation "gpaw==26.7.0"
fi
run "${pip[@]}" install -e "$root[all,dev]"

echo "$want" >"$stamp"
say "environment ready: $venv"
