/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map layouts shared by the datapath (bpf/) and the compiler (compiler/).
 * This header is the single source of truth: tools/gen-abi.ts compiles every
 * enum and struct it declares (each at the start of a line) beside the maps
 * of sluice_maps.h into build/bpf/abi.o, and generates compiler/abi/layouts.ts
 * and runtime/abi/layouts.generated.ts from that object's BTF. Constants live
 * in enums, because #defines do not reach BTF.
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
	SL_MAP_IPID = 6,
	SL_MAP_POLCIDR = 7,
	SL_MAP_POL = 8,
	SL_MAP_POLNAME = 9,
	SL_MAP_POLSTATE = 10,
};

/* Maps the datapath owns and the applier never writes: SL_STATE_FOO is the
 * pinned map "sl_foo" with foo_key and foo_val, as for enum sl_map_id. */
enum sl_state_map {
	SL_STATE_CT = 1,
	SL_STATE_AFFINITY = 2,
	SL_STATE_STATS = 3,
	SL_STATE_SOCKREV = 4,
	SL_STATE_FRAG = 5,
};

/* Maps the agent writes from what it finds on the node (its pods'
 * interfaces) and in the cluster's Nodes (their podCIDRs), not from the
 * compiler's output: SL_NODE_FOO is the pinned map "sl_foo" with foo_key and
 * foo_val, as for enum sl_map_id. The datapath only reads them. */
enum sl_node_map {
	SL_NODE_PODNET = 1,
};

enum sl_limits {
	SL_MAGLEV_CHUNK = 64,		/* backend ids per sl_maglev value */
	SL_SVCNAME_LEN = 128,		/* "namespace/name", NUL padded */
	SL_MAGLEV_MIN = 100,		/* table slots per backend, at least */
	SL_RENDEZVOUS_MAX = 32,		/* sets this small have no table: see svc_val.slots */
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
	__u32 slots;		/* Maglev table size, 0 when count is 0; at most
				 * SL_RENDEZVOUS_MAX: no table, the set's ids
				 * in its first sl_maglev entry, and each new
				 * flow picks among them (lib/lb.h) */
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
 * slot = flow hash % svc_val.slots. A set of at most SL_RENDEZVOUS_MAX
 * backends has chunk 0 only, holding its ids. Written by the applier only. */
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

/*
 * NetworkPolicy (doc/policy.md). Policy is data: the compiler emits these
 * maps for the node, the datapath looks them up on a flow's first packet.
 * A local pod belongs to one policy group per direction (the policies that
 * select it for that direction, and how its named ports resolve); rules are
 * entries per group, shared by every pod of the group. Group ids are distinct
 * between directions, so a group id names its direction too. All of them are
 * empty while the cluster has no NetworkPolicy.
 */
enum sl_dir {
	SL_DIR_INGRESS = 0,
	SL_DIR_EGRESS = 1,
};

/* What a pol_key's peer is. CIDR kinds carry the prefix length:
 * SL_PEER_CIDR + 0 .. SL_PEER_CIDR + 32. */
enum sl_peer_kind {
	SL_PEER_ANY = 0,	/* every address; peer 0 */
	SL_PEER_ID = 1,		/* pods of a label identity; peer: ipid_val.identity */
	SL_PEER_NS = 2,		/* every pod of a namespace; peer: ipid_val.ns */
	SL_PEER_ALL_PODS = 3,	/* every pod of the cluster; peer 0 */
	SL_PEER_CIDR = 4,	/* an ipBlock prefix of the group; peer: its address */
};

enum sl_ipid_flag {
	SL_IPID_POD = 1,	/* a pod's address: identity and ns are set */
	SL_IPID_LOCAL = 2,	/* a pod of this node: group is set */
	SL_IPID_NODE_SELF = 4,	/* one of this node's addresses: always allowed */
};

/* Group ids have their top bit set. A group whose id bucket is full (more
 * names than ranks: reported) is held under this one, which no sl_pol entry
 * names: its pods are isolated and nothing is allowed, rather than nothing
 * denied. */
enum sl_pol_group {
	SL_GROUP_UNNUMBERED = 1,
};

enum sl_pol_action {
	SL_POL_ALLOW = 1,	/* DENY and PASS are kept for the admin tiers */
};

enum sl_polstate_flag {
	SL_POLSTATE_ANY_POLICY = 1,	/* the cluster has a NetworkPolicy */
};

/* sl_pol prefix lengths: the exact part (group, peer, kind), then the
 * protocol, then the port's bits. */
enum sl_pol_prefix {
	SL_POL_PREFIX_ANY_PROTO = 72,	/* a rule without ports: every protocol */
	SL_POL_PREFIX_PROTO = 80,	/* a protocol without a port: all its ports */
	SL_POL_PREFIX_PORT = 96,	/* one port; a range is prefixes in between */
};

/* address -> who it is: every pod of the cluster and this node's own
 * addresses. Written by the applier only. */
struct ipid_key {
	__be32 addr;
};

struct ipid_val {
	__be32 identity;	/* label identity (pods), else 0 */
	__be32 ns;		/* namespace id (pods), else 0 */
	__be32 group[2];	/* local pods, by enum sl_dir: policy group; 0 = not isolated */
	__u8 kinds[2];		/* by enum sl_dir: 1 << kind for each kind the group's
				 * entries use (CIDR kinds as 1 << SL_PEER_CIDR) */
	__u8 flags;		/* enum sl_ipid_flag */
	__u8 pad;
};

/* LPM: (group, address) -> the group's longest ipBlock prefix holding it.
 * prefixlen is host order: 32 + the prefix length. Written by the applier only. */
struct polcidr_key {
	__u32 prefixlen;
	__be32 group;
	__be32 addr;
};

struct polcidr_val {
	__u8 kind;		/* SL_PEER_CIDR + the prefix length */
	__u8 pad[3];
	__be32 prefix;		/* the prefix's address: pol_key.peer */
};

/* LPM: (group, peer, kind, protocol, port) -> allowed. prefixlen is host
 * order, enum sl_pol_prefix. Written by the applier only. */
struct pol_key {
	__u32 prefixlen;
	__be32 group;
	__be32 peer;		/* by kind: identity, namespace id, prefix address, 0 */
	__u8 kind;		/* enum sl_peer_kind (+ prefix length for CIDR) */
	__u8 proto;		/* IPPROTO_TCP, _UDP or _SCTP */
	__be16 port;		/* destination port, after DNAT */
};

struct pol_val {
	__be32 rule;		/* the first rule (by ns/name, direction, index) allowing it */
	__u8 action;		/* enum sl_pol_action */
	__u8 tier;		/* 0: NetworkPolicy */
	__u16 priority;		/* admin tiers only */
};

/* rule id -> "ns/name ingress[2]", for explain and counters; never read per packet */
struct polname_key {
	__be32 id;
};

struct polname_val {
	char name[SL_SVCNAME_LEN];
};

/* The one entry (key 0) that says whether policy applies, and the epoch:
 * the XOR of a hash of every sl_ipid, sl_polcidr and sl_pol entry, so a
 * tracked flow can tell that policy changed since it was allowed. */
struct polstate_key {
	__u32 zero;
};

struct polstate_val {
	__u32 epoch;
	__u32 flags;		/* enum sl_polstate_flag */
};

/* Connection tracking. One entry per direction of a translated flow, keyed
 * by the packet's tuple as it arrives, valued by the tuple to rewrite it to:
 * the client's entry turns client->VIP into client->backend (or
 * node->backend with SNAT), the reply entry turns the backend's answer back
 * into VIP->client. LRU: the kernel evicts the least recently used when full. */
struct ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;		/* ICMP echo: the identifier; otherwise 0 if portless */
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

enum sl_ct_flag {
	SL_CT_REPLY = 1,	/* this entry is the reply direction */
	SL_CT_SNAT = 2,		/* the source was rewritten too (hairpin, remote NodePort) */
	SL_CT_EXTERNAL = 4,	/* the flow entered through the node's interface */
	SL_CT_FIN = 8,		/* this entry's direction sent a FIN: both set -> CLOSED */
	SL_CT_DSR = 16,		/* frontend's node: the remote backend answers the client
				 * directly; the client's packets carry the frontend to
				 * its node in the DSR option (struct dsr_opt) */
	SL_CT_DSR_BACKEND = 32,	/* backend's node: made from a DSR option; the reply
				 * entry restores the frontend. The client entry
				 * rewrites nothing, and the reply entry's peer is the
				 * reverse of its own key, not of its value */
	SL_CT_PLAIN = 64,	/* a flow no service translates, tracked for
				 * NetworkPolicy: neither entry rewrites anything */
};

enum sl_ct_state {
	SL_CT_NEW = 0,		/* client sent, no answer yet (TCP: SYN seen) */
	SL_CT_ESTABLISHED = 1,	/* the other side answered */
	SL_CT_CLOSING = 2,	/* TCP FIN seen */
	SL_CT_CLOSED = 3,	/* TCP RST seen, or both FINs */
};

struct ct_val {
	__u64 expires;		/* bpf_ktime_get_ns() after which the entry is void */
	__be32 saddr;		/* the tuple to write into matching packets */
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__be32 bset;		/* client entries: backend set and backend, so a flow */
	__be32 backend;		/* whose backend left can be noticed (UDP, SCTP) */
	__u8 state;		/* enum sl_ct_state */
	__u8 flags;		/* enum sl_ct_flag */
	__u8 peer_mac[6];	/* reply entries of SNATed external flows: the L2
				 * source of the client's packets, where the
				 * answers go back to; zero otherwise */
	__u32 polgen;		/* sl_polstate's epoch when this node last allowed
				 * the flow; 0: allowed with no policy in force */
};

/* Where pods are, for forwarding past the stack (bpf/lib/fwd.h): an LPM
 * trie of each local pod's address (/32) with the host side of its
 * interface, and of each other node's podCIDR. Written by `sluice apply` and
 * the agent from interface discovery and the Nodes; read by the datapath. */
struct podnet_key {
	__u32 prefixlen;	/* host order, as the kernel wants it */
	__be32 addr;
};

struct podnet_val {
	__u32 ifindex;		/* a local pod: the host side of its veth, whose peer
				 * bpf_redirect_peer delivers into; 0: pods of
				 * another node */
};

/* sessionAffinity ClientIP: (backend set, client) -> backend */
struct affinity_key {
	__be32 bset;
	__be32 client;
};

struct affinity_val {
	__u64 used;		/* bpf_ktime_get_ns() of the last new flow */
	__be32 backend;
	__u32 pad;
};

/* Connect-time translation (bpf/lib/sock.h): a socket of the node's own
 * network namespace that a program sent to a backend instead of the frontend
 * it addressed. recvmsg4 and getpeername4 look up the address the kernel
 * reports as the peer (the backend) and report the frontend instead; the
 * socket iterators (bpf/lib/stale.h) look up a connected socket's peer to
 * see whether its backend is still in sl_be. Keyed by backend too, since one
 * unconnected UDP socket may send to several services. Written by the
 * programs only; LRU: a socket that closed is never deleted, its entries age
 * out. */
struct sockrev_key {
	__u64 cookie;		/* bpf_get_socket_cookie() */
	__be32 backend;		/* the address the socket was sent to */
	__be16 port;
	__u16 pad;		/* always 0 */
};

struct sockrev_val {
	__be32 vip;		/* the frontend the application addressed */
	__be16 port;
	__u16 pad;		/* always 0 */
	__be32 bset;		/* the backend as sl_be knows it (be_key): gone from */
	__be32 id;		/* there, the socket is stale */
};

/* Fragments after the first (lib/enforce.h): the first fragment of a
 * datagram of an isolated pod, allowed, leaves its datagram's id here, so the
 * ones after it, which carry no ports, follow its verdict. Written by the
 * programs only; LRU. */
struct frag_key {
	__be32 saddr;
	__be32 daddr;
	__be16 id;		/* the IPv4 identification field */
	__u8 proto;
	__u8 pad;		/* always 0 */
};

struct frag_val {
	__u64 expires;		/* bpf_ktime_get_ns() after which it is void */
};

/* What a socket iterator (bpf/lib/stale.h) writes for each socket it
 * destroyed: a connected UDP socket, or a TCP socket still connecting,
 * whose backend left sl_be. The runtime reads them from the iterator's fd. */
struct stale_sock {
	__be32 vip;		/* the frontend the application addressed */
	__be32 backend;		/* the backend the socket was connected to */
	__be16 vport;
	__be16 port;		/* the backend's */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};

/* Per-CPU packet counters of what happened to packets that were not dropped
 * (drops: enum sl_drop). The cgroup programs count a connect() or sendmsg()
 * as a packet of 0 bytes: TRANSLATED, REJECTED (no backend: ECONNREFUSED);
 * the socket iterators a socket destroyed, likewise (SOCK_DESTROYED). */
enum sl_stat {
	SL_STAT_TRANSLATED = 0,	/* a new flow got a backend */
	SL_STAT_CT_HIT = 1,	/* a packet of a tracked flow was rewritten */
	SL_STAT_REJECTED = 2,	/* answered with TCP RST or ICMP unreachable */
	SL_STAT_REPICKED = 3,	/* a UDP/SCTP flow left a removed backend */
	SL_STAT_ICMP_ERROR = 4,	/* an ICMP error about a tracked flow was translated */
	SL_STAT_DSR_SENT = 5,	/* left for a remote backend with the DSR option */
	SL_STAT_DSR_RECEIVED = 6,	/* arrived with the DSR option, taken off here */
	SL_STAT_DSR_NO_ROOM = 7,	/* the option would pass the MTU or the 60-byte
				 * header: a new flow SNATed instead, a packet
				 * of a DSR flow sent without it */
	SL_STAT_FWD_PEER = 8,	/* forwarded past the stack into a local pod
				 * (bpf_redirect_peer) */
	SL_STAT_FWD_DIRECT = 9,	/* forwarded past the stack out of an interface,
				 * to a neighbour the lookup knew (bpf_redirect) */
	SL_STAT_FWD_NEIGH = 10,	/* forwarded past the stack out of an interface,
				 * the neighbour left to the kernel to resolve
				 * (bpf_redirect_neigh) */
	SL_STAT_FWD_STACK = 11,	/* meant to go past the stack, given to it
				 * instead because the route lookup said so: no
				 * route, a local destination, too big for the
				 * route's MTU, or the TTL running out (the stack
				 * then answers, or drops) */
	SL_STAT_SOCK_DESTROYED = 12,	/* a host socket whose backend left was
				 * destroyed (bpf_sock_destroy: the
				 * application gets ECONNABORTED) */
	SL_STAT_SOCK_RECORDED = 13,	/* a host socket's backend was written to
				 * sl_sockrev (counted after the write) */
	SL_STAT_MAX = 14,
};

/* Why the datapath dropped a packet (or, in the cgroup programs, refused a
 * connect() or sendmsg()), as Cilium names its drop reasons: negative, so a
 * reason is never mistaken for a TC_ACT_* verdict or a counter. sl_stats
 * counts reason r at slot -r, past every enum sl_stat; a connect() outside
 * the source ranges is SRC_RANGE (EPERM), one to a frontend whose backends
 * all failed their pick NO_BACKEND (ECONNREFUSED). */
enum sl_drop {
	SL_DROP_NO_BACKEND = -200,	/* no backend, and no reject could be sent */
	SL_DROP_SRC_RANGE = -201,	/* client outside loadBalancerSourceRanges */
	SL_DROP_CT_FULL = -202,	/* conntrack update failed */
	SL_DROP_MALFORMED = -203,	/* headers shorter than they claim */
	SL_DROP_NAT_PORTS = -204,	/* no free SNAT port */
	SL_DROP_REWRITE = -205,	/* a helper failed to rewrite the packet (no memory) */
	SL_DROP_POLICY_EGRESS = -206,	/* a new flow the source pod's egress policy denies */
	SL_DROP_POLICY_INGRESS = -207,	/* a new flow the destination pod's ingress policy denies */
	SL_DROP_POLICY_REVOKED = -208,	/* a packet of a tracked flow that policy denies
				 * since it changed: the flow is cut (TCP: a RST
				 * goes to the local pod) */
	SL_DROP_POLICY_UNKNOWN_POD = -209,	/* from or to a local pod that sl_ipid does not
				 * hold yet, while the cluster has a NetworkPolicy */
	SL_DROP_FRAG_UNTRACKED = -210,	/* a fragment after the first, of a datagram whose
				 * first fragment was not seen allowed, for an
				 * isolated pod */
};

/* Slots of sl_stats: every enum sl_stat, then every -enum sl_drop. */
enum sl_stats_slots {
	SL_STATS_SLOTS = 256,
};

struct stats_key {
	__u32 stat;		/* enum sl_stat, or -enum sl_drop */
};

struct stats_val {
	__u64 packets;
	__u64 bytes;
};

/* Load-time settings: the loader writes them into the object's read-only
 * data (const volatile struct sl_config sl_cfg) before the verifier sees it. */
enum sl_cfg_flag {
	SL_CFG_DSR = 1,		/* remote backends answer external clients directly
				 * (NodePort, ExternalIP, LoadBalancer), told the
				 * frontend by the DSR option */
	SL_CFG_NO_FAST_PATH = 2,	/* --no-fast-path: translated requests and pod-to-pod
				 * traffic go through the stack; only what it
				 * would refuse on default sysctls (answers, SNATed
				 * requests) is still forwarded past it (lib/fwd.h) */
	SL_CFG_POLICY_KEEP = 4,	/* --policy-established keep: a tracked flow is never
				 * checked against policy again (Calico's way);
				 * without it a policy change is checked on the
				 * flow's next packet (lib/enforce.h) */
};

/* The DSR option: an IPv4 option by which the node that takes an external
 * client's packet for a remote backend (the frontend's node) tells the
 * backend's node which frontend the client addressed, so that the backend's
 * answers can leave that node with the frontend as their source and go to
 * the client directly. The frontend's node puts it first, right after the
 * fixed 20-byte header (bpf_skb_adjust_room, BPF_ADJ_ROOM_NET), and fixes
 * ihl, tot_len and the header checksum; the backend's node looks for it
 * there only, and takes it off before the packet reaches the pod.
 *
 *   0        8        16                31
 *   +--------+--------+-----------------+
 *   | 0x9e   | 8      | frontend port   |
 *   +--------+--------+-----------------+
 *   | frontend address (VIP)            |
 *   +-----------------------------------+
 *
 * Type 0x9e is option number 30 with the copied flag, class 0: RFC 4727's
 * value for RFC 3692-style experiments (IANA "EXP"), so it collides with no
 * assigned option (Cilium's DSR uses 0x9a). Copied: a fragment would carry
 * it too. All fields big-endian. */
enum sl_dsr {
	SL_DSR_OPT_TYPE = 0x9e,
	SL_DSR_OPT_LEN = 8,	/* the whole option, as its length byte says */
};

struct dsr_opt {
	__u8 type;		/* SL_DSR_OPT_TYPE */
	__u8 len;		/* SL_DSR_OPT_LEN */
	__be16 port;		/* frontend port: service port, nodePort */
	__be32 vip;		/* frontend address: node, external or LoadBalancer IP */
};

struct sl_config {
	__u64 netns_cookie;	/* the node's network namespace (SO_NETNS_COOKIE):
				 * the only one whose sockets the cgroup programs
				 * translate; 0: they translate none */
	__be32 node_ip;		/* source address of SNAT toward remote backends */
	__be32 hairpin_ip;	/* source address of a pod's flow to itself */
	__u32 flags;		/* enum sl_cfg_flag */
	__u32 ct_syn_s;		/* conntrack lifetimes, seconds: TCP before an answer */
	__u32 ct_est_s;		/* TCP established */
	__u32 ct_fin_s;		/* TCP after a FIN */
	__u32 ct_rst_s;		/* TCP after a RST */
	__u32 ct_udp_s;		/* UDP */
	__u32 ct_other_s;	/* anything else */
};

#endif /* SLUICE_ABI_H */
