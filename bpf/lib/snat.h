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
#include "sluice_maps.h"

/* Linux's default ephemeral range (ip_local_port_range). */
#define SNAT_PORT_MIN	32768
#define SNAT_PORT_MAX	60999
#define SNAT_TRIES	8

/* Finds a free port for reply entry (rk, rv), starting at one chosen by
 * hash and moving up, and inserts the entry there (rk->dport). An expired
 * entry holding a port is taken over. Returns the port, network order, or 0
 * when SNAT_TRIES were all taken (caller: SL_DROP_NAT_PORTS). */
static __always_inline __be16 snat_reserve(struct ct_key *rk, const struct ct_val *rv, __u32 hash, __u64 now)
{
	const __u32 range = SNAT_PORT_MAX - SNAT_PORT_MIN + 1;
	__u32 start = hash % range;

	for (int i = 0; i < SNAT_TRIES; i++) {
		const struct ct_val *old;

		rk->dport = bpf_htons(SNAT_PORT_MIN + (start + i) % range);
		if (bpf_map_update_elem(&sl_ct, rk, rv, BPF_NOEXIST) == 0)
			return rk->dport;
		old = bpf_map_lookup_elem(&sl_ct, rk);
		if (old && old->expires <= now && bpf_map_update_elem(&sl_ct, rk, rv, BPF_ANY) == 0)
			return rk->dport;
	}
	return 0;
}

#endif /* SLUICE_LIB_SNAT_H */
