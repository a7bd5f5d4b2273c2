/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where NetworkPolicy (lib/policy.h) meets conntrack. While the cluster has a
 * policy, every flow of a local pod is tracked, so that a flow is judged on
 * its first packet only and its answers and related ICMP errors pass by its
 * entries:
 * - a service flow is judged on its backend, before its entries are made
 *   (flow.h flow_start; dsr.h for a DSR flow's backend);
 * - any other flow of a local pod gets a pair of entries that rewrite
 *   nothing (SL_CT_PLAIN) where this node first sees it: sl_from_pod for
 *   what a pod sends, sl_from_netdev for what comes in for a local pod (so
 *   before it is forwarded past the stack into the pod, which skips
 *   sl_to_pod), sl_to_pod for what the stack delivers.
 * Each entry carries the policy epoch it was allowed under (ct_val.polgen);
 * a packet of a flow allowed under an older one has its flow judged again
 * (enforce_recheck), and a flow policy no longer allows is cut (flow.h
 * flow_cut). With --policy-established keep (SL_CFG_POLICY_KEEP) tracked
 * flows are never judged again.
 *
 * A TCP segment other than a SYN that finds no entry (evicted, older than
 * the first policy, or kept across an upgrade) belongs to a connection
 * either end may have opened: it passes when the flow is allowed either
 * way, and is then tracked that way round. UDP, SCTP and the rest are
 * judged the way the packet goes only: an answer would otherwise let any
 * host reach a listener. A TCP RST without an entry passes untracked (it
 * opens nothing, and a cut flow's last RST has no entry left), and so does
 * ICMP fragmentation-needed, which path MTU discovery needs whatever the
 * policy.
 *
 * Fragments (pkt_parse's p->frag): the first carries the ports and is
 * judged like any first packet, and leaves its datagram's id in sl_frag;
 * the ones after it pass when that id is there, else are dropped for an
 * isolated pod (SL_DROP_FRAG_UNTRACKED). The stack forwards fragments, so
 * they meet sl_to_pod on their way into a pod: sl_from_netdev leaves them
 * to it.
 */
#ifndef SLUICE_LIB_ENFORCE_H
#define SLUICE_LIB_ENFORCE_H

#include "common.h"
#include "config.h"
#include "ct.h"
#include "fwd.h"
#include "icmp.h"
#include "parse.h"
#include "policy.h"
#include "stats.h"
#include "sluice_maps.h"

#define FRAG_LIFETIME_NS (30 * NSEC_PER_SEC)	/* Linux's ipfrag_time */

static __always_inline bool cfg_keeps_established(void)
{
	return sl_cfg.flags & SL_CFG_POLICY_KEEP;
}

/* Whether entry v was allowed under another epoch than pol's. */
static __always_inline bool enforce_is_stale(const struct ct_val *v, const struct polstate_val *pol)
{
	return pol && !cfg_keeps_established() && v->polgen != pol->epoch;
}

/* Which ends of a new flow arriving by hook are local pods, by the
 * interface: the sender of what a pod's interface brings in, the receiver
 * of what goes out to it (sl_from_netdev only gets here for a local pod). */
static __always_inline __u32 enforce_local(enum sl_hook hook, const struct pkt *p)
{
	if (hook != SL_HOOK_FROM_POD)
		return POL_LOCAL_DST;
	return POL_LOCAL_SRC | (fwd_is_local_pod(p->daddr) ? POL_LOCAL_DST : 0);
}

/* The flow entry (k, v) belongs to as policy judges it: the client, the
 * server (after DNAT: the backend) and the server's port. */
static __always_inline void enforce_flow_of(const struct ct_key *k, const struct ct_val *v, __be32 *src, __be32 *dst,
					    __be16 *port)
{
	if (ct_is_reply(v)) {
		*src = v->daddr;
		*dst = k->saddr;
		*port = k->sport;
	} else {
		*src = k->saddr;
		*dst = v->daddr;
		*port = v->dport;
	}
}

/* Judges the flow of a stale entry (k, v), arriving by hook, again: on
 * POL_ALLOW the entry takes pol's epoch; else returns the reason. */
static __always_inline int enforce_recheck(const struct ct_key *k, struct ct_val *v, enum sl_hook hook,
					     const struct polstate_val *pol)
{
	/* the local pod, by the interface: a pod's sender, or the receiver
	 * (after the rewrite) of what goes out to it */
	__be32 local_addr = hook == SL_HOOK_FROM_POD ? k->saddr : hook == SL_HOOK_TO_POD ? v->daddr : 0;
	__be32 src, dst;
	__be16 port;
	__u32 local = 0;
	int why;

	enforce_flow_of(k, v, &src, &dst, &port);
	if (local_addr)
		local = (src == local_addr ? POL_LOCAL_SRC : 0) | (dst == local_addr ? POL_LOCAL_DST : 0);
	why = pol_verdict(src, dst, k->proto, pol_port(k->proto, port), local);
	if (why == POL_ALLOW)
		v->polgen = pol->epoch;
	return why;
}

/* sl_to_pod: whether p is a packet of a flow this node translated before
 * the stack, or a hairpin's bounce, delivered it: its own tuple has no
 * entry, its reverse has one. The client's packet after DNAT finds the
 * reply entry so; an answer after the reverse translation (a pod's flow to
 * itself through a Service) the client entry. Such a packet was judged
 * with its flow (and a pair made for it would replace that flow's entry). */
static __always_inline bool enforce_translated_here(const struct ct_key *k, __u64 now)
{
	struct ct_key rk;

	ct_reverse_key(&rk, k);
	return ct_lookup(&rk, now) != NULL;
}

/* A TCP segment that may belong to a connection either end opened: not a
 * SYN alone (a new connection), not a RST (passes anyway). */
static __always_inline bool enforce_either_way(const struct pkt *p)
{
	return pkt_is_tcp(p) && (p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) != SL_TCP_SYN;
}

static __always_inline bool enforce_passes_untracked(const struct pkt *p)
{
	if (pkt_is_tcp(p))
		return p->tcp_flags & SL_TCP_RST;
	return p->proto == IPPROTO_ICMP && p->icmp_type == ICMP_DEST_UNREACH && p->icmp_code == ICMP_FRAG_NEEDED;
}

/*
 * The first packet of a flow no service translates, arriving by hook, while
 * pol holds: judged, and tracked when allowed (ICMP errors are judged, not
 * tracked: they are no flow). Returns SL_NEXT when the packet passes
 * untranslated, else a drop.
 */
static __always_inline int enforce_new_plain(struct __sk_buff *skb, const struct pkt *p, enum sl_hook hook,
					     const struct polstate_val *pol, __u64 now)
{
	__u32 local;
	int why;
	struct ct_key k, sent;

	if (!pol || enforce_passes_untracked(p))
		return SL_NEXT;
	/* the node's interface: only flows for its pods are its to judge */
	if (hook == SL_HOOK_FROM_NETDEV && !fwd_is_local_pod(p->daddr))
		return SL_NEXT;
	ct_key_of(&k, p);
	if (hook == SL_HOOK_TO_POD && enforce_translated_here(&k, now))
		return SL_NEXT;
	local = enforce_local(hook, p);
	why = pol_verdict(p->saddr, p->daddr, p->proto, pol_port(p->proto, p->dport), local);
	if (why != POL_ALLOW && enforce_either_way(p)) {
		__u32 back = (local & POL_LOCAL_SRC ? POL_LOCAL_DST : 0) | (local & POL_LOCAL_DST ? POL_LOCAL_SRC : 0);

		if (pol_verdict(p->daddr, p->saddr, p->proto, pol_port(p->proto, p->sport), back) == POL_ALLOW) {
			/* tracked as the other end's connection */
			why = POL_ALLOW;
			sent = k;
			ct_reverse_key(&k, &sent);
		}
	}
	if (why != POL_ALLOW)
		return stats_drop(skb, why);
	if (icmp_is_error(p))
		return SL_NEXT;
	if (ct_create_plain(&k, pol->epoch, now) < 0)
		return stats_drop(skb, SL_DROP_CT_FULL);
	return SL_NEXT;
}

static __always_inline void enforce_frag_key(struct frag_key *fk, const struct pkt *p)
{
	__builtin_memset(fk, 0, sizeof(*fk));
	fk->saddr = p->saddr;
	fk->daddr = p->daddr;
	fk->id = p->ip_id;
	fk->proto = p->proto;
}

/* The first fragment's verdict: as for a first packet, or by its flow's
 * entry. A translated flow's fragments pass untranslated, as without
 * policy (translating the first alone would split the datagram). Returns
 * SL_NEXT when allowed, else a drop. */
static __always_inline int enforce_first_fragment(struct __sk_buff *skb, const struct pkt *p, enum sl_hook hook,
						  const struct polstate_val *pol, __u64 now)
{
	struct ct_val *v;
	struct ct_key k;

	ct_key_of(&k, p);
	v = ct_lookup(&k, now);
	if (!v)
		return enforce_new_plain(skb, p, hook, pol, now);
	if (enforce_is_stale(v, pol) && enforce_recheck(&k, v, hook, pol) != POL_ALLOW)
		return stats_drop(skb, SL_DROP_POLICY_REVOKED);
	return SL_NEXT;
}

/* A fragment (p->frag) arriving by hook. Returns a verdict. */
static __always_inline int enforce_fragment(struct __sk_buff *skb, const struct pkt *p, enum sl_hook hook,
					    const struct polstate_val *pol, __u64 now)
{
	struct frag_val fv = { .expires = now + FRAG_LIFETIME_NS };
	const struct frag_val *seen;
	struct frag_key fk;
	int r;

	if (!pol || hook == SL_HOOK_FROM_NETDEV)
		return TC_ACT_OK;
	enforce_frag_key(&fk, p);
	if (p->frag == FRAG_FIRST) {
		r = enforce_first_fragment(skb, p, hook, pol, now);
		if (r != SL_NEXT)
			return r;
		bpf_map_update_elem(&sl_frag, &fk, &fv, BPF_ANY);
		return TC_ACT_OK;
	}
	seen = bpf_map_lookup_elem(&sl_frag, &fk);
	if ((seen && seen->expires > now) ||
	    !pol_isolated(p->saddr, p->daddr, hook == SL_HOOK_FROM_POD ? POL_LOCAL_SRC : POL_LOCAL_DST))
		return TC_ACT_OK;
	return stats_drop(skb, SL_DROP_FRAG_UNTRACKED);
}

#endif /* SLUICE_LIB_ENFORCE_H */
