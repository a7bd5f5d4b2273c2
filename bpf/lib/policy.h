/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NetworkPolicy verdicts from the compiled maps (sluice_abi.h, doc/policy.md):
 * who the two addresses are (sl_ipid), then for each side that is a pod of
 * this node with a policy group in that direction, whether the group's
 * entries admit the peer: one sl_pol lookup per kind of peer the group's
 * rules use (every address, the peer's label identity, its namespace, every
 * pod), and for ipBlocks the group's longest prefix holding the peer
 * (sl_polcidr) and its entry. The code is the same for any number of rules:
 * at most 2 hash and 6 LPM lookups, whatever the maps hold.
 *
 * Exceptions the API gives: a pod reaches itself, and traffic between a pod
 * and its own node (SL_IPID_NODE_SELF) is always allowed.
 */
#ifndef SLUICE_LIB_POLICY_H
#define SLUICE_LIB_POLICY_H

#include "common.h"
#include "sluice_maps.h"

#define POL_ALLOW 0	/* pol_verdict: no side denies; else an SL_DROP_POLICY_* (< 0) */

/* pol_verdict's local: which end of the flow is known, by the interface
 * the packet came by or goes to, to be a pod of this node. Such a pod
 * missing from sl_ipid is one the agent has not heard of yet: isolated
 * until it has (SL_DROP_POLICY_UNKNOWN_POD). */
enum pol_local {
	POL_LOCAL_SRC = 1,
	POL_LOCAL_DST = 2,
};

/* The policy state, or NULL while the cluster has no NetworkPolicy (then
 * nothing is checked, and nothing is tracked for policy's sake). */
static __always_inline const struct polstate_val *pol_state(void)
{
	struct polstate_key k = { .zero = 0 };
	const struct polstate_val *s = bpf_map_lookup_elem(&sl_polstate, &k);

	return s && (s->flags & SL_POLSTATE_ANY_POLICY) ? s : NULL;
}

static __always_inline const struct ipid_val *pol_ipid(__be32 addr)
{
	struct ipid_key k = { .addr = addr };

	return bpf_map_lookup_elem(&sl_ipid, &k);
}

/* The destination port as policy matches it: TCP, UDP and SCTP have one;
 * every other protocol meets policy by protocol alone, as port 0, which only
 * a rule without ports admits. */
static __always_inline __be16 pol_port(__u8 proto, __be16 port)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ? port : 0;
}

/* Whether group's entries admit (peer, kind) on (proto, port). */
static __always_inline bool pol_hit(__be32 group, __be32 peer, __u8 kind, __u8 proto, __be16 port)
{
	struct pol_key k = {
		.prefixlen = SL_POL_PREFIX_PORT, .group = group, .peer = peer, .kind = kind, .proto = proto, .port = port,
	};

	return bpf_map_lookup_elem(&sl_pol, &k) != NULL;
}

static __always_inline bool pol_uses(__u8 kinds, enum sl_peer_kind kind)
{
	return kinds & (1 << kind);
}

/* The group's ipBlock entry for addr: its longest prefix holding addr. */
static __always_inline bool pol_hit_cidr(__be32 group, __be32 addr, __u8 proto, __be16 port)
{
	struct polcidr_key k = { .prefixlen = 64, .group = group, .addr = addr };
	const struct polcidr_val *c = bpf_map_lookup_elem(&sl_polcidr, &k);

	return c && pol_hit(group, c->prefix, c->kind, proto, port);
}

/* Whether policy group (kinds: the kinds its entries use) admits the peer
 * at addr (pv: its sl_ipid entry, or NULL) on (proto, port). Group 0: not
 * isolated in this direction. */
static __always_inline bool pol_allows(__be32 group, __u8 kinds, __be32 addr, const struct ipid_val *pv, __u8 proto,
				       __be16 port)
{
	if (!group || (pv && (pv->flags & SL_IPID_NODE_SELF)))
		return true;
	if (pol_uses(kinds, SL_PEER_ANY) && pol_hit(group, 0, SL_PEER_ANY, proto, port))
		return true;
	if (pv && (pv->flags & SL_IPID_POD)) {
		if (pol_uses(kinds, SL_PEER_ID) && pol_hit(group, pv->identity, SL_PEER_ID, proto, port))
			return true;
		if (pol_uses(kinds, SL_PEER_NS) && pol_hit(group, pv->ns, SL_PEER_NS, proto, port))
			return true;
		if (pol_uses(kinds, SL_PEER_ALL_PODS) && pol_hit(group, 0, SL_PEER_ALL_PODS, proto, port))
			return true;
	}
	return pol_uses(kinds, SL_PEER_CIDR) && pol_hit_cidr(group, addr, proto, port);
}

/* The verdict on a flow from src to dst (after any DNAT: the backend) on
 * (proto, port: pol_port), as this node judges it: the egress of src
 * and the ingress of dst where they are pods of this node with a group (other
 * pods have none here: their own node judges them). local: enum pol_local.
 * Returns POL_ALLOW or the SL_DROP_POLICY_* reason.
 *
 * A global function: the verifier checks it once, on its own, rather than
 * again at every call on every path to it, which would take the programs
 * past its limit of instructions processed. */
__attribute__((noinline)) int pol_verdict(__be32 src, __be32 dst, __u8 proto, __be16 port, __u32 local)
{
	const struct ipid_val *sv, *dv;

	if (src == dst)
		return POL_ALLOW;	/* a pod can always reach itself */
	sv = pol_ipid(src);
	dv = pol_ipid(dst);
	if ((!sv && (local & POL_LOCAL_SRC)) || (!dv && (local & POL_LOCAL_DST)))
		return SL_DROP_POLICY_UNKNOWN_POD;
	if (sv && !pol_allows(sv->group[SL_DIR_EGRESS], sv->kinds[SL_DIR_EGRESS], dst, dv, proto, port))
		return SL_DROP_POLICY_EGRESS;
	if (dv && !pol_allows(dv->group[SL_DIR_INGRESS], dv->kinds[SL_DIR_INGRESS], src, sv, proto, port))
		return SL_DROP_POLICY_INGRESS;
	return POL_ALLOW;
}

/* Whether a flow from src to dst is isolated here: the egress of src or
 * the ingress of dst has a policy group on this node, or a local end (enum
 * pol_local) is unknown. A fragment without its first fragment's verdict is
 * dropped for such a flow. */
static __always_inline bool pol_isolated(__be32 src, __be32 dst, __u32 local)
{
	const struct ipid_val *sv = pol_ipid(src), *dv = pol_ipid(dst);

	if ((!sv && (local & POL_LOCAL_SRC)) || (!dv && (local & POL_LOCAL_DST)))
		return true;
	return (sv && sv->group[SL_DIR_EGRESS]) || (dv && dv->group[SL_DIR_INGRESS]);
}

#endif /* SLUICE_LIB_POLICY_H */
