#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv/ from the
# committed lock (lock/*.txt, exact versions with hashes). Never from ranges:
# pyproject.toml's ranges are for people installing into their own
# environment; this project runs on the lock (`make lock` refreshes it).
#
# Idempotent and quick when nothing changed:
#   * a stamp holds a hash of everything that decides the environment's
#     contents (the lock, this script, the GPAW site config); a different
#     hash means the environment is rebuilt from scratch, so a .venv/ made
#     from another lock (or from ranges) can never be reused by accident;
#   * even when the stamp matches, every installed distribution is checked
#     against the lock (about 0.3 s): a package upgraded or removed by hand
#     also triggers a rebuild; packages the lock does not name are reported.
#   * pyproject.toml alone changed (entry points, metadata): only the
#     project itself is re-installed.
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
pstamp="$venv/.multiscale-project-stamp"
log="$venv/setup.log"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

want=$(cat "$root"/lock/env.txt "$root"/lock/gpaw.txt "$root"/lock/bootstrap.txt \
           "$root/scripts/setup-env.sh" "$root/scripts/gpaw-siteconfig.py" | sha256sum | cut -c1-16)
want_project=$(sha256sum <"$root/pyproject.toml" | cut -c1-16)

# Compare what is installed with the lock. Exit 0: matches; 1: it does not
# (the reasons on stderr). Extra, unlocked packages are reported, not fatal.
check_against_lock() {
    "$venv/bin/python" - "$root/lock/env.txt" "$root/lock/gpaw.txt" "$root/lock/bootstrap.txt" <<'PY'
import re, sys
from importlib import metadata
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
want = {}
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\;]+)", line)
        if m:
            want[norm(m[1])] = m[2]
have = {norm(d.metadata["Name"]): d.version for d in metadata.distributions()}
bad = [f"{n} {have.get(n, 'missing')} (lock: {v})" for n, v in sorted(want.items())
       if have.get(n) != v]
extra = sorted(set(have) - set(want) - {"multiscale", "pip"})
if extra:
    print("[setup] note: installed but not in the lock: " + ", ".join(extra), file=sys.stderr)
if bad:
    print("[setup] .venv/ does not match the lock: " + "; ".join(bad[:8])
          + (f" (+{len(bad) - 8} more)" if len(bad) > 8 else ""), file=sys.stderr)
    sys.exit(1)
PY
}

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    if check_against_lock; then
        if [[ ! -f "$pstamp" || "$(cat "$pstamp")" != "$want_project" ]]; then
            say "pyproject.toml changed: re-installing the project (no dependencies)"
            "$venv/bin/uv" pip install --python "$venv/bin/python" --quiet --no-deps --no-build-isolation -e "$root" >&2
            echo "$want_project" >"$pstamp"
        fi
        exit 0
    fi
    say "rebuilding .venv/ from the lock"
elif [[ -e "$venv" ]]; then
    say ".venv/ was built from another lock or set-up script: rebuilding it from the lock"
fi
[[ $(uname -s)-$(uname -m) == Linux-x86_64 ]] || die "the lock (lock/env.txt) is for Linux x86-64; \
this machine is $(uname -s) $(uname -m). Use the conda-forge route in the README instead."

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
py=$(find_python) || die "Python 3.12 with the venv module was not found.
  The FEniCSx wheel needs CPython >= 3.12 (abi3) and the lock is made for 3.12.
  Install one, e.g.
    pyenv install 3.12            (then re-run this command), or
    apt-get install python3.12 python3.12-venv python3.12-dev
  or point MULTISCALE_PYTHON at a python3.12 executable."
rm -rf "$venv"
say "creating .venv with $py"
"$py" -m venv "$venv"
: >"$log"
run() { "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "failed: $*"; }; }

# --- 2. libxc (GPAW's exchange-correlation library) ------------------------
have_libxc() { [[ -f /usr/include/xc.h ]] && ldconfig -p 2>/dev/null | grep -q 'libxc\.so '; }
if ! have_libxc; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing libxc-dev with apt-get"
        run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxc-dev
    else
        die "libxc (headers and library) is missing and this user cannot apt-get.
  Ask an administrator for:   sudo apt-get install libxc-dev
  (or install libxc from conda-forge and set C_INCLUDE_PATH / LIBRARY_PATH)."
    fi
fi

# --- 3. Packages, exactly as locked ------------------------------------------
say "installing the locked packages into .venv (first time: a few minutes; log: .venv/setup.log)"
# pip only bootstraps uv (itself hash-pinned); uv then installs the rest.
# uv downloads in parallel, which is most of a cold set-up (torch's CUDA wheels).
run "$venv/bin/python" -m pip install --disable-pip-version-check --no-deps \
    --require-hashes -r "$root/lock/bootstrap.txt"
uvpip=("$venv/bin/uv" pip install --python "$venv/bin/python" --no-deps --require-hashes)
run "${uvpip[@]}" -r "$root/lock/env.txt"

# GPAW from source, linked against the FEniCSx wheel's OpenBLAS and MPICH.
# --no-cache: a wheel built for another checkout would carry that checkout's
# library paths, so it is never reused from the cache.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
say "building GPAW against the FEniCSx wheel's OpenBLAS and MPICH (~1 min)"
GPAW_CONFIG="$root/scripts/gpaw-siteconfig.py" MULTISCALE_SOLVER_LIB="$site/dolfinx_solver/lib" \
PATH="$venv/bin:$PATH" run "${uvpip[@]}" --no-cache --no-build-isolation --no-binary gpaw \
    -r "$root/lock/gpaw.txt"
"$venv/bin/python" - "$site/dolfinx_solver/lib" <<'PY' || die "GPAW was not linked against the FEniCSx wheel's libraries (see above)"
import importlib.util, subprocess, sys
spec = importlib.util.find_spec("_gpaw")
out = subprocess.run(["ldd", spec.origin], capture_output=True, text=True).stdout
if sys.argv[1] not in out:
    sys.exit(out)
PY

run "$venv/bin/uv" pip install --python "$venv/bin/python" --no-deps --no-build-isolation -e "$root"
check_against_lock || die "the new .venv/ does not match the lock (see above)"
echo "$want" >"$stamp"
echo "$want_project" >"$pstamp"
say "environment ready: $venv"
