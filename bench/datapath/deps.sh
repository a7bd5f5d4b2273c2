#!/usr/bin/env bash
# Installs the Debian packages the datapath benchmark needs, when missing:
# iperf3 (throughput), nftables and iptables (kube-proxy's modes, both
# iptables backends), util-linux (nsenter, taskset), iproute2. Needs root.
set -euo pipefail

need=()
command -v iperf3 >/dev/null || need+=(iperf3)
command -v nft >/dev/null || need+=(nftables)
{ command -v iptables-legacy-restore && command -v iptables-nft-restore; } >/dev/null || need+=(iptables)
{ command -v nsenter && command -v taskset; } >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "the datapath benchmark needs these Debian packages: ${need[*]}; install them as root" >&2
  exit 1
fi
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
