#!/usr/bin/env bash
# system-deps.sh [NEED...]: installs the Debian packages that the build, sluice
# itself (apply, run, testbed) and the tests need (default: build run test),
# when missing. The list is runtime/exec/programs.ts, read through
# tools/deps.ts (run `npm install` first: it brings the Node.js that reads it).
# Needs root (as CI is) to install anything or to mount bpffs.
set -euo pipefail
here=$(dirname "$0")
node="$here/../node_modules/.bin/node"
[ -x "$node" ] || { echo "system-deps.sh: $node is missing: run npm install first" >&2; exit 1; }
[ $# -gt 0 ] || set -- build run test
read -r -a need <<<"$("$node" "$here/deps.ts" missing "$@")"

# The BPF tests and sluice pin maps; a fresh machine may not have bpffs
# mounted. 0700, as systemd and sluice mount it: without mode= it is 1777,
# open to anyone.
if [[ " $* " == *" test "* ]] && [ "$(id -u)" -eq 0 ] && [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  mount -t bpf -o mode=0700 bpf /sys/fs/bpf
fi

exec bash "$here/apt-install.sh" "$*" "${need[@]}"
