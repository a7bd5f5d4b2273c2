/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Rewriting a TCP or UDP packet's addresses and ports in place, with its IP
 * and L4 checksums (pseudo-header included) kept valid. */
#ifndef SLUICE_LIB_NAT_H
#define SLUICE_LIB_NAT_H

#include "common.h"
#include "csum.h"
#include "parse.h"

static __always_inline __u64 nat_l4_flags(const struct pkt *p)
{
	return pkt_is_tcp(p) ? 0 : BPF_F_MARK_MANGLED_0;
}

static __always_inline int nat_addr(struct __sk_buff *skb, const struct pkt *p, __u32 addr_off,
				    __be32 from, __be32 to)
{
	if (from == to)
		return 0;
	if (csum_l4_fix(skb, pkt_l4_csum_off(p), from, to,
			nat_l4_flags(p) | BPF_F_PSEUDO_HDR | sizeof(to)) < 0)
		return -1;
	return csum_store_addr(skb, addr_off, IP_CSUM_OFF, from, to);
}

static __always_inline int nat_port(struct __sk_buff *skb, const struct pkt *p, __u32 port_off,
				    __be16 from, __be16 to)
{
	if (from == to)
		return 0;
	if (csum_l4_fix(skb, pkt_l4_csum_off(p), from, to, nat_l4_flags(p) | sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, port_off, &to, sizeof(to), 0);
}

/* Rewrites the packet to (saddr, daddr, sport, dport) and updates p to
 * match. Returns < 0 when a helper failed (caller: SL_DROP_REWRITE). */
static __always_inline int nat_rewrite(struct __sk_buff *skb, struct pkt *p, __be32 saddr, __be32 daddr,
				       __be16 sport, __be16 dport)
{
	/* TCP and UDP headers both start with the source and destination ports */
	if (nat_addr(skb, p, IP_SADDR_OFF, p->saddr, saddr) < 0 ||
	    nat_addr(skb, p, IP_DADDR_OFF, p->daddr, daddr) < 0 ||
	    nat_port(skb, p, p->l4_off + __builtin_offsetof(struct udphdr, source), p->sport, sport) < 0 ||
	    nat_port(skb, p, p->l4_off + __builtin_offsetof(struct udphdr, dest), p->dport, dport) < 0)
		return -1;
	p->saddr = saddr;
	p->daddr = daddr;
	p->sport = sport;
	p->dport = dport;
	return 0;
}

#endif /* SLUICE_LIB_NAT_H */
