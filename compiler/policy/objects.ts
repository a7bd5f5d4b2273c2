// The policy compiler's view of the cluster: the latest pods, namespaces and
// policies, and what each batch changed among them. The engine (engine.ts)
// reads the changes; nothing here derives map contents.
import { KIND_NAMESPACE, KIND_NETWORK_POLICY, KIND_POD } from '../abi/records';
import { joinStrs, Reader } from '../reader';
import { Strings } from '../strings';
import { Labels, NO_LABELS, Pod, Policy, readLabels, readPod, readPolicy } from './model';

/** Objects a batch touched, with their state before it (null: absent). */
export class Changes {
  pods: Map<string, Pod | null> = new Map();
  namespaces: Map<string, Labels | null> = new Map();
  policies: Map<string, Policy | null> = new Map();

  get empty(): bool { return this.pods.size == 0 && this.namespaces.size == 0 && this.policies.size == 0; }
}

export class PolicyObjects {
  pods: Map<string, Pod> = new Map();
  nsLabels: Map<string, Labels> = new Map(); // Namespace objects
  policies: Map<string, Policy> = new Map();
  changes: Changes = new Changes();
  private strings: Strings = new Strings(); // label strings, and the pods' namespaces, nodes and port names

  /** Reads one Pod, Namespace or NetworkPolicy record; returns false for other kinds. */
  apply(kind: u8, r: Reader, nsAt: usize, upsert: bool): bool {
    if (kind == KIND_POD) {
      const ns = this.strings.at(nsAt + 2, <usize>load<u16>(nsAt));
      const key = joinStrs(nsAt, r.strAt());
      if (!this.changes.pods.has(key)) this.changes.pods.set(key, this.pods.has(key) ? this.pods.get(key) : null);
      if (upsert) this.pods.set(key, readPod(r, ns, key, this.strings));
      else if (this.pods.has(key)) this.pods.delete(key);
      return true;
    }
    if (kind == KIND_NAMESPACE) {
      const name = r.str();
      if (!this.changes.namespaces.has(name)) this.changes.namespaces.set(name, this.nsLabels.has(name) ? this.nsLabels.get(name) : null);
      if (upsert) this.nsLabels.set(name, readLabels(r, this.strings));
      else if (this.nsLabels.has(name)) this.nsLabels.delete(name);
      return true;
    }
    if (kind == KIND_NETWORK_POLICY) {
      const ns = String.UTF8.decodeUnsafe(nsAt + 2, <usize>load<u16>(nsAt));
      const key = joinStrs(nsAt, r.strAt());
      if (!this.changes.policies.has(key)) this.changes.policies.set(key, this.policies.has(key) ? this.policies.get(key) : null);
      if (upsert) this.policies.set(key, readPolicy(r, ns, key));
      else if (this.policies.has(key)) this.policies.delete(key);
      return true;
    }
    return false;
  }

  /** Refills the label strings from the labels still held, once they have doubled since the last refill. */
  private forgetUnused(): void {
    if (!this.strings.stale) return;
    this.strings.clear();
    const pods = this.pods.values();
    for (let i = 0; i < pods.length; i++) {
      const p = unchecked(pods[i]);
      this.strings.keep(p.ns);
      this.strings.keep(p.node);
      keepAll(this.strings, p.labels);
      for (let j = 0; j < p.ports.length; j++) this.strings.keep(unchecked(p.ports[j]).name);
    }
    const ns = this.nsLabels.values();
    for (let i = 0; i < ns.length; i++) keepAll(this.strings, unchecked(ns[i]));
    this.strings.refilled();
  }

  labelsOf(ns: string): Labels { return this.nsLabels.has(ns) ? this.nsLabels.get(ns) : NO_LABELS; }

  /** Hands over what changed since the last call: the batch is read, so the label strings can be refilled. */
  take(): Changes {
    this.forgetUnused();
    const c = this.changes;
    this.changes = new Changes();
    return c;
  }
}

function keepAll(strings: Strings, l: Labels): void {
  for (let i = 0; i < l.size; i++) {
    strings.keep(l.key(i));
    strings.keep(l.value(i));
  }
}
