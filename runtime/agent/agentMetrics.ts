// The agent's metrics (served on /metrics), through prom-client. Counters the
// pipeline bumps as it goes; what is kept elsewhere (the source's counters,
// the compiler's figures, the datapath's sl_stats) is copied in at scrape
// time by each family's collect(); the map fill is read from the store at
// scrape time, at most once per batch (a pinned map is read whole to count
// it). prom-client adds the process's own: CPU, memory, file descriptors,
// V8's heap and GC, and event-loop lag.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from './prom.ts';
import { MAPS, type MapName } from '../abi/layouts.generated.ts';
import type { MapStore } from '../maps/store.ts';
import type { KubeStats } from '../sources/kubeStats.ts';
import { isDrop, type Counter as StatCounter } from '../view/state.ts';
import type { Compiler } from '../wasm/host.ts';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** monitorEventLoopDelay samples on a timer of this period: prom-client's 10 ms woke the
 * idle agent 100 times a second (1.8 ms/s of CPU against 0.1-0.2 without); once a second
 * costs nothing visible and still shows a loop held for longer than that. */
const EVENT_LOOP_SAMPLE_MS = 1000;

export interface MetricSources {
  kube: KubeStats;
  /** Events by "kind\0type" (kind "" for synced), counted by the pipeline. */
  events: ReadonlyMap<string, number>;
  compiler: Pick<Compiler, 'gc' | 'memoryBytes'>;
  /** The maps, once there are any; and the batches so far (the fill is read once per batch). */
  store: () => MapStore | undefined;
  capacity: (map: MapName) => number | undefined;
  batches: () => number;
  /** The datapath's counters and drops (sl_stats summed over CPUs, by enum sl_stat and enum sl_drop name); undefined without a kernel datapath. */
  datapathStats: () => { readonly [stat: string]: StatCounter } | undefined;
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;

/** "SL_DROP_NO_BACKEND" -> "no_backend": the label value, as Cilium names its drop reasons. */
const statLabel = (name: string) => name.replace(/^SL_(STAT|DROP)_/, '').toLowerCase();

export function agentMetrics(src: MetricSources) {
  const registers = [new Registry()];
  const counter = (name: string, help: string, labelNames: string[] = [], collect?: (this: Counter) => void) =>
    new Counter({ name, help, labelNames, registers, collect });
  const gauge = (name: string, help: string, labelNames: string[] = [], collect?: (this: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers, collect });
  const histogram = (name: string, help: string) => new Histogram({ name, help, buckets: LATENCY_BUCKETS, registers });
  /** A counter kept elsewhere: set to its total at each scrape. */
  const copied = (name: string, help: string, labelNames: string[], read: () => Iterable<[{ [l: string]: string }, number]>) =>
    counter(name, help, labelNames, function () {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    });
  const perKind = (field: (k: KubeStats['kinds'][string]) => number) => () =>
    Object.entries(src.kube.kinds).map(([kind, k]): [{ kind: string }, number] => [{ kind }, field(k)]);
  const stats = (drops: boolean, field: keyof StatCounter) => () => Object.entries(src.datapathStats() ?? {})
    .filter(([name]) => isDrop(name) === drops)
    .map(([name, c]): [{ [l: string]: string }, number] => [{ [drops ? 'reason' : 'stat']: statLabel(name) }, c[field]]);

  let filledAt = -1;
  const mapEntries = gauge('sluice_map_entries', 'Entries per compiler-owned map.', ['map'], function () {
    const store = src.store();
    if (!store || filledAt === src.batches()) return;
    filledAt = src.batches();
    for (const { name } of MAPS) {
      const n = store.count(name), max = src.capacity(name);
      this.set({ map: name }, n);
      if (max) {
        m.mapMax.set({ map: name }, max);
        m.mapFill.set({ map: name }, n / max);
      }
    }
  });

  const m = {
    registry: registers[0],
    events: copied('sluice_events_total', 'Events from the API server, by kind and type (upsert, delete, synced).', ['kind', 'type'],
      () => [...src.events].map(([key, n]) => {
        const [kind, type] = key.split('\u0000');
        return [{ kind, type }, n];
      })),
    batches: counter('sluice_batches_total', 'Batches compiled.'),
    diffOps: counter('sluice_diff_ops_total', "Ops in the compiler's diffs, by map and op (upsert, delete).", ['map', 'op']),
    appliedOps: counter('sluice_map_writes_total', 'Entries written to or deleted from the maps (a reconcile writes only those that differ), by mode (diff, reconcile).', ['mode']),
    applyFailures: counter('sluice_apply_failures_total', 'Applies to the maps that failed (retried by a reconcile).'),
    applySeconds: histogram('sluice_apply_duration_seconds', 'Time to bring the maps up to date after a batch.'),
    compileSeconds: histogram('sluice_compile_duration_seconds', 'Time to compile a batch.'),
    compiledRecords: counter('sluice_compile_records_total', 'Records (the latest state of each object changed) fed to the compiler.'),
    problems: gauge('sluice_compiler_problems', 'Objects the compiler could not honour in the current state (a frontend two Services claim, say), as last read.'),
    rejected: counter('sluice_rejected_objects_total', 'Objects left out of the maps, by kind and stage (normalize: invalid input; compile: a conflict the compiler resolved).', ['kind', 'stage']),
    interfaces: counter('sluice_interface_attaches_total', 'Interfaces the programs were attached to (or found attached), by result (attached, failed).', ['result']),
    synced: gauge('sluice_synced', '1 once the first full sync is in the maps.'),
    lastApply: gauge('sluice_last_apply_timestamp_seconds', 'When the maps were last brought up to date.'),
    healthChecks: gauge('sluice_health_check_node_ports', 'healthCheckNodePort listeners open.'),
    recording: gauge('sluice_recording', '1 while --record writes the event log; 0 without --record, or once a write failed (recording stopped).'),
    recordFailures: counter('sluice_record_failures_total', 'Event log writes that failed; each stops recording (the dataplane goes on).'),
    mapEntries,
    mapMax: gauge('sluice_map_max_entries', 'max_entries per compiler-owned map.', ['map']),
    mapFill: gauge('sluice_map_fill_ratio', 'Entries over max_entries, per compiler-owned map.', ['map']),
    watchRestarts: copied('sluice_watch_restarts_total', 'Informer restarts after a failed list or watch, by kind.', ['kind'], perKind((k) => k.restarts)),
    relists: copied('sluice_relists_total', 'Lists after the first (a 410 Gone, or a lost list), by kind.', ['kind'], perKind((k) => Math.max(0, k.lists - 1))),
    watchErrors: copied('sluice_watch_error_events_total', 'ERROR events on watch streams (410 Gone among them), by kind.', ['kind'], perKind((k) => k.watchErrors)),
    reconnects: copied('sluice_watch_requests_total', 'Watch requests made (each reconnect is one), by kind.', ['kind'], perKind((k) => k.watches)),
    malformed: copied('sluice_source_malformed_objects_total', 'Objects the informer cache could not hold, passed on to be rejected, by kind.', ['kind'], perKind((k) => k.malformed)),
    gcRuns: copied('sluice_compiler_gc_runs_total', "Garbage collections of the compiler's WebAssembly heap.", [], () => [[{}, src.compiler.gc.runs]]),
    gcSeconds: copied('sluice_compiler_gc_seconds_total', 'Time spent in those collections.', [], () => [[{}, src.compiler.gc.ms / 1000]]),
    heap: gauge('sluice_compiler_memory_bytes', "The compiler's WebAssembly memory.", [], function () {
      this.set(src.compiler.memoryBytes());
    }),
    datapathPackets: copied('sluice_datapath_packets_total', "Packets the datapath counted (sl_stats), by stat: translated, ct_hit, rejected, ...", ['stat'], stats(false, 'packets')),
    datapathBytes: copied('sluice_datapath_bytes_total', 'Bytes of those packets, by stat.', ['stat'], stats(false, 'bytes')),
    drops: copied('sluice_datapath_drops_total', 'Packets the datapath dropped (sl_stats, enum sl_drop), by reason: no_backend, src_range, ct_full, ...', ['reason'], stats(true, 'packets')),
    dropBytes: copied('sluice_datapath_dropped_bytes_total', 'Bytes of those packets, by reason.', ['reason'], stats(true, 'bytes')),
  };
  for (const c of [m.batches, m.applyFailures, m.compiledRecords, m.recordFailures]) c.inc(0); // present from the first scrape
  for (const g of [m.synced, m.healthChecks, m.recording, m.problems]) g.set(0);
  collectDefaultMetrics({ register: m.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return m;
}
