/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Direct Server Return (sl_cfg.flags SL_CFG_DSR) for external clients of
 * NodePort, ExternalIP and LoadBalancer frontends whose backend is on
 * another node. The frontend's node DNATs the client's packet without SNAT
 * and puts the frontend into the DSR option (struct dsr_opt, first after the
 * fixed IPv4 header); the backend's node takes the option off, tracks the
 * flow from it, and its sl_from_pod gives the backend's answers the frontend
 * as their source, so they go to the client directly.
 *
 * Which packets carry the option (flow_dsr_wants_opt): a flow's first
 * packet, and after it every UDP packet and every TCP packet while the flow
 * is NEW here (a retransmitted SYN). The backend's node needs the option
 * only until it tracks the flow, but the frontend's node cannot see whether
 * it does: for TCP the client's ACK of the SYN-ACK proves it (the SYN-ACK
 * came from there), UDP has no such sign, and a UDP flow whose first
 * datagram was lost on the way would otherwise never be tracked there. A
 * packet the option would push past the MTU goes without it, and a new flow
 * whose first packet would is SNATed instead (SL_STAT_DSR_NO_ROOM): a TCP
 * flow starts with a SYN, which has room unless it carries data (TCP Fast
 * Open).
 *
 * The backend's node strips the option rather than leaving it: the pod sees
 * the packet as without DSR (Linux ignores an unknown option, but a pod's
 * own stack or a capture need not), and the pod's header and MTU stay as
 * they are.
 */
#ifndef SLUICE_LIB_DSR_H
#define SLUICE_LIB_DSR_H

#include "common.h"
#include "config.h"
#include "ct.h"
#include "parse.h"
#include "policy.h"
#include "stats.h"

#define DSR_IP_OPT_OFF	(ETH_HLEN + sizeof(struct iphdr))
#define DSR_IP_HLEN_MAX	60

/* The first 4 bytes of the IPv4 header: version and ihl, tos, tot_len. */
struct dsr_ip_head {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
};

/* The header bytes adding or taking off the option changes: the first 4,
 * and the option itself. */
struct dsr_csum_span {
	struct dsr_ip_head head;
	struct dsr_opt opt;
};

/* Whether the option fits into this packet: under the 60-byte header limit,
 * not a GSO packet (whose segments the MTU check cannot see), and within the
 * MTU of the interface it came in by, which is the one it leaves by on a
 * node with one interface (a node with several may still send it out of a
 * smaller one). */
static __always_inline bool dsr_opt_fits(struct __sk_buff *skb, const struct pkt *p)
{
	__u32 mtu = 0;

	if (p->l4_off - ETH_HLEN + SL_DSR_OPT_LEN > DSR_IP_HLEN_MAX || skb->gso_size)
		return false;
	return bpf_check_mtu(skb, 0, &mtu, SL_DSR_OPT_LEN, 0) == 0;
}

/* Fixes the header checksum for the head changing from from->head to
 * to->head while the option appears (added: to->opt) or goes (from->opt). */
static __always_inline int dsr_fix_csum(struct __sk_buff *skb, struct dsr_csum_span *from, struct dsr_csum_span *to,
					bool added)
{
	__s64 diff;

	/* the span with the option is whole, the other only its head */
	if (added)
		diff = bpf_csum_diff((__be32 *)from, sizeof(from->head), (__be32 *)to, sizeof(*to), 0);
	else
		diff = bpf_csum_diff((__be32 *)from, sizeof(*from), (__be32 *)to, sizeof(to->head), 0);
	if (diff < 0)
		return -1;
	return bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, diff, 0);
}

/* Inserts the option (vip, port: the frontend) first after the fixed header
 * of a packet dsr_opt_fits, and updates p. Returns < 0 when a helper failed
 * (caller: SL_DROP_REWRITE). The L4 checksum stays valid (the pseudo-header
 * has no IP options), so an offloaded checksum state is kept. */
static __always_inline int dsr_opt_add(struct __sk_buff *skb, struct pkt *p, __be32 vip, __be16 port)
{
	struct dsr_csum_span from, to;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &from.head, sizeof(from.head)) < 0)
		return -1;
	if (bpf_skb_adjust_room(skb, SL_DSR_OPT_LEN, BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET) < 0)
		return -1;
	to.head = from.head;
	to.head.ver_ihl += SL_DSR_OPT_LEN / 4;
	to.head.tot_len = bpf_htons(bpf_ntohs(from.head.tot_len) + SL_DSR_OPT_LEN);
	to.opt.type = SL_DSR_OPT_TYPE;
	to.opt.len = SL_DSR_OPT_LEN;
	to.opt.port = port;
	to.opt.vip = vip;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &to.head, sizeof(to.head), 0) < 0 ||
	    bpf_skb_store_bytes(skb, DSR_IP_OPT_OFF, &to.opt, sizeof(to.opt), 0) < 0 ||
	    dsr_fix_csum(skb, &from, &to, true) < 0)
		return -1;
	/* The grown space was zeros, and the header sums to the same before
	 * and after, so a CHECKSUM_COMPLETE skb->csum still holds. */
	p->l4_off += SL_DSR_OPT_LEN;
	return 0;
}

/* Reads the option into opt when it is the first one of p's header. */
static __always_inline bool dsr_opt_read(struct __sk_buff *skb, const struct pkt *p, struct dsr_opt *opt)
{
	if (p->l4_off < DSR_IP_OPT_OFF + SL_DSR_OPT_LEN)
		return false;
	if (bpf_skb_load_bytes(skb, DSR_IP_OPT_OFF, opt, sizeof(*opt)) < 0)
		return false;
	return opt->type == SL_DSR_OPT_TYPE && opt->len == SL_DSR_OPT_LEN;
}

/* Takes the option (read into opt) off p's header and parses p again.
 * Returns < 0 when a helper failed (caller: SL_DROP_REWRITE). */
static __always_inline int dsr_opt_strip(struct __sk_buff *skb, struct pkt *p, const struct dsr_opt *opt)
{
	struct dsr_csum_span from, to;
	__s64 opt_sum;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &from.head, sizeof(from.head)) < 0)
		return -1;
	from.opt = *opt;
	if (bpf_skb_adjust_room(skb, -SL_DSR_OPT_LEN, BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET) < 0)
		return -1;
	to.head = from.head;
	to.head.ver_ihl -= SL_DSR_OPT_LEN / 4;
	to.head.tot_len = bpf_htons(bpf_ntohs(from.head.tot_len) - SL_DSR_OPT_LEN);
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &to.head, sizeof(to.head), 0) < 0 ||
	    dsr_fix_csum(skb, &from, &to, false) < 0)
		return -1;
	/* The shrink took the option's bytes out of a CHECKSUM_COMPLETE
	 * skb->csum, but the header, valid again, sums as before: put them
	 * back. (Fails, harmlessly, for any other checksum state.) */
	opt_sum = bpf_csum_diff(0, 0, (__be32 *)opt, sizeof(*opt), 0);
	if (opt_sum >= 0)
		bpf_csum_update(skb, opt_sum);
	/* parsed afresh rather than p->l4_off moved: the verifier then knows
	 * the offsets' bounds as for any packet */
	return pkt_parse(skb, p) == PARSE_OK ? 0 : -1;
}

/* Whether the backend's node tracks p's flow for frontend opt already: a
 * live reply entry restoring that frontend. A SYN starts afresh anyway (a
 * new connection on the tuple of an old one). */
static __always_inline bool dsr_tracked(const struct pkt *p, const struct dsr_opt *opt, __u64 now)
{
	const struct ct_val *rv;
	struct ct_key k, rk;

	if (pkt_is_tcp(p) && (p->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN)
		return false;
	ct_key_of(&k, p);
	ct_reverse_key(&rk, &k);
	rv = ct_lookup(&rk, now);
	return rv && ct_is_dsr_backend(rv) && rv->saddr == opt->vip && rv->sport == opt->port;
}

/* The backend's node: the entries of a flow from a DSR option. The client
 * entry (client -> backend) rewrites nothing and is there for the flow's
 * state; the reply entry turns the backend's answers into frontend ->
 * client. Returns < 0 when the map refused (caller: SL_DROP_CT_FULL). */
static __always_inline int dsr_track(const struct pkt *p, const struct dsr_opt *opt, __u32 polgen, __u64 now)
{
	struct ct_key k, front, rk;
	struct ct_val cv, rv;

	ct_key_of(&k, p);
	ct_client_val(&cv, p->saddr, p->daddr, p->sport, p->dport, 0, 0, SL_CT_EXTERNAL | SL_CT_DSR_BACKEND);
	cv.expires = now + ct_lifetime_ns(p->proto, SL_CT_NEW);
	cv.polgen = polgen;
	/* the tuple the client sent, to the frontend */
	front = k;
	front.daddr = opt->vip;
	front.dport = opt->port;
	ct_reply_val(&rv, &front, &cv);
	ct_pair_key(&rk, &k, &cv);
	return ct_create(&k, &cv, &rk, &rv);
}

/* sl_from_netdev with DSR on, for a packet that came with the DSR option
 * (read into opt): it is for a local backend of another node's frontend.
 * Takes the option off and makes sure the flow is tracked, once the
 * backend's ingress policy allows the client (pol: NULL while the cluster
 * has no NetworkPolicy). Returns SL_NEXT (the conntrack fast path takes it
 * from there), or a drop. */
static __always_inline int dsr_receive(struct __sk_buff *skb, struct pkt *p, const struct dsr_opt *opt,
				       const struct polstate_val *pol, __u64 now)
{
	__u32 why;

	stats_count(skb, SL_STAT_DSR_RECEIVED);
	if (dsr_opt_strip(skb, p, opt) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	if (dsr_tracked(p, opt, now))
		return SL_NEXT;
	why = pol ? pol_verdict(p->saddr, p->daddr, p->proto, p->dport, 0) : POL_ALLOW;
	if (why != POL_ALLOW)
		return stats_drop(skb, why);
	if (dsr_track(p, opt, pol ? pol->epoch : 0, now) < 0)
		return stats_drop(skb, SL_DROP_CT_FULL);
	return SL_NEXT;
}

#endif /* SLUICE_LIB_DSR_H */
