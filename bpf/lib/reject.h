/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rejecting a new flow to a service without backends, as kube-proxy's REJECT
 * rule does, so the client fails at once instead of timing out: a TCP RST,
 * or an ICMP port unreachable for UDP. The packet itself becomes the answer
 * (headers rebuilt in place, addresses and MACs swapped) and goes back out
 * of the interface it came in on.
 *
 * A packet from a pod's own stack may be CHECKSUM_PARTIAL; the answer keeps
 * that state. The checksums written here are complete, and a veth delivers
 * a partial-checksum skb as verified, so the pod accepts it; only a device
 * that resolved the partial checksum would write at the old offset, and
 * answers from sl_from_pod go back to the veth they came from.
 */
#ifndef SLUICE_LIB_REJECT_H
#define SLUICE_LIB_REJECT_H

#include "common.h"
#include "csum.h"
#include "parse.h"
#include "stats.h"

/* The most an ICMP error quotes here: the IP header (with options) + 8 bytes. */
#define REJECT_QUOTE_MAX (60 + 8)
#define REJECT_TTL 64	/* of an answer: a new packet */

struct reject_rst {
	struct iphdr ip;
	struct tcphdr tcp;
};

struct reject_unreach {
	struct iphdr ip;
	struct icmphdr icmp;
	__u8 quote[REJECT_QUOTE_MAX];
};

/* Swaps the Ethernet source and destination: the answer goes back to the
 * hop the packet came from. */
static __always_inline int reject_swap_eth(struct __sk_buff *skb)
{
	__u8 macs[2 * ETH_ALEN], swapped[2 * ETH_ALEN];

	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) < 0)
		return -1;
	__builtin_memcpy(swapped, macs + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(swapped + ETH_ALEN, macs, ETH_ALEN);
	return bpf_skb_store_bytes(skb, 0, swapped, sizeof(swapped), 0);
}

/* An IPv4 header from saddr to daddr, checksum included. */
static __always_inline void reject_ip(struct iphdr *ip, __be32 saddr, __be32 daddr, __u8 proto, __u16 len, __u8 ttl)
{
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = ttl;
	ip->protocol = proto;
	ip->tot_len = bpf_htons(len);
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = csum_ip_header(ip);
}

/* The RST of RFC 9293 3.10.7.1 for a segment to a closed port: seq = the
 * segment's ack if it had one; otherwise seq 0 and an ACK of everything it
 * occupied (data, SYN and FIN count one each). */
static __always_inline void reject_rst_tcp(struct tcphdr *tcp, const struct pkt *p)
{
	__u32 occupied = p->l4_len - p->l4_hlen;

	tcp->source = p->dport;
	tcp->dest = p->sport;
	tcp->doff = sizeof(*tcp) / 4;
	tcp->rst = 1;
	if (p->tcp_flags & SL_TCP_ACK) {
		tcp->seq = p->ack_seq;
		return;
	}
	occupied += !!(p->tcp_flags & SL_TCP_SYN) + !!(p->tcp_flags & SL_TCP_FIN);
	tcp->ack = 1;
	tcp->ack_seq = bpf_htonl(bpf_ntohl(p->seq) + occupied);
}

static __always_inline int reject_tcp(struct __sk_buff *skb, const struct pkt *p)
{
	struct reject_rst f;
	__u32 sum;

	if (p->tcp_flags & SL_TCP_RST)
		return -1;	/* never answer a RST */
	__builtin_memset(&f, 0, sizeof(f));
	reject_rst_tcp(&f.tcp, p);
	sum = csum_pseudo(p->daddr, p->saddr, IPPROTO_TCP, sizeof(f.tcp));
	f.tcp.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&f.tcp, sizeof(f.tcp), sum));
	reject_ip(&f.ip, p->daddr, p->saddr, IPPROTO_TCP, sizeof(f), REJECT_TTL);
	if (bpf_skb_change_tail(skb, ETH_HLEN + sizeof(f), 0) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, ETH_HLEN, &f, sizeof(f), 0);
}

/* ICMP port unreachable quoting the client's IP header and the first 8
 * bytes after it (RFC 792), which is what the client's stack matches. */
static __always_inline int reject_udp(struct __sk_buff *skb, const struct pkt *p)
{
	struct reject_unreach f;
	__u32 quote = p->l4_off - ETH_HLEN + 8;
	__u32 len;

	if (quote < sizeof(struct iphdr) + 8 || quote > REJECT_QUOTE_MAX)
		return -1;	/* cannot happen (parse checked ihl); tells the verifier */
	__builtin_memset(&f, 0, sizeof(f));
	if (bpf_skb_load_bytes(skb, ETH_HLEN, f.quote, quote) < 0)
		return -1;
	f.icmp.type = ICMP_DEST_UNREACH;
	f.icmp.code = ICMP_PORT_UNREACH;
	/* quote is the IP header length + 8, a multiple of 4 as csum_diff wants */
	f.icmp.checksum = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&f.icmp, sizeof(f.icmp) + quote, 0));
	len = sizeof(f.ip) + sizeof(f.icmp) + quote;
	reject_ip(&f.ip, p->daddr, p->saddr, IPPROTO_ICMP, len, REJECT_TTL);
	if (bpf_skb_change_tail(skb, ETH_HLEN + len, 0) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, ETH_HLEN, &f, len, 0);
}

/* Turns the packet into its answer (TCP RST, ICMP port unreachable)
 * addressed back to the hop it came from. Returns < 0 when none can be
 * built (a RST, a helper failure). */
static __always_inline int reject_answer(struct __sk_buff *skb, const struct pkt *p)
{
	int r = pkt_is_tcp(p) ? reject_tcp(skb, p) : reject_udp(skb, p);

	return r < 0 ? r : reject_swap_eth(skb);
}

/* Answers the packet in place and sends the answer back out of the
 * interface it came in on. When no answer can be built (a RST, a helper
 * failure), drops it as SL_DROP_NO_BACKEND. */
static __always_inline int reject(struct __sk_buff *skb, const struct pkt *p)
{
	__u32 len = skb->len;

	if (reject_answer(skb, p) < 0)
		return stats_drop(skb, SL_DROP_NO_BACKEND);
	stats_add(SL_STAT_REJECTED, len);
	return bpf_redirect(skb->ifindex, 0);
}

/* Turns a TCP segment into a RST going its own way, to reset its
 * receiver's connection: the segment's own sequence number, which is what
 * the receiver expects next of an in-order stream (RFC 9293 3.10.7.3; Linux
 * answers one in the window but not exact with a challenge ACK, RFC 5961).
 * The whole new segment goes into skb->csum (BPF_F_RECOMPUTE_CSUM), as it
 * is delivered, not sent. Returns < 0 when a helper failed. */
static __always_inline int reject_onward(struct __sk_buff *skb, const struct pkt *p)
{
	struct reject_rst f;
	__u32 sum;

	__builtin_memset(&f, 0, sizeof(f));
	f.tcp.source = p->sport;
	f.tcp.dest = p->dport;
	f.tcp.seq = p->seq;
	f.tcp.doff = sizeof(f.tcp) / 4;
	f.tcp.rst = 1;
	if (p->tcp_flags & SL_TCP_ACK) {
		f.tcp.ack = 1;
		f.tcp.ack_seq = p->ack_seq;
	}
	sum = csum_pseudo(p->saddr, p->daddr, IPPROTO_TCP, sizeof(f.tcp));
	f.tcp.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&f.tcp, sizeof(f.tcp), sum));
	/* the TTL it came with: forwarding it lowers that (lib/fwd.h) */
	reject_ip(&f.ip, p->saddr, p->daddr, IPPROTO_TCP, sizeof(f), p->ttl);
	if (bpf_skb_change_tail(skb, ETH_HLEN + sizeof(f), 0) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, ETH_HLEN, &f, sizeof(f), BPF_F_RECOMPUTE_CSUM);
}

#endif /* SLUICE_LIB_REJECT_H */
