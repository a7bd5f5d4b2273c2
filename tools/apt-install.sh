#!/usr/bin/env bash
# apt-install.sh WHAT PACKAGE...: installs the Debian packages WHAT needs (as
# root; nothing to do without packages). The one place the test and benchmark
# dependency scripts install from.
set -euo pipefail
what=$1
shift
[ $# -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "$what: these Debian packages are missing: $*; install them as root (apt-get install $*)" >&2
  exit 1
fi
echo "installing $*"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
