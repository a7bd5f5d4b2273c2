/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps of the datapath. Each is LIBBPF_PIN_BY_NAME, so every
 * program object of one agent shares them under its pin root, and a new
 * object loaded over a running one reuses them (established flows survive an
 * upgrade). Names are sl_<x> for SL_MAP_<X> / SL_STATE_<X> of sluice_abi.h.
 * max_entries are defaults; the loader may change them before load.
 *
 * Included by exactly one object with programs (sluice.bpf.c): a map defined
 * here in two objects would still be one pinned map, but one definition is
 * easier to read. tools/gen-abi.ts reads each map's type and key and value
 * types from the BTF of these definitions.
 */
#ifndef SLUICE_MAPS_H
#define SLUICE_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sluice_abi.h"

#define SL_SVC_MAX		65536
#define SL_BE_MAX		262144
#define SL_MAGLEV_MAX		1048576
#define SL_SRCRANGE_MAX		16384
#define SL_SVCNAME_MAX		131072
#define SL_CT_MAX		524288
#define SL_AFFINITY_MAX		65536
#define SL_SOCKREV_MAX		65536
#define SL_PODNET_MAX		16384
#define SL_IPID_MAX		65536
#define SL_POLCIDR_MAX		16384
#define SL_POL_MAX		262144
#define SL_POLNAME_MAX		65536

/* frontend (vip, port, proto, scope) -> service; written by the applier
 * only. Preallocated: it is read by the first packet of every flow. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct svc_key);
	__type(value, struct svc_val);
	__uint(max_entries, SL_SVC_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_svc SEC(".maps");

/* (backend set, backend id) -> backend address; written by the applier only.
 * Also read per packet of UDP flows, to notice a backend that left. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct be_key);
	__type(value, struct be_val);
	__uint(max_entries, SL_BE_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_be SEC(".maps");

/* (backend set, chunk) -> 64 Maglev slots; written by the applier only.
 * Not preallocated: at 264 bytes a value, a full table would cost 270 MB. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct maglev_key);
	__type(value, struct maglev_val);
	__uint(max_entries, SL_MAGLEV_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_maglev SEC(".maps");

/* loadBalancerSourceRanges: (frontend, client prefix) -> allowed; written by
 * the applier only. LPM tries must not be preallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct srcrange_key);
	__type(value, struct srcrange_val);
	__uint(max_entries, SL_SRCRANGE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_srcrange SEC(".maps");

/* backend set -> "namespace/name"; written by the applier, read by
 * `sluice maps`, never by a program. Defined here so the loader creates it
 * with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct svcname_key);
	__type(value, struct svcname_val);
	__uint(max_entries, SL_SVCNAME_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_svcname SEC(".maps");

/* NetworkPolicy (sluice_abi.h): written by the applier only. Part 1 emits
 * them; the programs do not read them yet. sl_ipid is read by the first
 * packet of every flow, so it is preallocated like sl_svc. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct ipid_key);
	__type(value, struct ipid_val);
	__uint(max_entries, SL_IPID_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ipid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct polcidr_key);
	__type(value, struct polcidr_val);
	__uint(max_entries, SL_POLCIDR_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_polcidr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct pol_key);
	__type(value, struct pol_val);
	__uint(max_entries, SL_POL_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_pol SEC(".maps");

/* rule id -> name: read by explain and `sluice maps`, never by a program */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct polname_key);
	__type(value, struct polname_val);
	__uint(max_entries, SL_POLNAME_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_polname SEC(".maps");

/* A hash of one entry rather than an array: the compiler's diffs delete it
 * when the cluster has no policy, which an array cannot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct polstate_key);
	__type(value, struct polstate_val);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_polstate SEC(".maps");

/* Connection tracking, two entries per translated flow (see struct ct_key);
 * written by the programs only. LRU: when full, the least recently used flow
 * goes, rather than new flows being refused. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct_key);
	__type(value, struct ct_val);
	__uint(max_entries, SL_CT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ct SEC(".maps");

/* sessionAffinity ClientIP: (backend set, client) -> backend; written by the
 * programs only, on each new flow of an affine service. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct affinity_key);
	__type(value, struct affinity_val);
	__uint(max_entries, SL_AFFINITY_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_affinity SEC(".maps");

/* (socket, backend) -> the frontend it was sent to instead (struct
 * sockrev_key); written by the connect4 and sendmsg4 programs only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct sockrev_key);
	__type(value, struct sockrev_val);
	__uint(max_entries, SL_SOCKREV_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_sockrev SEC(".maps");

/* pod address or podCIDR -> the local pod's host-side interface (struct
 * podnet_key); written by the agent only. LPM tries must not be
 * preallocated. One entry per local pod and per other node's podCIDR. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct podnet_key);
	__type(value, struct podnet_val);
	__uint(max_entries, SL_PODNET_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_podnet SEC(".maps");

/* Per-CPU packet and byte counters by enum sl_stat, and drops at -enum
 * sl_drop; written by the programs, summed over CPUs by the agent. The key is
 * struct stats_key, declared as __u32 because the kernel wants an integer key
 * type for arrays. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stats_val);
	__uint(max_entries, SL_STATS_SLOTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_stats SEC(".maps");

#endif /* SLUICE_MAPS_H */
