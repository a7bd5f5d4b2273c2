// What one node's datapath must do with a flow's packets under NetworkPolicy:
// the reference evaluator (netpol.ts) judges the policy, and this adds what
// a datapath with conntrack makes of it, as POLICY.md §2.1 (decisions 8-12)
// and bpf/lib/enforce.h specify it:
// - a node judges the sides of a flow that are its own pods: the egress of a
//   local source, the ingress of a local destination (the other node judges
//   the rest); the evaluator's exceptions (a pod and itself, a pod and its
//   own node) allow;
// - a flow allowed on its first packet is tracked: its later packets and its
//   answers pass;
// - a TCP segment other than a SYN that finds no entry passes when the flow
//   is allowed either way round (the other end may have opened it); any
//   other packet without an entry is judged the way it goes;
// - a tracked flow is judged again, the way it was opened, when policy
//   changed (unless established flows are kept): denied, it is cut.
import { Evaluator, type Endpoint, type Flow, type Side } from './netpol.ts';

/** Whether node lets a new flow through: no side of it that is node's pod denies it. */
export function nodeAllows(ev: Evaluator, node: string, f: Flow): boolean {
  const v = ev.evaluate(f);
  if (v.exception) return true;
  const ok = (s: Side | null) => !s || !s.isolated || s.allowedBy.length > 0;
  const local = (e: Endpoint) => e.kind === 'pod' && e.node === node;
  return (!local(v.src) || ok(v.egress)) && (!local(v.dst) || ok(v.ingress));
}

/** The flow as its other end would have opened it: sport is the packet's source port. */
export const reversed = (f: Flow, sport: number): Flow => ({ src: f.dst, dst: f.src, protocol: f.protocol, port: sport });

/** A packet of f (from its source, source port sport) that finds no entry: tcpMidFlow when it is a TCP segment other than a SYN. */
export function untrackedAllows(ev: Evaluator, node: string, f: Flow, sport: number, tcpMidFlow: boolean): boolean {
  return nodeAllows(ev, node, f) || (tcpMidFlow && f.protocol === 'TCP' && nodeAllows(ev, node, reversed(f, sport)));
}

/** A packet of a flow node tracks, allowed under before, after policy became after. */
export function trackedAllows(after: Evaluator, node: string, f: Flow, keep: boolean): boolean {
  return keep || nodeAllows(after, node, f);
}
