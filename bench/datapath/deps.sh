#!/usr/bin/env bash
# Installs the Debian packages the datapath benchmarks (datapath, pod2pod,
# nodeport) need, when missing: iperf3 and qperf (throughput), nftables and
# iptables (kube-proxy's modes, both iptables backends), util-linux (nsenter,
# taskset), iproute2. Needs root.
set -euo pipefail

need=()
command -v iperf3 >/dev/null || need+=(iperf3)
command -v qperf >/dev/null || need+=(qperf)
command -v nft >/dev/null || need+=(nftables)
{ command -v iptables-legacy-restore && command -v iptables-nft-restore; } >/dev/null || need+=(iptables)
{ command -v nsenter && command -v taskset; } >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)

exec bash "$(dirname "$0")/../../tools/apt-install.sh" "the datapath benchmarks" "${need[@]}"
