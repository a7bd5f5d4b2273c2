/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing: an Ethernet frame into the IPv4 tuple and offsets the other
 * helpers work from. Headers are copied with bpf_skb_load_bytes rather than
 * read through packet pointers: it works on non-linear skbs too, and every
 * later rewrite goes by offset, so no helper call can invalidate what was
 * parsed. Only Ethernet devices: the IP header is at ETH_HLEN.
 */
#ifndef SLUICE_LIB_PARSE_H
#define SLUICE_LIB_PARSE_H

#include "common.h"

enum sl_parse {
	PARSE_OK = 0,
	PARSE_NOT_OURS = 1,	/* not IPv4 TCP/UDP/ICMP, or a fragment: the stack decides */
	PARSE_MALFORMED = 2,	/* headers shorter than they claim: SL_DROP_MALFORMED */
};

/* TCP flags, byte 13 of the TCP header */
enum sl_tcp_flag {
	SL_TCP_FIN = 0x01,
	SL_TCP_SYN = 0x02,
	SL_TCP_RST = 0x04,
	SL_TCP_ACK = 0x10,
};

/* fragment bits of iphdr.frag_off, host order (not in the UAPI headers) */
enum sl_ip_frag {
	SL_IP_MF = 0x2000,
	SL_IP_OFFSET = 0x1fff,
};

#define IP_SADDR_OFF	(ETH_HLEN + __builtin_offsetof(struct iphdr, saddr))
#define IP_DADDR_OFF	(ETH_HLEN + __builtin_offsetof(struct iphdr, daddr))
#define IP_CSUM_OFF	(ETH_HLEN + __builtin_offsetof(struct iphdr, check))
#define IP_TTL_OFF	(ETH_HLEN + __builtin_offsetof(struct iphdr, ttl))

struct pkt {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;		/* TCP and UDP; 0 for ICMP */
	__be16 dport;
	__u8 proto;
	__u8 tcp_flags;		/* enum sl_tcp_flag */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 l4_off;		/* from the start of the frame */
	__u16 l4_hlen;		/* TCP: data offset in bytes; UDP, ICMP: 8 */
	__u32 l4_len;		/* IP payload bytes, L4 header included (BIG TCP: > 64 KiB) */
	__be32 seq;		/* TCP: what a RST answering this packet needs */
	__be32 ack_seq;
	__u8 ttl;		/* as it arrived: forwarding past the stack lowers it */
};

static __always_inline bool pkt_is_tcp(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP;
}

static __always_inline bool pkt_has_ports(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP;
}

/* Offset of the L4 checksum; only for TCP and UDP. */
static __always_inline __u32 pkt_l4_csum_off(const struct pkt *p)
{
	return p->l4_off + (pkt_is_tcp(p) ? __builtin_offsetof(struct tcphdr, check)
					  : __builtin_offsetof(struct udphdr, check));
}

static __always_inline int parse_tcp(struct __sk_buff *skb, struct pkt *p)
{
	struct tcphdr tcp;

	if (bpf_skb_load_bytes(skb, p->l4_off, &tcp, sizeof(tcp)) < 0)
		return PARSE_MALFORMED;
	p->l4_hlen = tcp.doff * 4;
	if (p->l4_hlen < sizeof(tcp) || p->l4_hlen > p->l4_len)
		return PARSE_MALFORMED;
	p->sport = tcp.source;
	p->dport = tcp.dest;
	p->tcp_flags = ((__u8 *)&tcp)[13];
	p->seq = tcp.seq;
	p->ack_seq = tcp.ack_seq;
	return PARSE_OK;
}

static __always_inline int parse_udp(struct __sk_buff *skb, struct pkt *p)
{
	struct udphdr udp;

	if (p->l4_len < sizeof(udp) ||
	    bpf_skb_load_bytes(skb, p->l4_off, &udp, sizeof(udp)) < 0)
		return PARSE_MALFORMED;
	p->l4_hlen = sizeof(udp);
	p->sport = udp.source;
	p->dport = udp.dest;
	return PARSE_OK;
}

static __always_inline int parse_icmp(struct __sk_buff *skb, struct pkt *p)
{
	struct icmphdr icmp;

	if (p->l4_len < sizeof(icmp) ||
	    bpf_skb_load_bytes(skb, p->l4_off, &icmp, sizeof(icmp)) < 0)
		return PARSE_MALFORMED;
	p->l4_hlen = sizeof(icmp);
	p->icmp_type = icmp.type;
	p->icmp_code = icmp.code;
	return PARSE_OK;
}

/* The IPv4 length: tot_len, except for BIG TCP GSO packets, whose tot_len
 * is 0 because it does not fit in 16 bits. */
static __always_inline __u32 ip_total_len(struct __sk_buff *skb, const struct iphdr *ip)
{
	__u32 tot = bpf_ntohs(ip->tot_len);

	if (tot == 0 && skb->gso_size)
		tot = skb->len - ETH_HLEN;
	return tot;
}

/* Returns enum sl_parse. Fragments are not ours: only the first carries the
 * ports, and translating it alone would split the datagram (not supported). */
static __always_inline int pkt_parse(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;
	__u32 hlen, tot;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return PARSE_NOT_OURS;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return PARSE_MALFORMED;
	hlen = ip.ihl * 4;
	tot = ip_total_len(skb, &ip);
	if (ip.version != 4 || hlen < sizeof(ip) || tot < hlen || ETH_HLEN + tot > skb->len)
		return PARSE_MALFORMED;
	if (ip.frag_off & bpf_htons(SL_IP_MF | SL_IP_OFFSET))
		return PARSE_NOT_OURS;

	__builtin_memset(p, 0, sizeof(*p));
	p->saddr = ip.saddr;
	p->daddr = ip.daddr;
	p->proto = ip.protocol;
	p->ttl = ip.ttl;
	p->l4_off = ETH_HLEN + hlen;
	p->l4_len = tot - hlen;
	switch (ip.protocol) {
	case IPPROTO_TCP:
		return parse_tcp(skb, p);
	case IPPROTO_UDP:
		return parse_udp(skb, p);
	case IPPROTO_ICMP:
		return parse_icmp(skb, p);
	default:
		/* SCTP too: translating it means recomputing its CRC32c over
		 * the whole packet, which no helper does; it passes untouched. */
		return PARSE_NOT_OURS;
	}
}

#endif /* SLUICE_LIB_PARSE_H */
