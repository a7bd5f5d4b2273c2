// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath: three tc programs that translate Kubernetes Service traffic
 * in place of kube-proxy and enforce NetworkPolicy, four cgroup programs
 * that translate at connect time for the node's own processes, and two
 * socket iterators that destroy the node's sockets stuck on a backend that
 * left. Each is a thin dispatcher; the work is in lib/. The tc ingress
 * programs forward what they translated, and pods' traffic to pods, past the
 * stack (lib/fwd.h); everything else they leave untouched, for the kernel's
 * own stack to decide.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/dsr.h"
#include "lib/enforce.h"
#include "lib/flow.h"
#include "lib/fwd.h"
#include "lib/icmp.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/sock.h"
#include "lib/stale.h"
#include "lib/stats.h"
#include "sluice_maps.h"

/* Verdict for a packet pkt_parse did not accept. */
static __always_inline int parse_verdict(struct __sk_buff *skb, int parsed)
{
	if (parsed == PARSE_MALFORMED)
		return stats_drop(skb, SL_DROP_MALFORMED);
	return TC_ACT_OK;
}

/* tc ingress of a local pod's host-side veth: what the pod sends. The pod
 * is a client (its flows to services are translated here) or a local
 * backend (its answers hit the reply entries here), or talks to a pod.
 * Both ends of a new flow meet policy here when both are local. */
SEC("tc")
int sl_from_pod(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_ns();
	const struct polstate_val *pol;
	struct pkt p;
	int r = pkt_parse(skb, &p);

	if (r != PARSE_OK)
		return parse_verdict(skb, r);
	pol = pol_state();
	if (p.frag)
		return enforce_fragment(skb, &p, SL_HOOK_FROM_POD, pol, now);
	r = flow_handle(skb, &p, SL_HOOK_FROM_POD, pol, now);
	return r == SL_NEXT ? fwd_plain(skb, &p, SL_HOOK_FROM_POD) : r;
}

/* tc egress of a local pod's host-side veth: what reaches the pod through
 * the stack. Answers of remote backends to the pod's flows (when the
 * interface they came in by has no sl_from_netdev), ICMP errors about the
 * pod's flows, and whatever else the stack delivers to the pod, which meets
 * the pod's ingress policy here (from the node itself, say). */
SEC("tc")
int sl_to_pod(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_ns();
	const struct polstate_val *pol;
	struct pkt p;
	int r = pkt_parse(skb, &p);

	if (r != PARSE_OK)
		return parse_verdict(skb, r);
	pol = pol_state();
	if (p.frag)
		return enforce_fragment(skb, &p, SL_HOOK_TO_POD, pol, now);
	r = flow_handle(skb, &p, SL_HOOK_TO_POD, pol, now);
	return r == SL_NEXT ? TC_ACT_OK : r;
}

/* tc ingress of the node's own interface: traffic from outside. Clients of
 * NodePort, ExternalIP and LoadBalancer frontends (only SCOPE_ALL: they are
 * not in the cluster), answers of remote backends, with DSR the clients'
 * packets that another node's frontend sent to a local backend, and
 * packets for local pods, which meet their ingress policy here, before
 * they are forwarded into the pod. */
SEC("tc")
int sl_from_netdev(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_ns();
	const struct polstate_val *pol;
	struct dsr_opt opt;
	struct pkt p;
	int r = pkt_parse(skb, &p);

	if (r != PARSE_OK)
		return parse_verdict(skb, r);
	pol = pol_state();
	if (p.frag)
		return enforce_fragment(skb, &p, SL_HOOK_FROM_NETDEV, pol, now);
	if (pkt_has_ports(&p) && cfg_is_dsr() && dsr_opt_read(skb, &p, &opt)) {
		/* for a local backend, tracked by now: never a new flow here */
		r = dsr_receive(skb, &p, &opt, pol, now);
		if (r == SL_NEXT)
			r = flow_tracked(skb, &p, SL_HOOK_FROM_NETDEV, pol, now);
	} else {
		r = flow_handle(skb, &p, SL_HOOK_FROM_NETDEV, pol, now);
	}
	return r == SL_NEXT ? fwd_plain(skb, &p, SL_HOOK_FROM_NETDEV) : r;
}

/* The cgroup programs: on the root cgroup, for sockets of the node's own
 * network namespace only (lib/sock.h). connect4 covers TCP and connected
 * UDP, sendmsg4 each datagram of an unconnected UDP socket. */
SEC("cgroup/connect4")
int sl_connect4(struct bpf_sock_addr *ctx)
{
	return sock_translate(ctx, ctx->protocol);
}

SEC("cgroup/sendmsg4")
int sl_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_translate(ctx, IPPROTO_UDP);
}

/* The source of a datagram an unconnected UDP socket receives. */
SEC("cgroup/recvmsg4")
int sl_recvmsg4(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx);
}

SEC("cgroup/getpeername4")
int sl_getpeername4(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx);
}

/* The kernel ignores the verdict of sock_release; the verifier wants 0 or 1. */
SEC("cgroup/sock_release")
int sl_sock_release(struct bpf_sock *ctx)
{
	sock_forget(ctx);
	return 1;
}

/* The socket iterators (lib/stale.h), run by the runtime after an update
 * that removed backends: TCP sockets still connecting, connected UDP. */
SEC("iter/tcp")
int sl_iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *sk = ctx->sk_common;

	if (!sk || sk->skc_state != SOCK_SYN_SENT)
		return 0;
	return stale_sweep(ctx->meta, sk, IPPROTO_TCP);
}

SEC("iter/udp")
int sl_iter_udp(struct bpf_iter__udp *ctx)
{
	struct sock_common *sk = (struct sock_common *)ctx->udp_sk;

	if (!sk || sk->skc_state != SOCK_ESTABLISHED)
		return 0;
	return stale_sweep(ctx->meta, sk, IPPROTO_UDP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
