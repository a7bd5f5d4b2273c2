// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The NetworkPolicy check alone, for BPF_PROG_TEST_RUN (bench/policyDatapath
 * /checkCost.ts): `check` reads a TCP packet's addresses and destination
 * port and returns the datapath's own pol_verdict (bpf/lib/policy.h) over
 * the pinned policy maps; `baseline` reads them the same way and judges
 * nothing, so check - baseline is the check's cost. Both as a pod's packet
 * would be judged in sl_from_pod (its sender known by its interface).
 */
#include "lib/common.h"
#include "lib/policy.h"
#include "sluice_maps.h"

struct flow {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

#define FLOW_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, saddr))

SEC("tc")
int check(struct __sk_buff *skb)
{
	struct flow f;

	if (bpf_skb_load_bytes(skb, FLOW_OFF, &f, sizeof(f)) < 0)
		return TC_ACT_SHOT;
	return pol_verdict(f.saddr, f.daddr, IPPROTO_TCP, f.dport, POL_LOCAL_SRC) == POL_ALLOW ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int baseline(struct __sk_buff *skb)
{
	struct flow f;

	if (bpf_skb_load_bytes(skb, FLOW_OFF, &f, sizeof(f)) < 0)
		return TC_ACT_SHOT;
	return f.saddr == f.daddr ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
