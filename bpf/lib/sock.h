/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connect-time translation for the node's own processes (host-network pods,
 * kubelet, anything in the node's network namespace), which no tc program
 * of ours sees leave: cgroup sock_addr programs change the address a socket
 * connects or sends to from a frontend to a backend before any packet
 * exists, as kube-proxy's OUTPUT chain and Cilium's and Calico's socket load
 * balancing do. recvmsg4 and getpeername4 report the frontend again, so the
 * application sees the address it asked for as its peer.
 *
 * Attached to the root cgroup, the programs run for every socket of the
 * machine, in every network namespace: they act only on sockets of the one
 * whose cookie is sl_cfg.netns_cookie. So the node's pods (other
 * namespaces) keep the tc path, and two nodes' programs on one machine (the
 * testbed) share the cgroup without touching each other's sockets.
 */
#ifndef SLUICE_LIB_SOCK_H
#define SLUICE_LIB_SOCK_H

#include <linux/errno.h>

#include "common.h"
#include "config.h"
#include "lb.h"
#include "parse.h"
#include "stats.h"
#include "sluice_maps.h"

/* cgroup sock_addr verdicts: go on with the address in ctx, or fail the
 * syscall (with EPERM, unless bpf_set_retval chose another error) */
enum sl_sock_verdict {
	SOCK_DENY = 0,
	SOCK_PASS = 1,
};

/* ctx: a struct bpf_sock_addr or a struct bpf_sock (sock_forget) */
static __always_inline bool sock_is_ours(void *ctx)
{
	__u64 want = sl_cfg.netns_cookie;

	return want != 0 && bpf_get_netns_cookie(ctx) == want;
}

/* The first packet as the socket would send it, as far as lb.h reads it.
 * The client is the node's address: a connecting socket has no source yet,
 * and the node's address is the one its flows usually carry. */
static __always_inline void sock_pkt(struct bpf_sock_addr *ctx, __u8 proto, struct pkt *p)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->saddr = sl_cfg.node_ip;
	p->daddr = ctx->user_ip4;
	p->dport = (__be16)ctx->user_port;
	p->proto = proto;
}

/* Fails connect() or sendmsg() with err; slot (a stat, or a drop's:
 * drop_slot) counts the syscall as a packet of 0 bytes. */
static __always_inline int sock_refuse(int err, __u32 stat)
{
	stats_add(stat, 0);
	bpf_set_retval(-err);
	return SOCK_DENY;
}

/* Remembers that the socket sent to the picked backend for frontend p
 * (daddr, dport). A failed update only leaves the backend visible as the
 * peer, and the socket out of reach of the stale socket sweep. A write is
 * counted after it is made: the agent reads the count before it looks for
 * an entry, so an entry its look missed is counted after that read, and the
 * agent looks again (staleSweep.ts). */
static __always_inline void sock_remember(__u64 cookie, const struct pkt *p, const struct lb_pick *pick)
{
	struct sockrev_key k;
	struct sockrev_val v;

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memset(&v, 0, sizeof(v));
	k.cookie = cookie;
	k.backend = pick->be.ip;
	k.port = pick->be.port;
	v.vip = p->daddr;
	v.port = p->dport;
	v.bset = pick->bset;
	v.id = pick->id;
	if (bpf_map_update_elem(&sl_sockrev, &k, &v, BPF_ANY) == 0)
		stats_add(SL_STAT_SOCK_RECORDED, 0);
}

/* connect4 and sendmsg4: a frontend's address becomes a backend's. A
 * frontend without backends fails at once with ECONNREFUSED, as the tc path
 * answers with a RST; a client outside loadBalancerSourceRanges gets EPERM
 * (the tc path drops: a socket has no silent way to fail). The backend is
 * the Maglev slot of the socket's cookie: sockets spread over the backends,
 * and an unconnected UDP socket stays with one while it lives. */
static __always_inline int sock_translate(struct bpf_sock_addr *ctx, __u32 proto)
{
	const struct svc_val *s;
	struct lb_pick pick;
	struct pkt p;
	__u64 cookie;

	if (!sock_is_ours(ctx) || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return SOCK_PASS;
	sock_pkt(ctx, proto, &p);
	/* the node is inside the cluster: Local frontends serve it from every
	 * backend, as kube-proxy does for node-originated traffic */
	s = lb_frontend(&p, true);
	if (!s)
		return SOCK_PASS;
	if (svc_has_src_ranges(s) && !lb_src_allowed(&p))
		return sock_refuse(EPERM, drop_slot(SL_DROP_SRC_RANGE));
	if (s->count == 0)
		return sock_refuse(ECONNREFUSED, SL_STAT_REJECTED);
	cookie = bpf_get_socket_cookie(ctx);
	if (!lb_pick(s, p.saddr, lb_mix64(cookie), bpf_ktime_get_ns(), &pick))
		return sock_refuse(ECONNREFUSED, drop_slot(SL_DROP_NO_BACKEND));
	sock_remember(cookie, &p, &pick);
	ctx->user_ip4 = pick.be.ip;
	ctx->user_port = pick.be.port;
	stats_add(SL_STAT_TRANSLATED, 0);
	return SOCK_PASS;
}

/* recvmsg4 and getpeername4: a backend this socket was sent to instead of a
 * frontend is reported as that frontend. The kernel allows only SOCK_PASS. */
static __always_inline int sock_reverse(struct bpf_sock_addr *ctx)
{
	const struct sockrev_val *v;
	struct sockrev_key k;

	if (!sock_is_ours(ctx))
		return SOCK_PASS;
	__builtin_memset(&k, 0, sizeof(k));
	k.cookie = bpf_get_socket_cookie(ctx);
	k.backend = ctx->user_ip4;
	k.port = (__be16)ctx->user_port;
	v = bpf_map_lookup_elem(&sl_sockrev, &k);
	if (v) {
		ctx->user_ip4 = v->vip;
		ctx->user_port = v->port;
	}
	return SOCK_PASS;
}

/* sock_release: a connected socket's entry goes with the socket, so
 * sl_sockrev empties as the node's sockets close, and the stale socket sweep,
 * which an empty sl_sockrev skips, stops running. An unconnected UDP socket
 * has no peer to name its entries by: they stay until the LRU evicts them. */
static __always_inline void sock_forget(struct bpf_sock *ctx)
{
	struct sockrev_key k;

	if (ctx->dst_ip4 == 0 || !sock_is_ours(ctx))
		return;
	__builtin_memset(&k, 0, sizeof(k));
	k.cookie = bpf_get_socket_cookie(ctx);
	k.backend = ctx->dst_ip4;
	k.port = ctx->dst_port;
	bpf_map_delete_elem(&sl_sockrev, &k);
}

#endif /* SLUICE_LIB_SOCK_H */
