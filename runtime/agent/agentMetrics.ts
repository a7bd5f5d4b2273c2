// The agent's metrics (served on /metrics). Counters the pipeline bumps as it
// goes; what is kept elsewhere (the source's counters, the compiler's GC, the
// process) is copied in at scrape time; the map fill is read from the store
// at scrape time, at most once per batch (a pinned map is read whole to
// count it).
import { MAPS } from '../abi/layouts.generated.ts';
import type { MapStore } from '../maps/store.ts';
import type { KubeStats } from '../sources/kubeStats.ts';
import type { Compiler } from '../wasm/host.ts';
import { Registry } from './prometheus.ts';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface MetricSources {
  kube: KubeStats;
  /** Events by "kind\0type" (kind "" for synced), counted by the pipeline. */
  events: ReadonlyMap<string, number>;
  compiler: Pick<Compiler, 'gc' | 'memoryBytes'>;
  /** The maps, once there are any; and the batches so far (the fill is read once per batch). */
  store: () => MapStore | undefined;
  capacity: (map: string) => number | undefined;
  batches: () => number;
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;

export function agentMetrics(src: MetricSources) {
  const r = new Registry();
  const m = {
    registry: r,
    events: r.counter('sluice_events_total', 'Events from the API server, by kind and type (upsert, delete, synced).'),
    batches: r.counter('sluice_batches_total', 'Batches compiled.'),
    diffOps: r.counter('sluice_diff_ops_total', "Ops in the compiler's diffs, by map and op (upsert, delete)."),
    appliedOps: r.counter('sluice_map_writes_total', 'Entries written to or deleted from the maps (a reconcile writes only those that differ), by mode (diff, reconcile).'),
    applyFailures: r.counter('sluice_apply_failures_total', 'Applies to the maps that failed (retried by a reconcile).'),
    applySeconds: r.histogram('sluice_apply_duration_seconds', 'Time to bring the maps up to date after a batch.', LATENCY_BUCKETS),
    compileSeconds: r.histogram('sluice_compile_duration_seconds', 'Time to compile a batch.', LATENCY_BUCKETS),
    rejected: r.counter('sluice_rejected_objects_total', 'Objects left out of the maps, by kind and stage (normalize: invalid input; compile: a conflict the compiler resolved).'),
    interfaces: r.counter('sluice_interface_attaches_total', 'Interfaces the programs were attached to (or found attached), by result (attached, failed).'),
    synced: r.gauge('sluice_synced', '1 once the first full sync is in the maps.'),
    lastApply: r.gauge('sluice_last_apply_timestamp_seconds', 'When the maps were last brought up to date.'),
    healthChecks: r.gauge('sluice_health_check_node_ports', 'healthCheckNodePort listeners open.'),
    mapEntries: r.gauge('sluice_map_entries', 'Entries per compiler-owned map.'),
    mapMax: r.gauge('sluice_map_max_entries', 'max_entries per compiler-owned map.'),
    mapFill: r.gauge('sluice_map_fill_ratio', 'Entries over max_entries, per compiler-owned map.'),
    watchRestarts: r.counter('sluice_watch_restarts_total', 'Informer restarts after a failed list or watch, by kind.'),
    relists: r.counter('sluice_relists_total', 'Lists after the first (a 410 Gone, or a lost list), by kind.'),
    watchErrors: r.counter('sluice_watch_error_events_total', 'ERROR events on watch streams (410 Gone among them), by kind.'),
    reconnects: r.counter('sluice_watch_requests_total', 'Watch requests made (each reconnect is one), by kind.'),
    malformed: r.counter('sluice_source_malformed_objects_total', 'Objects the informer cache could not hold, passed on to be rejected, by kind.'),
    gcRuns: r.counter('sluice_compiler_gc_runs_total', "Garbage collections of the compiler's WebAssembly heap."),
    gcSeconds: r.counter('sluice_compiler_gc_seconds_total', 'Time spent in those collections.'),
    heap: r.gauge('sluice_compiler_memory_bytes', "The compiler's WebAssembly memory."),
    cpu: r.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.'),
    rss: r.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.'),
    start: r.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.'),
  };
  for (const c of [m.batches, m.applyFailures]) c.inc({}, 0); // present from the first scrape
  m.synced.set({}, 0);
  m.healthChecks.set({}, 0);
  const started = Date.now() / 1000 - process.uptime();
  let filledAt = -1;
  r.collect(() => {
    for (const [key, n] of src.events) {
      const [kind, type] = key.split('\u0000');
      m.events.set({ kind, type }, n);
    }
    for (const [kind, k] of Object.entries(src.kube.kinds)) {
      m.watchRestarts.set({ kind }, k.restarts);
      m.relists.set({ kind }, Math.max(0, k.lists - 1));
      m.watchErrors.set({ kind }, k.watchErrors);
      m.reconnects.set({ kind }, k.watches);
      m.malformed.set({ kind }, k.malformed);
    }
    m.gcRuns.set({}, src.compiler.gc.runs);
    m.gcSeconds.set({}, src.compiler.gc.ms / 1000);
    m.heap.set({}, src.compiler.memoryBytes());
    const cpu = process.cpuUsage();
    m.cpu.set({}, (cpu.user + cpu.system) / 1e6);
    m.rss.set({}, process.memoryUsage.rss());
    m.start.set({}, started);
    const store = src.store();
    if (store && filledAt !== src.batches()) {
      filledAt = src.batches();
      for (const { name } of MAPS) {
        const n = store.entries(name).length, max = src.capacity(name);
        m.mapEntries.set({ map: name }, n);
        if (max) {
          m.mapMax.set({ map: name }, max);
          m.mapFill.set({ map: name }, n / max);
        }
      }
    }
  });
  return m;
}
