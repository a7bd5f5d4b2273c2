// What every source (the Kubernetes API, a recorded log, a snapshot file)
// produces: the whole state of an object, its deletion, or the moment the
// first full listing is complete. The object is raw, as the API serves it,
// with apiVersion and kind always set (sources fill them in for list items),
// so a recorded log replays through the same normalizer as live events.
export type KubeEvent =
  | { type: 'upsert'; object: KubeObject }
  | { type: 'delete'; object: KubeObject } // the last state seen; only apiVersion, kind and metadata matter
  | { type: 'synced' }; // every watched kind has listed once: a batch from here on is a whole cluster

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}
