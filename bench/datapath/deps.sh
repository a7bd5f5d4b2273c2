#!/usr/bin/env bash
# Installs the Debian packages the benchmarks need (and sluice and its build,
# which they run), when missing: runtime/exec/programs.ts's build, run and
# bench lists, read through tools/deps.ts. Needs root.
set -euo pipefail
root=$(dirname "$0")/../..
read -r -a need <<<"$("$root/node_modules/.bin/node" "$root/tools/deps.ts" missing build run bench)"
exec bash "$root/tools/apt-install.sh" "the benchmarks" "${need[@]}"
