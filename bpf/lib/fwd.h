/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding past the stack, as Cilium's BPF host routing and Calico's eBPF
 * fast path do. A packet the datapath translated, and a pod's packet to
 * another pod, is routed here: bpf_fib_lookup of its destination in the
 * node's own routing table (policy rules included), then
 * - into a local pod: bpf_redirect_peer to the pod's side of the veth the
 *   route points at (sl_podnet says whose it is), L2 addresses from the
 *   lookup. Both ingress programs may do it; a redirect to a peer works from
 *   tc ingress only;
 * - out of an interface to a neighbour the lookup knows: bpf_redirect, L2
 *   addresses from the lookup;
 * - to a neighbour not yet resolved: bpf_redirect_neigh, which resolves it.
 * The TTL goes down by one, as the kernel's forwarding does. Where the
 * lookup says the stack must decide (no route, a blackhole, unreachable or
 * prohibit route, a local destination, forwarding off, too big for the
 * route's MTU) and where the TTL runs out, the packet, rewritten already,
 * goes to the stack, which forwards it or sends the ICMP error.
 *
 * Beyond speed, it keeps sluice working on a node's default sysctls: after
 * reverse translation an answer's source is a frontend, which the stack
 * refuses where it arrives: the node's own address is a martian there
 * (accept_local=0), and a service address has no route back to the pod's
 * interface (rp_filter=1 or 2). A client's packet SNATed to the node's
 * address is a martian too. kube-proxy never meets these checks, because
 * netfilter undoes DNAT after routing. So such packets go past the stack
 * even with the fast path off (SL_CFG_NO_FAST_PATH): see fwd_translated.
 *
 * What goes past the stack skips netfilter and sl_to_pod (the redirect into
 * a pod skips the host side's egress): whatever must see a pod's arriving
 * packets belongs in fwd_route before the redirect.
 */
#ifndef SLUICE_LIB_FWD_H
#define SLUICE_LIB_FWD_H

#include "common.h"
#include "config.h"
#include "parse.h"
#include "stats.h"
#include "sluice_maps.h"

#define FWD_AF_INET 2	/* AF_INET: the socket headers do not build for BPF */

/* The sl_podnet entry holding addr: a local pod's, or another node's podCIDR. */
static __always_inline const struct podnet_val *podnet_lookup(__be32 addr)
{
	struct podnet_key k = { .prefixlen = 32, .addr = addr };

	return bpf_map_lookup_elem(&sl_podnet, &k);
}

/* Whether ifindex is the host side of the local pod at addr. */
static __always_inline bool podnet_is_pod_iface(__be32 addr, __u32 ifindex)
{
	const struct podnet_val *v = podnet_lookup(addr);

	return v && v->ifindex && v->ifindex == ifindex;
}

/* Lowers the TTL by one, the header checksum with it. */
static __always_inline int fwd_ttl_dec(struct __sk_buff *skb, const struct pkt *p)
{
	/* the TTL shares its 16-bit word of the checksum with the protocol */
	__be16 from = bpf_htons((__u16)p->ttl << 8 | p->proto);
	__be16 to = bpf_htons((__u16)(p->ttl - 1) << 8 | p->proto);
	__u8 ttl = p->ttl - 1;

	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, from, to, sizeof(to)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, IP_TTL_OFF, &ttl, sizeof(ttl), 0);
}

/* Sets the Ethernet destination and source. */
static __always_inline int fwd_set_macs(struct __sk_buff *skb, const __u8 *dst, const __u8 *src)
{
	__u8 macs[2 * ETH_ALEN];

	__builtin_memcpy(macs, dst, ETH_ALEN);
	__builtin_memcpy(macs + ETH_ALEN, src, ETH_ALEN);
	return bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0);
}

static __always_inline int fwd_to_stack(struct __sk_buff *skb)
{
	stats_count(skb, SL_STAT_FWD_STACK);
	return TC_ACT_OK;
}

/* The lookup's question for p, arriving on skb's interface. tot_len 0: the
 * helper then checks the skb itself against the MTU of the interface it
 * would leave by, GSO packets by their segments. */
static __always_inline void fwd_ask(struct bpf_fib_lookup *fib, struct __sk_buff *skb, const struct pkt *p)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = FWD_AF_INET;
	fib->l4_protocol = p->proto;
	fib->sport = p->sport;
	fib->dport = p->dport;
	fib->ipv4_src = p->saddr;
	fib->ipv4_dst = p->daddr;
	fib->ifindex = skb->ifindex;
}

/* Forwards p (rewritten as it is to leave) past the stack, or gives it to
 * the stack where the lookup says so. Returns the redirect verdict,
 * TC_ACT_OK, or a drop when a rewrite failed. */
static __always_inline int fwd_route(struct __sk_buff *skb, const struct pkt *p)
{
	struct bpf_redir_neigh nh = { .nh_family = FWD_AF_INET };
	struct bpf_fib_lookup fib;
	long rc;

	if (p->ttl <= 1)
		return fwd_to_stack(skb);	/* which answers time exceeded */
	fwd_ask(&fib, skb, p);
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (fwd_set_macs(skb, fib.dmac, fib.smac) < 0 || fwd_ttl_dec(skb, p) < 0)
			return stats_drop(skb, SL_DROP_REWRITE);
		if (podnet_is_pod_iface(p->daddr, fib.ifindex)) {
			stats_count(skb, SL_STAT_FWD_PEER);
			return bpf_redirect_peer(fib.ifindex, 0);
		}
		stats_count(skb, SL_STAT_FWD_DIRECT);
		return bpf_redirect(fib.ifindex, 0);
	}
	if (rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return fwd_to_stack(skb);
	/* Asked again without the neighbour: a lookup that stops at it skips
	 * the MTU check, and the packet may need the stack's fragmentation
	 * or its ICMP error. */
	fwd_ask(&fib, skb, p);
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH) != BPF_FIB_LKUP_RET_SUCCESS)
		return fwd_to_stack(skb);
	if (fwd_ttl_dec(skb, p) < 0)
		return stats_drop(skb, SL_DROP_REWRITE);
	nh.ipv4_nh = fib.ipv4_dst;	/* the next hop: the route's gateway, or p's destination */
	stats_count(skb, SL_STAT_FWD_NEIGH);
	return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
}

/* A packet the datapath rewrote, arriving by hook. stack_refuses: the
 * stack would drop it on default sysctls (see above). Past the stack on
 * the fast path, and without it where the stack refuses; sl_to_pod's
 * packets are on their way into the pod already. */
static __always_inline int fwd_translated(struct __sk_buff *skb, const struct pkt *p, enum sl_hook hook,
					  bool stack_refuses)
{
	if (hook == SL_HOOK_TO_POD || (!cfg_is_fast_path() && !stack_refuses))
		return TC_ACT_OK;
	return fwd_route(skb, p);
}

/* A packet no translation touched: past the stack on the fast path when it
 * goes from a pod (the one behind this interface, not a spoofed source) to
 * any pod, or from outside to a local pod. Everything else (to the node,
 * to the world: the CNI's masquerading stays in charge) is the stack's. */
static __always_inline int fwd_plain(struct __sk_buff *skb, const struct pkt *p, enum sl_hook hook)
{
	const struct podnet_val *to;

	if (hook == SL_HOOK_TO_POD || !cfg_is_fast_path())
		return TC_ACT_OK;
	to = podnet_lookup(p->daddr);
	if (!to)
		return TC_ACT_OK;
	if (hook == SL_HOOK_FROM_POD ? !podnet_is_pod_iface(p->saddr, skb->ifindex) : !to->ifindex)
		return TC_ACT_OK;
	return fwd_route(skb, p);
}

#endif /* SLUICE_LIB_FWD_H */
