#!/usr/bin/env bash
# Refresh the committed lock on purpose (`make lock`).
#
#   lock/env.txt        every package of every extra (+ dev, + GPAW's build
#                       tools) at an exact version with hashes, GPAW excluded
#   lock/gpaw.txt       GPAW alone (a source build, see setup-env.sh)
#   lock/bench.txt      the benchmark-only extra (the MACE peer), constrained
#                       to env.txt; it needs e3nn 0.4.4 and so lives apart
#   lock/bootstrap.txt  uv, the installer setup-env.sh uses
#
# The lock is for CPython 3.12 on Linux x86-64 (manylinux_2_34), the platform
# of the FEniCSx wheel. `make lock` picks the newest versions the ranges in
# pyproject.toml allow (UPGRADE=0 keeps existing pins and only adds what is
# new). The suite must pass on the refreshed lock before it is committed:
#   make lock && make test && git add lock/ && git commit
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
uv=${UV:-"$root/.venv/bin/uv"}
[[ -x "$uv" ]] || uv=$(command -v uv) || {
    echo "[lock] error: uv not found; run 'make env' first (it installs uv into .venv/)" >&2; exit 1; }
common=(--generate-hashes --python-version 3.12 --python-platform x86_64-manylinux_2_34
        --no-header --quiet)
[[ "${UPGRADE:-1}" == 1 ]] && common+=(--upgrade)
extras=(--extra all --extra dev)
"$uv" pip compile "${common[@]}" "${extras[@]}" pyproject.toml lock/build.in \
    --no-emit-package gpaw -o lock/env.txt
# GPAW alone, at the version the full resolution chose (its dependencies are in env.txt).
gpaw=$("$uv" pip compile "${common[@]}" "${extras[@]}" pyproject.toml lock/build.in 2>/dev/null \
       | grep -oE '^gpaw==[^ ]+')
echo "$gpaw" | "$uv" pip compile "${common[@]}" --no-deps - -o lock/gpaw.txt
"$uv" pip compile "${common[@]}" --extra bench pyproject.toml -c lock/env.txt -o lock/bench.txt
"$uv" pip compile "${common[@]}" lock/bootstrap.in -o lock/bootstrap.txt
echo "[lock] wrote lock/{env,gpaw,bench,bootstrap}.txt; now run 'make test' and commit lock/ only if it passes" >&2
