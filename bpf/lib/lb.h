/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Load balancing: the frontend a packet is addressed to (sl_svc), whether its
 * client may use it (sl_srcrange), and which backend a new flow gets (session
 * affinity, else rendezvous hashing among a small set's ids or the Maglev
 * table of a large one, both in sl_maglev, then sl_be).
 *
 * Byte order: the compiler writes svc_val.bset and the Maglev ids in host
 * order, and every key field (be_key, maglev_key, affinity_key) and
 * ct_val.bset/backend in network order; this file converts once, so callers
 * hold bset and backend ids as __be32, the way keys want them.
 */
#ifndef SLUICE_LIB_LB_H
#define SLUICE_LIB_LB_H

#include "common.h"
#include "parse.h"
#include "sluice_maps.h"

/* Slots tried after the flow's own when its backend is missing from sl_be,
 * which happens for a moment while the applier updates a set. */
#define LB_PROBE_SLOTS 8

/* A backend chosen for a new flow. */
struct lb_pick {
	__be32 bset;
	__be32 id;
	struct be_val be;
};

static __always_inline bool svc_is_cluster_ip(const struct svc_val *s)
{
	return s->kind == SL_KIND_CLUSTER_IP;
}

static __always_inline bool svc_has_internal(const struct svc_val *s)
{
	return s->flags & SL_SVC_HAS_INTERNAL;
}

static __always_inline bool svc_has_src_ranges(const struct svc_val *s)
{
	return s->flags & SL_SVC_SRC_RANGES;
}

static __always_inline bool svc_has_affinity(const struct svc_val *s)
{
	return s->flags & SL_SVC_AFFINITY;
}

static __always_inline bool be_is_local(const struct be_val *b)
{
	return b->flags & SL_BE_LOCAL;
}

/* The service the packet is addressed to, or NULL. in_cluster: the client is
 * a pod, which an externalTrafficPolicy=Local frontend serves from every
 * backend (its SCOPE_INTERNAL twin), as kube-proxy does. */
static __always_inline const struct svc_val *lb_frontend(const struct pkt *p, bool in_cluster)
{
	struct svc_key k = { .vip = p->daddr, .port = p->dport, .proto = p->proto, .scope = SL_SCOPE_ALL };
	const struct svc_val *s = bpf_map_lookup_elem(&sl_svc, &k);
	const struct svc_val *internal;

	if (!s || !in_cluster || !svc_has_internal(s))
		return s;
	k.scope = SL_SCOPE_INTERNAL;
	internal = bpf_map_lookup_elem(&sl_svc, &k);
	return internal ? internal : s;
}

/* loadBalancerSourceRanges: true when the client is inside one of the
 * frontend's prefixes. The prefix counts the 64 frontend bits, then all 32
 * client bits: the trie finds the longest match. */
static __always_inline bool lb_src_allowed(const struct pkt *p)
{
	struct srcrange_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = 96;
	k.vip = p->daddr;
	k.port = p->dport;
	k.proto = p->proto;
	k.client = p->saddr;
	return bpf_map_lookup_elem(&sl_srcrange, &k) != NULL;
}

/* The backend (bset, id), both network order, or NULL. */
static __always_inline const struct be_val *lb_backend(__be32 bset, __be32 id)
{
	struct be_key k = { .bset = bset, .id = id };

	return bpf_map_lookup_elem(&sl_be, &k);
}

static __always_inline __u64 lb_mix64(__u64 h)
{
	/* MurmurHash3's finalizer: every input bit reaches every output bit */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Hash of the flow's 5-tuple; seed separates uses (backend pick, SNAT port). */
static __always_inline __u32 lb_flow_hash(const struct pkt *p, __u64 seed)
{
	__u64 addrs = ((__u64)p->saddr << 32) | p->daddr;
	__u64 rest = ((__u64)p->sport << 32) | ((__u64)p->dport << 16) | p->proto;

	return lb_mix64(lb_mix64(addrs ^ seed) ^ rest);
}

/* The backend id (network order) in Maglev slot `slot` of bset, 0 if none. */
static __always_inline __be32 lb_slot_id(__be32 bset, __u32 slot)
{
	struct maglev_key k = { .bset = bset, .chunk = bpf_htonl(slot / SL_MAGLEV_CHUNK) };
	const struct maglev_val *v = bpf_map_lookup_elem(&sl_maglev, &k);

	if (!v)
		return 0;
	return bpf_htonl(v->id[slot % SL_MAGLEV_CHUNK]);
}

/* Rendezvous hashing: the index of the id, among the first n of v, whose
 * hash with the flow's is highest (the first such on a tie). Removing a
 * backend moves only its own flows, and each backend gets a fair share of
 * flows with no table to approximate it; a pick costs a hash a backend, so
 * only small sets are picked so (SL_RENDEZVOUS_MAX). A global function of
 * its own, so that the probing after it is verified once, not once for
 * each index it may return. */
__attribute__((noinline)) int lb_rendezvous(const struct maglev_val *v, __u32 n, __u32 hash)
{
	__u64 top = 0;
	int best = 0;

	if (!v)
		return 0;
	for (int i = 0; i < SL_RENDEZVOUS_MAX; i++) {
		__u64 w;

		if (i >= n)
			break;
		w = lb_mix64((__u64)hash << 32 | v->id[i]);
		if (i == 0 || w > top) {
			top = w;
			best = i;
		}
	}
	return best;
}

/* Fills out from the set's selection, the backend of the flow whose hash is
 * hash: a small set's rendezvous winner, else the Maglev table's slot for
 * the flow; from there, the first whose backend exists, trying the next id
 * or slot up to LB_PROBE_SLOTS times. Returns 1, or 0 when none of them
 * does. A global function: verified inline at every path that picks, its
 * loops were most of the verifier's work (a tc program took 202,000-213,000
 * instructions to verify, now 56,000-68,000; the load, 0.46 s to 0.17 s). */
__attribute__((noinline)) int lb_pick_hashed(const struct svc_val *s, __be32 bset, __u32 hash, struct lb_pick *out)
{
	struct maglev_key k = { .bset = bset, .chunk = 0 };
	const struct maglev_val *v = NULL;	/* a small set's ids, once looked up */
	__u32 slots, slot;

	if (!s || !out)
		return 0;
	slots = s->slots;
	if (slots == 0)
		return 0;
	if (slots <= SL_RENDEZVOUS_MAX) {
		v = bpf_map_lookup_elem(&sl_maglev, &k);
		if (!v)
			return 0;
		slot = lb_rendezvous(v, slots, hash);
		if (slot >= slots)
			return 0;	/* never: for the verifier */
	} else {
		slot = hash % slots;
	}
	for (int i = 0; i <= LB_PROBE_SLOTS; i++) {
		__be32 id = v ? bpf_htonl(v->id[slot % SL_MAGLEV_CHUNK]) : lb_slot_id(bset, slot);
		const struct be_val *b = id ? lb_backend(bset, id) : NULL;

		if (b) {
			out->id = id;
			out->be = *b;
			return 1;
		}
		slot = slot + 1 < slots ? slot + 1 : 0;
	}
	return 0;
}

/* sessionAffinity: the client's previous backend, if it was used within
 * the timeout and still exists. */
static __always_inline bool lb_pick_affine(const struct svc_val *s, __be32 bset, __be32 client, __u64 now,
					   struct lb_pick *out)
{
	struct affinity_key k = { .bset = bset, .client = client };
	const struct affinity_val *a = bpf_map_lookup_elem(&sl_affinity, &k);
	const struct be_val *b;

	if (!a || now - a->used >= (__u64)s->affinity * NSEC_PER_SEC)
		return false;
	b = lb_backend(bset, a->backend);
	if (!b)
		return false;
	out->id = a->backend;
	out->be = *b;
	return true;
}

/* The timeout counts from the client's last new flow, as kube-proxy's
 * `recent` match does. */
static __always_inline void lb_affinity_record(__be32 bset, __be32 client, __be32 backend, __u64 now)
{
	struct affinity_key k = { .bset = bset, .client = client };
	struct affinity_val v = { .used = now, .backend = backend, .pad = 0 };

	bpf_map_update_elem(&sl_affinity, &k, &v, BPF_ANY);
}

/* Chooses the backend of a new flow of client to service s: its affine
 * backend, else the one hash selects (the packet path hashes the 5-tuple,
 * the socket path the socket). Returns false when there is none (caller:
 * SL_DROP_NO_BACKEND). */
static __always_inline bool lb_pick(const struct svc_val *s, __be32 client, __u32 hash, __u64 now,
				    struct lb_pick *out)
{
	__be32 bset = bpf_htonl(s->bset);
	bool affine = svc_has_affinity(s);

	out->bset = bset;
	if (!(affine && lb_pick_affine(s, bset, client, now, out)) && !lb_pick_hashed(s, bset, hash, out))
		return false;
	if (affine)
		lb_affinity_record(bset, client, out->id, now);
	return true;
}

#endif /* SLUICE_LIB_LB_H */
