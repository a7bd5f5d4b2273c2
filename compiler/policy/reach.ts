// Which policies a batch's changes can reach, so that it drops only the
// expansions that may name what moved instead of testing every policy. For
// a moved identity (a pod's label set that appeared, went or was
// renumbered): the peers that name identities, those selecting pods (a
// non-empty pod selector) or in a rule with an egress named port (the port
// resolves on each pod), and named egress rules with no peer, which name
// every identity. For a moved or relabelled namespace: every peer that is
// not a block. A peer names pods of its policy's own namespace (no namespace
// selector), or of the namespaces its selector matches: indexed by the
// selector's first matchLabels pair, which a namespace it matches must
// carry, else tried for every namespace.
import { Identity, World } from './body';
import { Changes, PolicyObjects } from './objects';
import { Peer, Policy, PortSpec, Rule } from './model';

export function hasNamed(ports: PortSpec[]): bool {
  for (let i = 0; i < ports.length; i++) if (unchecked(ports[i]).name.length > 0) return true;
  return false;
}

/** A peer of a rule (named: an egress rule with a named port) names identities by their labels or ports. */
export function namesIdentities(peer: Peer, named: bool): bool {
  return peer.block == null && ((peer.pods != null && !peer.pods!.empty) || named);
}

/** A named egress rule with no peer: every identity. */
export function namesAll(rule: Rule, named: bool): bool {
  return named && rule.peers.length == 0;
}

export function peerNames(peer: Peer, ns: string, i: Identity, w: World): bool {
  const nsOk = peer.namespaces == null ? i.ns == ns : peer.namespaces!.matches(w.nsLabels(i.ns));
  return nsOk && (peer.pods == null || peer.pods!.matches(i.labels));
}

const SEP = '\u0001';
const NONE: string[] = [];

/** The keys of the policies that may name pods of a namespace: a superset, each then tested (reaches).
 * Kept in short arrays, not sets, so that a batch reads the few it needs in place, allocating nothing. */
export class ReachIndex {
  /** identities: the index for moved identities, else for moved namespaces. */
  constructor(private identities: bool) {}

  private local: Map<string, string[]> = new Map(); // namespace -> policies naming its own pods
  private byLabel: Map<string, string[]> = new Map(); // "key SEP value" -> policies whose namespace selector requires it
  always: string[] = []; // policies that may name pods of any namespace

  /** Follows a batch's policy changes (ch: before; objects: after). */
  update(ch: Changes, objects: PolicyObjects): void {
    const keys = ch.policies.keys();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const old = ch.policies.get(key);
      if (old != null) this.file(old, false);
      if (objects.policies.has(key)) this.file(objects.policies.get(key), true);
    }
  }

  /** Those naming the pods of their own namespace ns. */
  localTo(ns: string): string[] { return this.local.has(ns) ? this.local.get(ns) : NONE; }

  /** Those whose namespace selector requires label key=value. */
  requiring(key: string, value: string): string[] {
    const pair = key + SEP + value;
    return this.byLabel.has(pair) ? this.byLabel.get(pair) : NONE;
  }

  /** Adds (or removes) p under each place its peers that name identities look. */
  private file(p: Policy, add: bool): void {
    for (let d = 0; d < 2; d++) {
      const rules = p.rules[d];
      for (let r = 0; r < rules.length; r++) {
        const rule = unchecked(rules[r]);
        const named = d == 1 && hasNamed(rule.ports);
        if (this.identities && namesAll(rule, named)) mark(this.always, p.key, add);
        for (let k = 0; k < rule.peers.length; k++) {
          const peer = unchecked(rule.peers[k]);
          if (this.identities ? !namesIdentities(peer, named) : peer.block != null) continue;
          const ns = peer.namespaces;
          if (ns == null) markIn(this.local, p.ns, p.key, add);
          else if (ns.labels.size == 0) mark(this.always, p.key, add);
          else markIn(this.byLabel, ns.labels.key(0) + SEP + ns.labels.value(0), p.key, add);
        }
      }
    }
  }
}

function markIn(m: Map<string, string[]>, at: string, key: string, add: bool): void {
  if (!m.has(at)) {
    if (!add) return;
    m.set(at, []);
  }
  const list = m.get(at);
  mark(list, key, add);
  if (list.length == 0) m.delete(at);
}

function mark(list: string[], key: string, add: bool): void {
  const i = list.indexOf(key);
  if (add && i < 0) list.push(key);
  else if (!add && i >= 0) list.splice(i, 1);
}
