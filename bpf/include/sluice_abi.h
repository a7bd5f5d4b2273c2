/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map layouts shared by the datapath (bpf/) and the compiler (compiler/).
 * This header is the single source of truth: tools/gen-abi.ts reads the BTF of
 * build/bpf/abi.o and generates compiler/abi/layouts.ts and
 * runtime/abi/layouts.generated.ts from it. Constants live in enums, because
 * #defines do not reach BTF.
 *
 * Keys are hashed and sorted bytewise, so every pad byte is explicit and zero,
 * and every multi-byte key field is big-endian: sorting key bytes then sorts
 * by the fields in order. Values are host order unless named __be.
 */
#ifndef SLUICE_ABI_H
#define SLUICE_ABI_H

#include <linux/types.h>

/* Map ids. SL_MAP_FOO is the pinned map "sl_foo" with key struct foo_key and
 * value struct foo_val; diffs are ordered by this id, then by key bytes. */
enum sl_map_id {
	SL_MAP_SVC = 1,
	SL_MAP_BE = 2,
	SL_MAP_MAGLEV = 3,
	SL_MAP_SRCRANGE = 4,
	SL_MAP_SVCNAME = 5,
};

enum sl_limits {
	SL_MAGLEV_CHUNK = 64,		/* backend ids per sl_maglev value */
	SL_SVCNAME_LEN = 128,		/* "namespace/name", NUL padded */
	SL_MAGLEV_MIN = 100,		/* table slots per backend, at least */
};

/* Which clients a frontend entry serves. An externalTrafficPolicy=Local
 * frontend has a SCOPE_ALL entry with node-local backends and a
 * SCOPE_INTERNAL twin with every backend, for clients inside the cluster
 * (kube-proxy short-circuits those to the cluster endpoints as well). */
enum sl_scope {
	SL_SCOPE_ALL = 0,
	SL_SCOPE_INTERNAL = 1,
};

enum sl_svc_kind {
	SL_KIND_CLUSTER_IP = 0,
	SL_KIND_NODE_PORT = 1,
	SL_KIND_EXTERNAL_IP = 2,
	SL_KIND_LOAD_BALANCER = 3,
};

enum sl_svc_flag {
	SL_SVC_LOCAL = 1,		/* backends are this node's endpoints only */
	SL_SVC_AFFINITY = 2,		/* sessionAffinity ClientIP, timeout in affinity */
	SL_SVC_SRC_RANGES = 4,		/* clients must match sl_srcrange */
	SL_SVC_HAS_INTERNAL = 8,	/* a SCOPE_INTERNAL twin exists */
};

enum sl_be_flag {
	SL_BE_LOCAL = 1,		/* endpoint runs on this node */
	SL_BE_TERMINATING = 2,		/* chosen only because no endpoint was ready */
};

/* frontend -> service; written by the applier only */
struct svc_key {
	__be32 vip;		/* ClusterIP, node IP, external or LoadBalancer IP */
	__be16 port;		/* service port or nodePort */
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	__u8 scope;		/* enum sl_scope */
};

struct svc_val {
	__u32 bset;		/* backend set: key prefix of sl_be and sl_maglev */
	__u32 slots;		/* Maglev table size, 0 when count is 0 */
	__u32 affinity;		/* ClientIP affinity timeout, seconds */
	__u16 count;		/* backends; 0 means reject at once */
	__u8 kind;		/* enum sl_svc_kind */
	__u8 flags;		/* enum sl_svc_flag */
};

/* (backend set, backend id) -> address; written by the applier only */
struct be_key {
	__be32 bset;
	__be32 id;		/* content-derived, stable while the backend lives */
};

struct be_val {
	__be32 ip;
	__be16 port;
	__u8 flags;		/* enum sl_be_flag */
	__u8 pad;
};

/* (backend set, chunk) -> Maglev slots [chunk * 64, chunk * 64 + 64);
 * slot = flow hash % svc_val.slots. Written by the applier only. */
struct maglev_key {
	__be32 bset;
	__be32 chunk;
};

struct maglev_val {
	__u32 id[SL_MAGLEV_CHUNK];	/* be_key.id; 0 past the last slot */
};

/* LPM trie: LoadBalancer frontend + client prefix -> allowed. prefixlen is
 * host order, as the kernel wants it, and counts the 64 frontend bits plus
 * the client prefix. Written by the applier only. */
struct srcrange_key {
	__u32 prefixlen;
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
	__be32 client;
};

struct srcrange_val {
	__u32 allow;		/* always 1 */
};

/* backend set -> owning Service, for `sluice maps`; the datapath never reads it */
struct svcname_key {
	__be32 bset;
};

struct svcname_val {
	char name[SL_SVCNAME_LEN];
};

#endif /* SLUICE_ABI_H */
