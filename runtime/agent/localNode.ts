// This node as the records describe it: its Node and the pods it runs, kept
// from batch to batch, for the loader (the node IP) and the interface
// discovery (which veths carry pods); and the other Nodes, for where their
// pods are (sl_podnet). Pure.
import * as R from '../../compiler/abi/records.ts';
import { refKey } from '../encode/objectKey.ts';
import { nodeFacts, type NodeFacts } from '../encode/nodeFacts.ts';
import type { Held, Upsert } from '../encode/schema.ts';

/** What of a record decides interfaces and sl_podnet: a Node's addresses and podCIDRs; a pod's node, flags and IPs. */
function signature(r: Upsert): string {
  if (r.kind === R.KIND_NODE) {
    return JSON.stringify([r.body.addresses.map((a) => [a.type, [...a.ip.bytes]]), r.body.podCIDRs.map((c) => [[...c.ip.bytes], c.prefix])]);
  }
  if (r.kind === R.KIND_POD) return JSON.stringify([r.body.flags, r.body.podIPs.map((ip) => [...ip.bytes])]);
  return '';
}

export class LocalNode {
  readonly name: string;
  /** Every Node, and this node's pods, by record key. */
  private readonly held = new Map<string, { record: Upsert; signature: string }>();
  /** facts() as of the last change: every batch asks, and rebuilding them walked every Node and local pod (a fifth of a change's main-thread profile). */
  private known: { facts: NodeFacts | undefined } | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** Whether update() reads r: a Node, or a pod of this node. A batch may hold any other record as bytes. */
  keeps(r: Upsert): boolean {
    return r.kind === R.KIND_NODE || (r.kind === R.KIND_POD && r.body.nodeName === this.name);
  }

  /** Takes a batch's records; true when this node's addresses, its pods' interfaces or another node's podCIDRs may have changed. */
  update(records: readonly Held[]): boolean {
    let changed = false;
    for (const r of records) {
      if (r.kind !== R.KIND_NODE && r.kind !== R.KIND_POD) continue;
      const key = refKey(r);
      const kept = r.op === 'upsert' && this.keeps(r);
      const before = this.held.get(key);
      if (!kept) {
        if (before) this.held.delete(key);
        changed ||= before !== undefined;
        continue;
      }
      const sig = signature(r as Upsert);
      this.held.set(key, { record: r as Upsert, signature: sig });
      changed ||= before?.signature !== sig;
    }
    if (changed) this.known = undefined;
    return changed;
  }

  /** undefined while the records hold no Node of this name. */
  facts(): NodeFacts | undefined {
    this.known ??= { facts: nodeFacts([...this.held.values()].map((h) => h.record), this.name) };
    return this.known.facts;
  }
}
