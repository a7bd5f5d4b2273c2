// Where the agent's compiled maps go. The kernel dataplane (kernelDataplane.ts)
// loads the datapath, programs pinned maps and attaches programs; the memory
// dataplane (--dry-run) holds the maps in a MemoryStore and touches no kernel
// state, so the agent runs, compiles and records without root.
import { existsSync } from 'node:fs';
import { isMapName, MAPS, type MapName } from '../abi/layouts.generated.ts';
import { BpfObject } from '../bpf/libbpf.ts';
import { DEFAULT_OBJECT } from '../bpf/objectFile.ts';
import { maxEntriesOf, type Sizes } from '../bpf/sizes.ts';
import type { NodeFacts } from '../encode/nodeFacts.ts';
import { MemoryStore, type MapStore } from '../maps/store.ts';
import type { Counter as StatCounter } from '../view/state.ts';
import type { Sweep } from './staleSweep.ts';

/** What one interface discovery did. */
export interface InterfaceReport {
  /** "slh0 (pod shop/web-1 10.244.1.11): sl_from_pod ingress attached, ..." for each interface new to this agent. */
  attached: string[];
  /** Interfaces attached before that discovery no longer chose (their pod went; a deleted veth takes its programs with it). */
  dropped: string[];
  /** Pods (or the node) left without an interface, and why. */
  skipped: string[];
  /** Interfaces whose attach failed, with the error (or "host services: ..."); retried at the next discovery. */
  failed: string[];
  /** What attaching the host services programs did, once per agent: "host services (root cgroup ...): ...". */
  hostServices?: string;
  /** How sl_podnet changed (podnet.ts), when it did: "sl_podnet: 2 local pods, ...". */
  podnet?: string;
}

export interface Dataplane {
  /** The maps; undefined until prepare() has succeeded. */
  readonly store: MapStore | undefined;
  /**
   * Makes the maps ready to program (loads the datapath the first time).
   * Returns why not when this node is not known well enough yet (no Node,
   * no InternalIP); throws when loading fails (verifier, privileges, a pin
   * that does not fit): those need a person.
   */
  prepare(facts: NodeFacts | undefined): string | undefined;
  /** Attaches the programs to interfaces new since the last call (runs `ip`). */
  syncInterfaces(facts: NodeFacts | undefined): InterfaceReport;
  /** After an update that removed backends: destroys the node's host sockets stuck on them (undefined: nothing to do). */
  sweepStaleSockets(): Sweep | undefined;
  /** max_entries of a compiler-owned map, when known. */
  capacity(map: MapName): number | undefined;
  /** The datapath's counters (sl_stats summed over CPUs, by name); undefined without a kernel datapath. */
  stats(): { [stat: string]: StatCounter } | undefined;
  /** Closes handles; pinned maps and attached programs stay. */
  close(): void;
}

/** --dry-run: maps in memory; capacities as the datapath object and the size flags would make them. */
export function memoryDataplane(opts: { object?: string; sizes?: Sizes } = {}): Dataplane {
  const store = new MemoryStore();
  let capacities: Map<string, number> | undefined; // read when first asked (a metrics scrape), not at start
  const none: InterfaceReport = { attached: [], dropped: [], skipped: [], failed: [] };
  return {
    store,
    prepare: () => undefined,
    syncInterfaces: () => none,
    sweepStaleSockets: () => undefined,
    capacity: (map) => (capacities ??= objectCapacities(opts.object ?? DEFAULT_OBJECT, opts.sizes ?? {})).get(map),
    stats: () => undefined,
    close() {},
  };
}

/** max_entries by map: the object's defaults (read from the file, nothing loaded), then the size flags. */
function objectCapacities(object: string, sizes: Sizes): Map<MapName, number> {
  const out = new Map<MapName, number>();
  if (existsSync(object)) {
    const obj = new BpfObject(object, '/sys/fs/bpf'); // opened only: no map is created or pinned
    try {
      for (const def of obj.maps()) if (isMapName(def.name) && MAPS.some((m) => m.name === def.name)) out.set(def.name, def.maxEntries);
    } finally {
      obj.close();
    }
  }
  for (const [map, n] of maxEntriesOf(sizes)) out.set(map, n);
  return out;
}
