/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A packet's way through the datapath: the conntrack fast path for packets
 * of tracked flows (NetworkPolicy judges a flow again when it changed:
 * lib/enforce.h), and for a service flow's first packet (TCP, UDP) the
 * frontend, source ranges, reject, backend pick, policy on the backend, NAT
 * addresses and conntrack entries; any other flow's first packet meets
 * policy as it is (enforce_new_plain). The entry programs share it; hook (a
 * constant) selects their differences.
 */
#ifndef SLUICE_LIB_FLOW_H
#define SLUICE_LIB_FLOW_H

#include "common.h"
#include "config.h"
#include "ct.h"
#include "dsr.h"
#include "enforce.h"
#include "fwd.h"
#include "icmp.h"
#include "lb.h"
#include "nat.h"
#include "parse.h"
#include "policy.h"
#include "reject.h"
#include "snat.h"
#include "stats.h"

#define FLOW_SNAT_SEED 0x534e4154ULL	/* separates SNAT port hashes from backend picks */

/* A reply entry whose answers must go back out of the node's interface to
 * an external client: the backend was remote, so they came in by it. */
static __always_inline bool flow_returns_external(const struct ct_val *v)
{
	const __u8 all = SL_CT_REPLY | SL_CT_SNAT | SL_CT_EXTERNAL;

	return (v->flags & all) == all;
}

/* Sends an answer back toward the hop the client's packets came from
 * (v->peer_mac), from the MAC it was sent to (ours): forwarded past the
 * stack, which would take the node's own address as its source for a
 * martian. A TTL running out is the stack's (it drops the martian). */
static __always_inline int flow_return_external(struct __sk_buff *skb, const struct pkt *p, const struct ct_val *v)
{
	__u8 macs[2 * ETH_ALEN];

	if (p->ttl <= 1)
		return fwd_to_stack(skb);
	if (bpf_skb_load_bytes(skb, 0, macs, ETH_ALEN) < 0 ||
	    fwd_set_macs(skb, v->peer_mac, macs) < 0 || fwd_ttl_dec(skb, p) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	return bpf_redirect(skb->ifindex, 0);
}

/* Sends a packet back to the pod it came from: the pod drops a frame not
 * addressed to its own MAC, so the addresses swap, as for any answer. */
static __always_inline int flow_bounce(struct __sk_buff *skb, const struct pkt *p)
{
	__u8 macs[2 * ETH_ALEN];

	if (p->ttl <= 1)
		return fwd_to_stack(skb);
	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) < 0 ||
	    fwd_set_macs(skb, macs + ETH_ALEN, macs) < 0 || fwd_ttl_dec(skb, p) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	return bpf_redirect(skb->ifindex, 0);
}

/* Where a rewritten packet goes. sender: its source before the rewrite. */
static __always_inline int flow_forward(struct __sk_buff *skb, enum sl_hook hook, const struct pkt *p,
					__be32 sender, const struct ct_val *v)
{
	/* hairpin: the packet is for the pod that sent it, which is behind
	 * the interface it came in on, so it goes back out of it */
	if (hook == SL_HOOK_FROM_POD && p->daddr == sender)
		return flow_bounce(skb, p);
	if (hook == SL_HOOK_FROM_NETDEV && flow_returns_external(v))
		return flow_return_external(skb, p, v);
	return fwd_translated(skb, p, hook, ct_stack_refuses(v, hook));
}

/* kube-proxy deletes the conntrack entries of UDP flows whose backend left,
 * so that clients (DNS above all) move on to a live one. TCP flows are left
 * to end: their client sees the connection fail and reconnects. */
static __always_inline bool flow_backend_gone(const struct ct_val *v, const struct pkt *p)
{
	/* the backend's node of a DSR flow knows no backend set: the
	 * frontend's node repicks, and its next packet brings the new backend */
	return !ct_is_reply(v) && !pkt_is_tcp(p) && !ct_is_dsr_backend(v) && !ct_is_plain(v) &&
	       !lb_backend(v->bset, v->backend);
}

/* A handshake on the tuple of a closed connection is a new connection: a SYN
 * from the client, or a SYN-ACK toward it, which answers a SYN that reused the
 * client's port to reach the backend some other way (its pod IP, say). */
static __always_inline bool flow_tuple_reused(const struct ct_val *v, const struct pkt *p)
{
	__u8 handshake = ct_is_reply(v) ? SL_TCP_SYN | SL_TCP_ACK : SL_TCP_SYN;

	return pkt_is_tcp(p) && (p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == handshake && v->state >= SL_CT_CLOSING;
}

/* Whether a packet of a tracked flow (entry v, refreshed) carries the DSR
 * option: see lib/dsr.h. */
static __always_inline bool flow_dsr_wants_opt(const struct ct_val *v, const struct pkt *p)
{
	return ct_is_dsr_client(v) && (!pkt_is_tcp(p) || v->state == SL_CT_NEW);
}

/* Adds the DSR option (the frontend vip, port) to a packet of a tracked
 * flow that wants it; one that it does not fit goes without. Returns SL_NEXT,
 * or a drop. */
static __always_inline int flow_dsr_opt(struct __sk_buff *skb, struct pkt *p, __be32 vip, __be16 port)
{
	if (!dsr_opt_fits(skb, p)) {
		stats_count(skb, SL_STAT_DSR_NO_ROOM);
		return SL_NEXT;
	}
	if (dsr_opt_add(skb, p, vip, port) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	stats_count(skb, SL_STAT_DSR_SENT);
	return SL_NEXT;
}

/* Cuts a tracked flow (entry k, v) that policy no longer allows: both
 * entries go, and a TCP packet becomes a RST for the local pod: back to it
 * when it sent the packet, else on to it, rewritten as the flow rewrites
 * its packets, so it carries the addresses the pod's socket knows. */
static __always_inline int flow_cut(struct __sk_buff *skb, struct pkt *p, const struct ct_key *k,
				    const struct ct_val *v, enum sl_hook hook)
{
	struct ct_val flow = *v;	/* v goes with its entry */
	__be32 sender = p->saddr;

	ct_delete_flow(k, &flow);
	stats_count(skb, drop_slot(SL_DROP_POLICY_REVOKED));
	if (!pkt_is_tcp(p) || (p->tcp_flags & SL_TCP_RST))
		return TC_ACT_SHOT;
	if (hook == SL_HOOK_FROM_POD)
		return reject_answer(skb, p) < 0 ? TC_ACT_SHOT : bpf_redirect(skb->ifindex, 0);
	if (!ct_is_plain(&flow) && nat_rewrite(skb, p, flow.saddr, flow.daddr, flow.sport, flow.dport) < 0)
		return TC_ACT_SHOT;
	if (reject_onward(skb, p) < 0)
		return TC_ACT_SHOT;
	if (ct_is_plain(&flow))
		return fwd_plain(skb, p, hook);
	return flow_forward(skb, hook, p, sender, &flow);
}

/* The conntrack fast path. Returns a verdict, or SL_NEXT when the packet
 * starts a new flow (no live entry, or one that must give way). */
static __always_inline int flow_tracked(struct __sk_buff *skb, struct pkt *p, enum sl_hook hook,
					const struct polstate_val *pol, __u64 now)
{
	__be32 sender = p->saddr;
	struct ct_val *v;
	struct ct_key k;

	ct_key_of(&k, p);
	v = ct_lookup(&k, now);
	if (!v)
		return SL_NEXT;
	if (flow_backend_gone(v, p) || flow_tuple_reused(v, p)) {
		if (!pkt_is_tcp(p))
			stats_count(skb, SL_STAT_REPICKED);
		ct_delete_flow(&k, v);
		return SL_NEXT;
	}
	if (enforce_is_stale(v, pol) && enforce_recheck(&k, v, hook, pol) != POL_ALLOW)
		return flow_cut(skb, p, &k, v, hook);
	ct_refresh(&k, v, p, now);
	/* nothing to rewrite: a flow tracked for policy only, or toward a
	 * pod a client's packet the stack brings (translated already, if at
	 * all: the client entry of a DSR flow's backend rewrites nothing) */
	if (ct_is_plain(v) || (hook == SL_HOOK_TO_POD && !ct_is_reply(v)))
		return fwd_plain(skb, p, hook);
	if (nat_rewrite(skb, p, v->saddr, v->daddr, v->sport, v->dport) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	stats_count(skb, SL_STAT_CT_HIT);
	if (hook == SL_HOOK_FROM_NETDEV && flow_dsr_wants_opt(v, p)) {
		/* k is the tuple as the client sent it: to the frontend */
		int r = flow_dsr_opt(skb, p, k.daddr, k.dport);

		if (r != SL_NEXT)
			return r;
	}
	return flow_forward(skb, hook, p, sender, v);
}

/* The conntrack flags of a new flow of service s to backend be. */
static __always_inline __u8 flow_new_flags(struct __sk_buff *skb, enum sl_hook hook, const struct pkt *p,
					   const struct svc_val *s, const struct be_val *be)
{
	if (hook == SL_HOOK_FROM_POD)
		/* hairpin: the pod must not see a packet from itself */
		return be->ip == p->saddr ? SL_CT_SNAT : 0;
	/* A local backend answers through sl_from_pod, which restores the
	 * frontend: DNAT alone keeps the client's address. A remote one
	 * answers through its own node: SNAT to this node brings the answers
	 * back here, or, with DSR, the DSR option tells that node the frontend
	 * to restore (lib/dsr.h). A ClusterIP reached from outside stays
	 * SNATed: it is the cluster's own address, not one to answer from. */
	if (be_is_local(be))
		return SL_CT_EXTERNAL;
	if (cfg_is_dsr() && !svc_is_cluster_ip(s)) {
		if (dsr_opt_fits(skb, p))
			return SL_CT_EXTERNAL | SL_CT_DSR;
		stats_count(skb, SL_STAT_DSR_NO_ROOM);
	}
	return SL_CT_EXTERNAL | SL_CT_SNAT;
}

/* Inserts the entries of a flow SNATed to node_ip: the reply entry at a
 * free port (kept in rk and cv), then the client entry. Returns SL_NEXT, or
 * a drop. */
static __always_inline int flow_create_snat(struct __sk_buff *skb, const struct pkt *p, const struct ct_key *k,
					    struct ct_val *cv, struct ct_key *rk, struct ct_val *rv, __u64 now)
{
	__be16 port;

	/* the client's packets came from this hop: answers go back to it */
	if (bpf_skb_load_bytes(skb, ETH_ALEN, rv->peer_mac, ETH_ALEN) < 0)
		return stats_drop(skb, SL_DROP_MALFORMED);
	port = snat_reserve(rk, rv, lb_flow_hash(p, FLOW_SNAT_SEED), now);
	if (!port)
		return stats_drop(skb, SL_DROP_NAT_PORTS);
	cv->sport = port;
	if (bpf_map_update_elem(&sl_ct, k, cv, BPF_ANY) < 0) {
		bpf_map_delete_elem(&sl_ct, rk);
		return stats_drop(skb, SL_DROP_CT_FULL);
	}
	return SL_NEXT;
}

/* Tracks and translates the first packet of a flow of service s to backend
 * pick, once policy allows the flow to that backend (pol: NULL while the
 * cluster has no NetworkPolicy). */
static __always_inline int flow_start(struct __sk_buff *skb, struct pkt *p, enum sl_hook hook,
				      const struct svc_val *s, const struct lb_pick *pick,
				      const struct polstate_val *pol, __u64 now)
{
	__u8 flags = flow_new_flags(skb, hook, p, s, &pick->be);
	__be32 sender = p->saddr, saddr = p->saddr;
	struct ct_key k, rk;
	struct ct_val cv, rv;
	int r;

	if (pol) {
		/* a pod's flow is judged with its sender known by the interface */
		int why = pol_verdict(p->saddr, pick->be.ip, p->proto, pick->be.port,
					hook == SL_HOOK_FROM_POD ? POL_LOCAL_SRC : 0);

		if (why != POL_ALLOW)
			return stats_drop(skb, why);
	}
	if (flags & SL_CT_SNAT)
		saddr = hook == SL_HOOK_FROM_POD ? sl_cfg.hairpin_ip : sl_cfg.node_ip;
	ct_key_of(&k, p);
	ct_client_val(&cv, saddr, pick->be.ip, p->sport, pick->be.port, pick->bset, pick->id, flags);
	cv.expires = now + ct_lifetime_ns(p->proto, SL_CT_NEW);
	cv.polgen = pol ? pol->epoch : 0;
	ct_reply_val(&rv, &k, &cv);
	ct_peer_key(&rk, &cv, p->proto);
	if (hook == SL_HOOK_FROM_NETDEV && (flags & SL_CT_SNAT)) {
		r = flow_create_snat(skb, p, &k, &cv, &rk, &rv, now);
		if (r != SL_NEXT)
			return r;
	} else if (ct_create(&k, &cv, &rk, &rv) < 0) {
		return stats_drop(skb, SL_DROP_CT_FULL);
	}
	if (nat_rewrite(skb, p, cv.saddr, cv.daddr, cv.sport, cv.dport) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	stats_count(skb, SL_STAT_TRANSLATED);
	if (hook == SL_HOOK_FROM_NETDEV && (flags & SL_CT_DSR)) {
		/* the frontend, as the client addressed it: k */
		if (dsr_opt_add(skb, p, k.daddr, k.dport) < 0)
			return stats_drop(skb, SL_DROP_REWRITE);
		stats_count(skb, SL_STAT_DSR_SENT);
	}
	return flow_forward(skb, hook, p, sender, &cv);
}

/* The first packet of a flow: not a service -> SL_NEXT, untouched; then
 * source ranges, reject when the service has no backend, backend pick. */
static __always_inline int flow_new(struct __sk_buff *skb, struct pkt *p, enum sl_hook hook,
				    const struct polstate_val *pol, __u64 now)
{
	const struct svc_val *s = lb_frontend(p, hook == SL_HOOK_FROM_POD);
	struct lb_pick pick;

	if (!s)
		return SL_NEXT;
	if (svc_has_src_ranges(s) && !lb_src_allowed(p))
		return stats_drop(skb, SL_DROP_SRC_RANGE);
	if (s->count == 0)
		return reject(skb, p);
	if (!lb_pick(s, p->saddr, lb_flow_hash(p, 0), now, &pick))
		return stats_drop(skb, SL_DROP_NO_BACKEND);
	return flow_start(skb, p, hook, s, &pick, pol, now);
}

/* A whole packet (not a fragment) arriving by hook: an ICMP error about a
 * tracked flow, a packet of a tracked flow, a service flow's first packet
 * (not toward a pod: those come translated), any other flow's first packet.
 * pol: the policy state, NULL while the cluster has no NetworkPolicy (then
 * only service flows are tracked). Returns a verdict, or SL_NEXT when the
 * packet passes untranslated (the caller's fwd_plain). */
static __always_inline int flow_handle(struct __sk_buff *skb, struct pkt *p, enum sl_hook hook,
				       const struct polstate_val *pol, __u64 now)
{
	int r = pkt_has_ports(p) ? SL_NEXT : icmp_error_translate(skb, p, hook);

	if (r == SL_NEXT && (pkt_has_ports(p) || pol))
		r = flow_tracked(skb, p, hook, pol, now);
	if (r == SL_NEXT && pkt_has_ports(p) && hook != SL_HOOK_TO_POD)
		r = flow_new(skb, p, hook, pol, now);
	if (r == SL_NEXT)
		r = enforce_new_plain(skb, p, hook, pol, now);
	return r;
}

#endif /* SLUICE_LIB_FLOW_H */
