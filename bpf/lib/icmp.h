/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about translated flows. A router (or the backend itself) that
 * cannot deliver a translated packet quotes it as it saw it: client ->
 * backend. The client's stack matches errors to sockets by the quoted
 * header, so it must read client -> VIP again, or fragmentation-needed never
 * reaches the socket and path MTU discovery breaks. The same holds the other
 * way round, and for SNATed flows.
 *
 * The quoted packet went the opposite way to the error, so the reverse of
 * its tuple is the key of a conntrack entry of its flow; that entry's value,
 * reversed, is the quoted tuple as the error's receiver knows it. The outer
 * header follows: a source that was the quoted packet's destination (the
 * backend answering itself) becomes the VIP, a destination that was the
 * quoted source (a SNAT address) becomes the client.
 */
#ifndef SLUICE_LIB_ICMP_H
#define SLUICE_LIB_ICMP_H

#include "common.h"
#include "csum.h"
#include "ct.h"
#include "fwd.h"
#include "parse.h"
#include "stats.h"

/* The quoted packet of an ICMP error, and where its fields are. */
struct icmp_inner {
	struct ct_key t;	/* its tuple, as quoted */
	__u32 ip_off;		/* its IP header */
	__u32 ports_off;	/* its L4 header: source and destination ports */
	__u32 icmp_csum_off;	/* the outer ICMP checksum */
};

static __always_inline bool icmp_is_error(const struct pkt *p)
{
	return p->proto == IPPROTO_ICMP &&
	       (p->icmp_type == ICMP_DEST_UNREACH || p->icmp_type == ICMP_TIME_EXCEEDED);
}

/* Reads the quoted TCP or UDP header; false when it is something else or
 * quoted too short (the error is then not ours). */
static __always_inline bool icmp_parse_inner(struct __sk_buff *skb, const struct pkt *p, struct icmp_inner *in)
{
	struct iphdr ip;
	__be16 ports[2];

	in->ip_off = p->l4_off + sizeof(struct icmphdr);
	in->icmp_csum_off = p->l4_off + __builtin_offsetof(struct icmphdr, checksum);
	if (bpf_skb_load_bytes(skb, in->ip_off, &ip, sizeof(ip)) < 0)
		return false;
	if (ip.version != 4 || ip.ihl < 5 || (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP))
		return false;
	in->ports_off = in->ip_off + ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, in->ports_off, ports, sizeof(ports)) < 0)
		return false;
	__builtin_memset(&in->t, 0, sizeof(in->t));
	in->t.saddr = ip.saddr;
	in->t.daddr = ip.daddr;
	in->t.sport = ports[0];
	in->t.dport = ports[1];
	in->t.proto = ip.protocol;
	return true;
}

/* Rewrites one quoted address: the inner IP checksum, and the ICMP checksum,
 * which covers the quoted bytes (it has no pseudo-header). */
static __always_inline int icmp_inner_addr(struct __sk_buff *skb, const struct icmp_inner *in, __u32 field,
					   __be32 from, __be32 to)
{
	if (from == to)
		return 0;
	if (csum_l4_fix(skb, in->icmp_csum_off, from, to, sizeof(to)) < 0)
		return -1;
	return csum_store_addr(skb, in->ip_off + field, in->ip_off + __builtin_offsetof(struct iphdr, check),
			       from, to);
}

static __always_inline int icmp_inner_port(struct __sk_buff *skb, const struct icmp_inner *in, __u32 field,
					   __be16 from, __be16 to)
{
	if (from == to)
		return 0;
	if (csum_l4_fix(skb, in->icmp_csum_off, from, to, sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, in->ports_off + field, &to, sizeof(to), 0);
}

/* Rewrites the quoted header to (to) and the ICMP checksum with it. The
 * quoted TCP/UDP checksum is left as it was: stacks do not check it, and
 * TCP's is past the 8 bytes an error must quote. */
static __always_inline int icmp_rewrite_inner(struct __sk_buff *skb, const struct icmp_inner *in,
					      const struct ct_key *to)
{
	__u32 csum_off = in->ip_off + __builtin_offsetof(struct iphdr, check);
	__be16 before, after;

	if (bpf_skb_load_bytes(skb, csum_off, &before, sizeof(before)) < 0 ||
	    icmp_inner_addr(skb, in, __builtin_offsetof(struct iphdr, saddr), in->t.saddr, to->saddr) < 0 ||
	    icmp_inner_addr(skb, in, __builtin_offsetof(struct iphdr, daddr), in->t.daddr, to->daddr) < 0 ||
	    bpf_skb_load_bytes(skb, csum_off, &after, sizeof(after)) < 0)
		return -1;
	/* the inner checksum is quoted data too */
	if (before != after && csum_l4_fix(skb, in->icmp_csum_off, before, after, sizeof(after)) < 0)
		return -1;
	if (icmp_inner_port(skb, in, 0, in->t.sport, to->sport) < 0 ||
	    icmp_inner_port(skb, in, 2, in->t.dport, to->dport) < 0)
		return -1;
	return 0;
}

/* Rewrites the outer addresses, and p with them. */
static __always_inline int icmp_rewrite_outer(struct __sk_buff *skb, struct pkt *p, const struct icmp_inner *in,
					      const struct ct_key *to)
{
	__be32 saddr = p->saddr == in->t.daddr ? to->daddr : p->saddr;
	__be32 daddr = p->daddr == in->t.saddr ? to->saddr : p->daddr;

	if (saddr != p->saddr && csum_store_addr(skb, IP_SADDR_OFF, IP_CSUM_OFF, p->saddr, saddr) < 0)
		return -1;
	if (daddr != p->daddr && csum_store_addr(skb, IP_DADDR_OFF, IP_CSUM_OFF, p->daddr, daddr) < 0)
		return -1;
	p->saddr = saddr;
	p->daddr = daddr;
	return 0;
}

/* Translates an ICMP error (p) whose quoted packet belongs to a tracked
 * flow, arriving by hook, and forwards it as a packet of that flow going
 * the error's way. Returns SL_NEXT when the packet is not such an error, a
 * verdict otherwise (a drop when a rewrite failed half-way). */
static __always_inline int icmp_error_translate(struct __sk_buff *skb, struct pkt *p, enum sl_hook hook)
{
	struct icmp_inner in;
	struct ct_key rk, to;
	const struct ct_val *v;

	if (!icmp_is_error(p) || !icmp_parse_inner(skb, p, &in))
		return SL_NEXT;
	/* the entry that matches packets going the way the error goes */
	__builtin_memset(&rk, 0, sizeof(rk));
	rk.saddr = in.t.daddr;
	rk.daddr = in.t.saddr;
	rk.sport = in.t.dport;
	rk.dport = in.t.sport;
	rk.proto = in.t.proto;
	v = ct_lookup(&rk, bpf_ktime_get_ns());
	if (!v)
		return SL_NEXT;
	ct_peer_key(&to, v, in.t.proto);
	if (icmp_rewrite_inner(skb, &in, &to) < 0 || icmp_rewrite_outer(skb, p, &in, &to) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	stats_count(skb, SL_STAT_ICMP_ERROR);
	return fwd_translated(skb, p, hook, ct_stack_refuses(v, hook));
}

#endif /* SLUICE_LIB_ICMP_H */
