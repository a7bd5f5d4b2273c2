#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing: clang and
# bpftool build and read BPF objects, libbpf-dev has bpf_helpers.h, iproute2
# makes the network namespaces, nftables lets the DSR test play a router that
# drops what it must not see, util-linux's setpriv and unshare run a command as
# another user or in a mount namespace of its own. Needs root (as CI is) to
# install anything or to mount bpffs.
set -euo pipefail

need=()
command -v clang >/dev/null || need+=(clang)
command -v bpftool >/dev/null || need+=(bpftool)
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
command -v ip >/dev/null || need+=(iproute2)
command -v nft >/dev/null || need+=(nftables)
command -v setpriv >/dev/null && command -v unshare >/dev/null || need+=(util-linux)

# The BPF tests pin maps; a fresh machine may not have bpffs mounted. 0700, as
# systemd and sluice mount it: without mode= it is 1777, open to anyone.
if [ "$(id -u)" -eq 0 ] && [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  mount -t bpf -o mode=0700 bpf /sys/fs/bpf
fi

exec bash "$(dirname "$0")/apt-install.sh" tests "${need[@]}"
