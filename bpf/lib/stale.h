/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stale sockets: connect-time translation (sock.h) binds a socket to one
 * backend for its life. When that backend leaves, a connected UDP socket
 * (a resolver's, to a DNS pod) would keep sending to it, and a TCP socket
 * still in SYN_SENT would retry its SYN there for two minutes. After a map
 * update that removes backends, the runtime runs these socket iterators
 * (iter/tcp, iter/udp) in the node's network namespace; each destroys the
 * sockets whose backend, as sl_sockrev recorded it, is no longer in sl_be
 * (bpf_sock_destroy, Linux 6.5: the application gets ECONNABORTED and opens
 * a new socket, which connect4 sends to a live backend), as Cilium does.
 *
 * Established TCP connections are left alone: their backend may be
 * terminating gracefully, and the application or the backend closes them;
 * kube-proxy leaves them too. Unconnected UDP sockets need nothing: sendmsg4
 * translates each datagram anew.
 */
#ifndef SLUICE_LIB_STALE_H
#define SLUICE_LIB_STALE_H

#include "common.h"
#include "config.h"
#include "lb.h"
#include "stats.h"
#include "sluice_maps.h"

/* The kernel's types, as far as these programs read them. Not from UAPI
 * headers (there are none): declared with preserve_access_index, so libbpf
 * relocates each field to its offset in the running kernel (CO-RE). */
struct net {
	__u64 net_cookie;
} __attribute__((preserve_access_index));

struct sock_common {
	__be32 skc_daddr;
	__be16 skc_dport;
	unsigned short skc_family;
	unsigned char skc_state;
	struct {
		struct net *net;
	} skc_net;
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

/* The iterators' contexts: only the layout matters to the verifier. */
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
};

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
};

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

enum sl_sock_state {
	SOCK_ESTABLISHED = 1,	/* TCP_ESTABLISHED: for UDP, connected */
	SOCK_SYN_SENT = 2,	/* TCP_SYN_SENT */
};

#define SL_AF_INET 2

/* Fills out the frontend and backend of sk, if it is a socket of the node's
 * namespace that connect4 sent to a backend no longer in sl_be. */
static __always_inline bool stale_sock_of(struct sock_common *sk, __u8 proto, struct stale_sock *out)
{
	__u64 want = sl_cfg.netns_cookie;
	const struct sockrev_val *v;
	const struct be_val *b;
	struct sockrev_key k;

	/* the iterator walks its creator's namespace; the cookie makes sure
	 * that is the one whose sockets connect4 translated */
	if (want == 0 || sk->skc_family != SL_AF_INET || sk->skc_net.net->net_cookie != want)
		return false;
	__builtin_memset(&k, 0, sizeof(k));
	k.cookie = bpf_get_socket_cookie(sk);
	k.backend = sk->skc_daddr;
	k.port = sk->skc_dport;
	v = bpf_map_lookup_elem(&sl_sockrev, &k);
	if (!v)
		return false;	/* not translated by connect4: not ours */
	b = lb_backend(v->bset, v->id);
	if (b && b->ip == k.backend && b->port == k.port)
		return false;
	__builtin_memset(out, 0, sizeof(*out));
	out->vip = v->vip;
	out->vport = v->port;
	out->backend = k.backend;
	out->port = k.port;
	out->proto = proto;
	return true;
}

/* Destroys sk if it is stale; counts it and tells the runtime. sk is the
 * iterator's own pointer: bpf_sock_destroy takes no other. */
static __always_inline int stale_sweep(struct bpf_iter_meta *meta, struct sock_common *sk, __u8 proto)
{
	struct stale_sock rec;

	if (!stale_sock_of(sk, proto, &rec) || bpf_sock_destroy(sk) != 0)
		return 0;
	stats_add(SL_STAT_SOCK_DESTROYED, 0);
	bpf_seq_write(meta->seq, &rec, sizeof(rec));
	return 0;
}

#endif /* SLUICE_LIB_STALE_H */
