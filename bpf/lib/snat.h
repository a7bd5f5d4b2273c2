/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Source ports for flows from outside that the node SNATs to its own address
 * (sl_cfg.node_ip) on their way to a remote backend, so that the backend's
 * answer comes back through this node. A port is taken when the reply entry
 * {backend, node_ip, backend port, port} exists: inserting that entry with
 * BPF_NOEXIST is the reservation, so there is no separate port table.
 */
#ifndef SLUICE_LIB_SNAT_H
#define SLUICE_LIB_SNAT_H

#include "common.h"
#include "lb.h"
#include "sluice_maps.h"

/* Linux's default ephemeral range (ip_local_port_range). */
#define SNAT_PORT_MIN	32768
#define SNAT_PORT_MAX	60999
/* Ports stay taken for as long as their flows' entries live (a RST'd flow's
 * for ct_rst_s): one client opening connections to one backend fills the
 * range that way. Probes spread over the range, not to the next ports, so
 * taken ports do not cluster: a new flow fails only when all SNAT_TRIES
 * probes are taken, about 1 in 1,260 flows with 80% of the range taken.
 * (Eight probes to the next ports dropped 2 SYNs of 11,000 in the NodePort
 * benchmark, the range 40% taken.) Linux's NAT tries up to 128 ports. */
#define SNAT_TRIES	32

/* Probe i of the flow whose hash is hash: the hash's own port first, then
 * ports spread over the range by a mix of (i, hash). */
static __always_inline __u16 snat_probe(__u32 hash, __u32 i)
{
	const __u32 range = SNAT_PORT_MAX - SNAT_PORT_MIN + 1;
	__u32 h = i ? (__u32)lb_mix64(((__u64)i << 32) | hash) : hash;

	return SNAT_PORT_MIN + h % range;
}

/* Finds a free port for reply entry (rk, rv), probing from the one chosen
 * by hash, and inserts the entry there (rk->dport). An expired entry holding
 * a port is taken over. Returns the port, network order, or 0 when
 * SNAT_TRIES were all taken (caller: SL_DROP_NAT_PORTS). */
static __always_inline __be16 snat_reserve(struct ct_key *rk, const struct ct_val *rv, __u32 hash, __u64 now)
{
	for (__u32 i = 0; i < SNAT_TRIES; i++) {
		const struct ct_val *old;

		rk->dport = bpf_htons(snat_probe(hash, i));
		if (bpf_map_update_elem(&sl_ct, rk, rv, BPF_NOEXIST) == 0)
			return rk->dport;
		old = bpf_map_lookup_elem(&sl_ct, rk);
		if (old && old->expires <= now && bpf_map_update_elem(&sl_ct, rk, rv, BPF_ANY) == 0)
			return rk->dport;
	}
	return 0;
}

#endif /* SLUICE_LIB_SNAT_H */
