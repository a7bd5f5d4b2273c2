/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counters of what happened to packets (enum sl_stat) and of why
 * they were dropped (enum sl_drop). Every drop goes through stats_drop, so no
 * packet disappears uncounted. */
#ifndef SLUICE_LIB_STATS_H
#define SLUICE_LIB_STATS_H

#include "common.h"
#include "sluice_maps.h"

/* bytes is passed, not read from skb: a reject rewrites the packet, and the
 * count is of the packet that arrived. */
static __always_inline void stats_add(__u32 stat, __u32 bytes)
{
	struct stats_val *s = bpf_map_lookup_elem(&sl_stats, &stat);

	if (!s)
		return;
	/* per-CPU value: no other writer, no atomics */
	s->packets++;
	s->bytes += bytes;
}

static __always_inline void stats_count(struct __sk_buff *skb, __u32 stat)
{
	stats_add(stat, skb->len);
}

/* sl_stats' slot of a drop reason: past the counters, by its negation. */
static __always_inline __u32 drop_slot(enum sl_drop why)
{
	return -why;
}

/* Counts the drop; returns TC_ACT_SHOT. */
static __always_inline int stats_drop(struct __sk_buff *skb, enum sl_drop why)
{
	stats_count(skb, drop_slot(why));
	return TC_ACT_SHOT;
}

#endif /* SLUICE_LIB_STATS_H */
