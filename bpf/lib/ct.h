/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking (sl_ct). A translated flow has two entries, each keyed
 * by a tuple as packets arrive and valued by the tuple to rewrite them to:
 * the client entry (client -> VIP becomes client -> backend) and the reply
 * entry (backend -> client becomes VIP -> client). Each entry's key is the
 * reverse of the other's value tuple, so from either one the other is found
 * (ct_pair_key: one exception, the backend's node of a DSR flow). The
 * flow's state and deadline are kept equal in both.
 */
#ifndef SLUICE_LIB_CT_H
#define SLUICE_LIB_CT_H

#include "common.h"
#include "config.h"
#include "parse.h"
#include "sluice_maps.h"

static __always_inline void ct_key_of(struct ct_key *k, const struct pkt *p)
{
	__builtin_memset(k, 0, sizeof(*k));	/* pad is hashed: zero it */
	k->saddr = p->saddr;
	k->daddr = p->daddr;
	k->sport = p->sport;
	k->dport = p->dport;
	k->proto = p->proto;
}

/* The key of the packets going the other way to those of key k, as they
 * look on the same wire (no translation between). */
static __always_inline void ct_reverse_key(struct ct_key *rk, const struct ct_key *k)
{
	__builtin_memset(rk, 0, sizeof(*rk));
	rk->saddr = k->daddr;
	rk->daddr = k->saddr;
	rk->sport = k->dport;
	rk->dport = k->sport;
	rk->proto = k->proto;
}

/* The key of the entry that matches packets going the other way to those
 * rewritten by v: the peer of v's own entry. */
static __always_inline void ct_peer_key(struct ct_key *k, const struct ct_val *v, __u8 proto)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->saddr = v->daddr;
	k->daddr = v->saddr;
	k->sport = v->dport;
	k->dport = v->sport;
	k->proto = proto;
}

static __always_inline bool ct_is_reply(const struct ct_val *v)
{
	return v->flags & SL_CT_REPLY;
}

/* Tracked for policy only: neither entry rewrites anything. */
static __always_inline bool ct_is_plain(const struct ct_val *v)
{
	return v->flags & SL_CT_PLAIN;
}

/* The frontend's node's client entry of a DSR flow: its packets carry the
 * DSR option, and the answers bypass this node. */
static __always_inline bool ct_is_dsr_client(const struct ct_val *v)
{
	return (v->flags & (SL_CT_DSR | SL_CT_REPLY)) == SL_CT_DSR;
}

/* Made on the backend's node from a DSR option. */
static __always_inline bool ct_is_dsr_backend(const struct ct_val *v)
{
	return v->flags & SL_CT_DSR_BACKEND;
}

/* Whether the stack would refuse a packet that entry v rewrote, arriving by
 * hook, on default sysctls (lib/fwd.h): an answer, whose source is a
 * frontend again, and a client's packet SNATed to the node's address. */
static __always_inline bool ct_stack_refuses(const struct ct_val *v, enum sl_hook hook)
{
	return ct_is_reply(v) || (hook == SL_HOOK_FROM_NETDEV && (v->flags & SL_CT_SNAT));
}

/* The key of the other entry of the flow whose entry k has value v. On the
 * backend's node of a DSR flow the reply entry rewrites to a frontend that
 * is another node's, and its pair is the reverse of its own key; the client
 * entry there rewrites nothing, so both rules agree for it. */
static __always_inline void ct_pair_key(struct ct_key *pk, const struct ct_key *k, const struct ct_val *v)
{
	if (ct_is_dsr_backend(v))
		ct_reverse_key(pk, k);
	else
		ct_peer_key(pk, v, k->proto);
}

/* The entry for k, or NULL when there is none or it has expired. */
static __always_inline struct ct_val *ct_lookup(const struct ct_key *k, __u64 now)
{
	struct ct_val *v = bpf_map_lookup_elem(&sl_ct, k);

	if (!v || v->expires <= now)
		return NULL;
	return v;
}

static __always_inline __u64 ct_lifetime_ns(__u8 proto, __u8 state)
{
	__u32 s;

	if (proto == IPPROTO_UDP)
		s = sl_cfg.ct_udp_s;
	else if (proto != IPPROTO_TCP)
		s = sl_cfg.ct_other_s;
	else if (state == SL_CT_NEW)
		s = sl_cfg.ct_syn_s;
	else if (state == SL_CT_ESTABLISHED)
		s = sl_cfg.ct_est_s;
	else if (state == SL_CT_CLOSING)
		s = sl_cfg.ct_fin_s;
	else
		s = sl_cfg.ct_rst_s;
	return (__u64)s * NSEC_PER_SEC;
}

/* The flow's state after a packet matching entry v, before the peer's FIN
 * is looked at (ct_refresh does that). Pure. */
static __always_inline __u8 ct_next_state(const struct ct_val *v, const struct pkt *p)
{
	if (pkt_is_tcp(p)) {
		if (p->tcp_flags & SL_TCP_RST)
			return SL_CT_CLOSED;
		if (p->tcp_flags & SL_TCP_FIN)
			return v->state > SL_CT_CLOSING ? v->state : SL_CT_CLOSING;
		/* DSR: the answers bypass this node, so the client's ACK
		 * without SYN (it had the SYN-ACK) shows the flow established */
		if (ct_is_dsr_client(v) && v->state == SL_CT_NEW &&
		    (p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_ACK)
			return SL_CT_ESTABLISHED;
	}
	/* the first packet the other side sends makes the flow established */
	if (ct_is_reply(v) && v->state == SL_CT_NEW)
		return SL_CT_ESTABLISHED;
	return v->state;
}

static __always_inline __u8 ct_next_flags(const struct ct_val *v, const struct pkt *p)
{
	if (pkt_is_tcp(p) && (p->tcp_flags & SL_TCP_FIN))
		return v->flags | SL_CT_FIN;
	return v->flags;
}

/* Advances the flow's state and deadline for a packet matching entry k,
 * value v. Writes (v and its peer) only when the state changes or the
 * deadline would move by more than a second: a packet of a busy flow costs
 * no map write. */
static __always_inline void ct_refresh(const struct ct_key *k, struct ct_val *v, const struct pkt *p, __u64 now)
{
	__u8 state = ct_next_state(v, p), flags = ct_next_flags(v, p);
	__u64 expires = now + ct_lifetime_ns(p->proto, state);
	struct ct_val *peer;
	struct ct_key pk;

	if (state == v->state && flags == v->flags && expires < v->expires + NSEC_PER_SEC)
		return;
	ct_pair_key(&pk, k, v);
	peer = bpf_map_lookup_elem(&sl_ct, &pk);
	if (peer) {
		if (state == SL_CT_CLOSING && (flags & SL_CT_FIN) && (peer->flags & SL_CT_FIN)) {
			state = SL_CT_CLOSED;	/* both sides have sent their FIN */
			expires = now + ct_lifetime_ns(p->proto, state);
		}
		peer->state = state;
		peer->expires = expires;
	}
	v->state = state;
	v->flags = flags;
	v->expires = expires;
}

/* Deletes entry k (value v) and its peer. */
static __always_inline void ct_delete_flow(const struct ct_key *k, const struct ct_val *v)
{
	struct ct_key pk;

	ct_pair_key(&pk, k, v);
	bpf_map_delete_elem(&sl_ct, &pk);
	bpf_map_delete_elem(&sl_ct, k);
}

/* A new flow's client entry value: rewrite to (saddr, daddr, sport, dport). */
static __always_inline void ct_client_val(struct ct_val *v, __be32 saddr, __be32 daddr, __be16 sport,
					  __be16 dport, __be32 bset, __be32 backend, __u8 flags)
{
	__builtin_memset(v, 0, sizeof(*v));
	v->saddr = saddr;
	v->daddr = daddr;
	v->sport = sport;
	v->dport = dport;
	v->bset = bset;
	v->backend = backend;
	v->state = SL_CT_NEW;
	v->flags = flags;
}

/* The reply entry of client entry (k, cv): rewrites answers back to the
 * reverse of the client's own tuple (k as the client sent it). */
static __always_inline void ct_reply_val(struct ct_val *rv, const struct ct_key *k, const struct ct_val *cv)
{
	__builtin_memset(rv, 0, sizeof(*rv));
	rv->saddr = k->daddr;
	rv->daddr = k->saddr;
	rv->sport = k->dport;
	rv->dport = k->sport;
	rv->expires = cv->expires;
	rv->bset = cv->bset;
	rv->backend = cv->backend;
	rv->state = cv->state;
	rv->flags = cv->flags | SL_CT_REPLY;
	rv->polgen = cv->polgen;
}

/* Inserts both entries, the reply one first so a client entry never exists
 * without it. Returns < 0 when the map refused (caller: SL_DROP_CT_FULL). */
static __always_inline int ct_create(const struct ct_key *k, const struct ct_val *cv, const struct ct_key *rk,
				     const struct ct_val *rv)
{
	if (bpf_map_update_elem(&sl_ct, rk, rv, BPF_ANY) < 0)
		return -1;
	if (bpf_map_update_elem(&sl_ct, k, cv, BPF_ANY) < 0) {
		bpf_map_delete_elem(&sl_ct, rk);
		return -1;
	}
	return 0;
}

/* Tracks an untranslated flow whose client sends tuple k, for policy: the
 * reply entry lets its answers pass, and both carry the epoch it was
 * allowed under. Returns < 0 when the map refused (caller: SL_DROP_CT_FULL). */
static __always_inline int ct_create_plain(const struct ct_key *k, __u32 polgen, __u64 now)
{
	struct ct_val cv, rv;
	struct ct_key rk;

	ct_client_val(&cv, k->saddr, k->daddr, k->sport, k->dport, 0, 0, SL_CT_PLAIN);
	cv.expires = now + ct_lifetime_ns(k->proto, SL_CT_NEW);
	cv.polgen = polgen;
	ct_reply_val(&rv, k, &cv);
	ct_peer_key(&rk, &cv, k->proto);
	return ct_create(k, &cv, &rk, &rv);
}

#endif /* SLUICE_LIB_CT_H */
