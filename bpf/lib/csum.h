/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checksums: incremental fixes when a field changes (RFC 1624, through the
 * kernel helpers, which also keep skb->csum and CHECKSUM_PARTIAL skbs
 * right), and whole sums for headers built from scratch.
 */
#ifndef SLUICE_LIB_CSUM_H
#define SLUICE_LIB_CSUM_H

#include "common.h"

/* Stores a 4-byte address at addr_off and fixes the IP header checksum at
 * ip_csum_off. Returns < 0 when a helper failed. */
static __always_inline int csum_store_addr(struct __sk_buff *skb, __u32 addr_off, __u32 ip_csum_off,
					   __be32 from, __be32 to)
{
	if (bpf_l3_csum_replace(skb, ip_csum_off, from, to, sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, addr_off, &to, sizeof(to), 0);
}

/* Fixes an L4 (or ICMP) checksum for a field that changes from -> to; size
 * (2 or 4) goes into flags with BPF_F_PSEUDO_HDR when the field is in the
 * pseudo-header, BPF_F_MARK_MANGLED_0 for UDP (a zero checksum means none
 * and stays zero). */
static __always_inline int csum_l4_fix(struct __sk_buff *skb, __u32 csum_off, __be32 from, __be32 to,
				       __u64 flags)
{
	return bpf_l4_csum_replace(skb, csum_off, from, to, flags);
}

/* Folds a 32-bit one's complement sum into the 16-bit checksum field value. */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The checksum of an IPv4 header built on the stack (check must be 0). */
static __always_inline __u16 csum_ip_header(struct iphdr *ip)
{
	return csum_fold(bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0));
}

struct csum_pseudo {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
};

/* The sum of the IPv4 pseudo-header, as a seed for an L4 checksum. */
static __always_inline __u32 csum_pseudo(__be32 saddr, __be32 daddr, __u8 proto, __u16 len)
{
	struct csum_pseudo ph;

	ph.saddr = saddr;
	ph.daddr = daddr;
	ph.zero = 0;
	ph.proto = proto;
	ph.len = bpf_htons(len);
	return bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
}

#endif /* SLUICE_LIB_CSUM_H */
