// The node agent: the Kubernetes API through the compiler into this node's
// maps, with a status endpoint and the healthCheckNodePorts. Imports the
// Kubernetes source, the compiler's host and the metrics (about 0.1 s of CPU
// to load): `sluice run` loads this module only when it runs.
//
// Start-up adopts what is live: the first batch (the whole cluster, after
// 'synced') reconciles the maps to the compiled image, writing only the
// entries that differ; later batches apply the compiler's diffs. Stopping
// leaves the maps pinned and the programs attached.
import type { AddressInfo } from 'node:net';
import { asyncScheduler, type SchedulerLike, type Subscription } from '../rx/rx.ts';
import { describeStaleSocks } from '../bpf/staleRecords.ts';
import type { DatapathArgs } from '../dataplane/datapathArgs.ts';
import { memoryDataplane, type Dataplane } from '../dataplane/dataplane.ts';
import { labelOf } from '../encode/objectKey.ts';
import type { Held, Upsert } from '../encode/schema.ts';
import type { MapStore } from '../maps/store.ts';
import type { KubeEvent } from '../sources/events.ts';
import { kubeEvents, type KubeSourceOptions } from '../sources/kube.ts';
import { loadKubeConfig, type ApiAccess } from '../sources/kubeConfig.ts';
import { kubeStats } from '../sources/kubeStats.ts';
import { heldBatches } from '../streams/recordBatches.ts';
import { dropPages, pageBytes } from '../wasm/dropPages.ts';
import { Compiler } from '../wasm/host.ts';
import { agentMetrics, type AgentMetrics } from './agentMetrics.ts';
import { BatchMetrics, processCpu, round } from './batchMetrics.ts';
import { Health } from './health.ts';
import { HealthCheckServers } from './healthCheckServers.ts';
import { HealthCheckTargets } from './healthCheckTargets.ts';
import { InterfaceSync } from './interfaceSync.ts';
import { LocalNode } from './localNode.ts';
import type { Logger } from './logger.ts';
import { ProblemsWatch } from './problemsWatch.ts';
import { Programmer, type Applied } from './programmer.ts';
import { releaseHeap } from './releaseHeap.ts';
import { RetryTimer } from './retryTimer.ts';
import { metricsRoute, serveRoutes, verdictRoute, type ListenAddress, type Listening } from './statusServer.ts';

export interface AgentOptions {
  node: string;
  /** The API server: a kubeconfig file, else the in-cluster config (ignored when kubeConfig is given). */
  kubeconfig?: string;
  kubeConfig?: ApiAccess;
  /** Record every event and batch boundary into this directory (an event log `sluice replay` reads). */
  record?: string;
  /** Sign the recorded log with this key (HMAC-SHA256 of each boundary's digest chain). */
  recordKey?: Uint8Array;
  /** Maps in memory; no kernel state touched. */
  dryRun: boolean;
  /** At most one batch per this many ms (kube-proxy's --min-sync-period). */
  minSyncMs: number;
  /** /livez, /healthz and /readyz; the healthCheckNodePorts listen on healthCheckHost (default its host). */
  listen: ListenAddress;
  /** /metrics; undefined: on the listen address too (the older --listen). */
  metricsListen?: ListenAddress;
  healthCheckHost?: string;
  datapath: DatapathArgs;
  log: Logger;
  /** Source timings (tests shorten them). */
  source?: KubeSourceOptions;
  /** /healthz turns 503 after applies have failed this long (default 60 s). */
  failTimeoutMs?: number;
  /** After the first sync, the compiler's problems are read at most this often (default 10 s). */
  problemsIntervalMs?: number;
  /** The clock of the batches, retries and health (default asyncScheduler: wall-clock time). */
  clock?: SchedulerLike;
}

export interface Agent {
  /** Where /livez, /healthz and /readyz are served; and /metrics. */
  readonly address: AddressInfo;
  readonly metricsAddress: AddressInfo;
  readonly health: Health;
  readonly metrics: AgentMetrics;
  /** The maps (a MemoryStore with --dry-run); undefined until they can be programmed. */
  store(): MapStore | undefined;
  batches(): number;
  healthCheckPorts(): number[];
  /** Resolves with the exit status once the agent has stopped: 0 after stop(), 1 after a fatal error. */
  readonly done: Promise<number>;
  /** Stops taking events, abandons changes not yet batched, closes the log and the listeners; maps and programs stay. */
  stop(reason: string): Promise<number>;
}

/** A watch silent this long is taken for dead and resumed. The API server sends a
 * bookmark about once a minute to watches that ask (ours do), so a live one is
 * never that quiet; client-node's 30 s default reopened six quiet watches twice a
 * minute, the agent's main cost when idle. */
const WATCH_TIMEOUT_MS = 90_000;

export async function startAgent(o: AgentOptions): Promise<Agent> {
  const { log, node } = o;
  const clock = o.clock ?? asyncScheduler;
  const kc = o.kubeConfig ?? await loadKubeConfig(o.kubeconfig);
  // On this thread: a second thread's Node environment cost about 20 MiB and each
  // change a round trip (0.3-0.6 ms). The largest batch there is (a Service of
  // 65,535 ports: 0.3 s to compile, 0.15 s to apply in memory, more to pinned
  // maps) keeps the probes waiting that long, within their 2 s timeouts
  // (deploy/daemonset.yaml).
  const compiler = new Compiler({ node });
  // What a run does not use is not loaded: the kernel's side without --dry-run, the log writer without --record.
  const dataplane: Dataplane = o.dryRun ? memoryDataplane(o.datapath) : (await import('../dataplane/kernelDataplane.ts')).kernelDataplane({ ...o.datapath, node });
  const health = new Health(o.failTimeoutMs);
  const writer = o.record === undefined ? undefined : new (await import('./recorder.ts')).Recorder(o.record, { node, image: () => compiler.rebuild(), key: o.recordKey }, (why) => {
    health.recordStopped(why);
    metrics.recording.set(0);
    metrics.recordFailures.inc();
    log.error('recording stopped', { record: o.record, reason: why, note: 'the dataplane goes on; restart the agent to record again' });
  });
  const programmer = new Programmer(compiler, writer);
  const local = new LocalNode(node), targets = new HealthCheckTargets(node);
  const stats = kubeStats();
  let batch = 0, pendingEvents = 0;
  const events = new Map<string, number>(); // "kind\0type" -> events seen
  const metrics = agentMetrics({
    kube: stats, compiler, events, store: () => dataplane.store, capacity: (m) => dataplane.capacity(m), batches: () => batch,
    datapathStats: () => dataplane.stats(),
  });
  metrics.recording.set(writer?.recording ? 1 : 0);
  log.info('start', {
    node, dryRun: o.dryRun, pinRoot: o.dryRun ? undefined : o.datapath.pinRoot, netns: o.datapath.netns, minSyncMs: o.minSyncMs,
    record: o.record, server: kc.getCurrentCluster()?.server, pid: process.pid, processCpuSeconds: round(processCpu(), 3),
  });

  let listeners: Listening[];
  try {
    listeners = await serveStatus(o, health, metrics, clock);
  } catch (e) {
    writer?.close();
    dataplane.close();
    throw e;
  }
  const [status, metricsAt = status] = listeners;
  log.info('listening', { address: status.address.address, port: status.address.port, metricsAddress: metricsAt.address.address, metricsPort: metricsAt.address.port });
  const hc = new HealthCheckServers(o.healthCheckHost ?? o.listen.host, log, () => health.healthz(clock.now()).ok);

  // ---- the parts, each on the clock ----
  // Batches, retries and problem reads, one at a time and in order: the
  // compiler answers one call at a time, and the log wants batches in order.
  let queue: Promise<void> = Promise.resolve();
  const serially = (fn: () => void | Promise<void>) => {
    queue = queue.then(() => guarded(fn));
  };
  // After the batch that made the agent ready, both heaps give back what the
  // full sync took: V8's on the next turn, once that batch's diff (megabytes,
  // 83 MiB at 5,000 large Services) is unreachable (a collection while it is still reachable
  // would leave it resident for good); the compiler's in the queue, between
  // batches, by one collection and its free pages (collecting before 'synced'
  // as well marked the whole heap twice, 40 ms, for maps already programmed).
  // A compiler heap it does not recognize is collected only, and the agent goes on.
  const releaseCompiler = () => {
    try {
      const r = compiler.releaseFree(dropPages, pageBytes);
      log.info('compiler heap released', { usedBytes: r.used, freeBytes: r.free, releasedBytes: r.released, memoryBytes: r.memory });
    } catch (e) {
      log.warn('compiler heap release skipped', { reason: (e as Error).message });
    }
  };
  const report = new BatchMetrics({
    metrics, health, log, clock,
    onReady: () => {
      setImmediate(releaseHeap);
      serially(releaseCompiler);
    },
  });
  const retry = new RetryTimer(() => serially(retryApply), clock);
  const interfaces = new InterfaceSync({
    dataplane, facts: () => local.facts(), mapsPending: () => programmer.pending, log, attaches: metrics.interfaces, run: serially, clock,
  });
  const problems = new ProblemsWatch({
    compiler, intervalMs: o.problemsIntervalMs ?? 10_000, minSyncMs: o.minSyncMs, run: serially, clock,
    onNew: (p) => report.rejected(p, 'compile'), onCount: (n) => metrics.problems.set(n),
  });

  // ---- per batch ----
  let waiting: string | undefined; // why the maps cannot be programmed yet, as last logged

  // The events since the last batch was cut: recorded just before that batch's
  // boundary, as a batch may still be compiling when the next events come.
  let segment: KubeEvent[] = [];
  const onEvent = (e: KubeEvent) => {
    pendingEvents++;
    const key = e.type === 'synced' ? '\u0000synced' : `${e.object.kind}\u0000${e.type}`; // per event: no label objects here
    events.set(key, (events.get(key) ?? 0) + 1);
    if (writer) segment.push(e);
  };

  const applied = (r: Applied, n: number) => {
    if (r.removedBackends > 0) sweep(n);
    const outcome = report.applied(r, n, retry.nextMs);
    if (outcome === 'failed') retry.failed();
    else if (outcome === 'applied') retry.succeeded();
  };

  // Sockets of the node's own processes still connected (UDP) or connecting
  // (TCP) to a backend that left: destroyed, so they move on (bpf/lib/stale.h).
  const sweep = (n: number) => {
    const s = dataplane.sweepStaleSockets();
    if (!s) return;
    if ('error' in s) log.error('stale sockets not swept', { batch: n, reason: s.error });
    else log.info('stale sockets', { batch: n, destroyed: s.destroyed.length, sockets: describeStaleSocks(s.destroyed) });
  };

  const retryApply = () => {
    const r = dataplane.store && programmer.retry(dataplane.store);
    if (!r) return;
    if (r.error === undefined) log.info('maps reconciled after a failed apply', { batch, applied: r.applied, applyMs: round(r.applyMs) });
    applied(r, batch);
    interfaces.sync(false);
  };

  const onBatch = (records: Held[], recorded: KubeEvent[], events: number) => {
    const n = ++batch;
    for (const e of recorded) writer?.event(e);
    const nodeChanged = local.update(records), hcChanged = targets.update(records);
    const why = dataplane.prepare(local.facts());
    if (why !== waiting && why !== undefined) log.warn('maps not programmed yet', { reason: why });
    waiting = why;
    if (why !== undefined) health.notProgrammed(why);
    const r = programmer.batch(n, records, dataplane.store);
    for (const x of r.refused) report.rejected({ object: labelOf(x.ref), field: '', reason: x.reason }, 'normalize');
    report.batch(n, r, events, records.length);
    applied(r, n);
    problems.afterBatch(); // the sync's problems are read with it: none were read before
    interfaces.sync(nodeChanged);
    if (hcChanged) {
      hc.sync(targets.targets());
      metrics.healthChecks.set(hc.ports.length);
    }
  };

  // ---- lifecycle ----
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<number> | undefined;
  let sub: Subscription | undefined;

  const stop = (reason: string, code = 0): Promise<number> => {
    stopping ??= (async () => {
      sub?.unsubscribe();
      retry.stop();
      interfaces.stop();
      problems.stop();
      await queue; // a batch being compiled completes; those not started are dropped
      writer?.close();
      await Promise.allSettled([hc.close(), ...listeners.map((l) => l.close())]);
      dataplane.close();
      log.info('shutdown', {
        reason, code, batches: batch, abandonedEvents: pendingEvents, uptimeSeconds: round(process.uptime(), 1),
        processCpuSeconds: round(processCpu(), 3), note: o.dryRun ? undefined : 'maps stay pinned and programs attached',
      });
      resolveDone(code);
      return code;
    })();
    return stopping;
  };
  async function guarded(fn: () => void | Promise<void>): Promise<void> {
    if (stopping) return;
    try {
      await fn();
    } catch (e) {
      fatal(e);
    }
  }
  function fatal(e: unknown): void {
    const reason = (e as Error)?.message ?? String(e);
    health.pipelineStopped(reason);
    log.error('fatal', { reason, batch });
    void stop(`fatal: ${reason}`, 1);
  }

  const events$ = kubeEvents(kc, {
    watchTimeoutMs: WATCH_TIMEOUT_MS, ...o.source, stats,
    onRestart: (kind, error, delayMs) => log.warn('watch restart', { kind, error, delayMs: Math.round(delayMs) }),
  });
  const keeps = (r: Upsert) => local.keeps(r) || targets.keeps(r);
  sub = events$.pipe(heldBatches(o.minSyncMs, keeps, { onEvent, onRejected: (r) => report.rejected(r, 'normalize') }, clock)).subscribe({
    next: (records) => {
      const recorded = segment, events = pendingEvents;
      segment = [];
      pendingEvents = 0;
      serially(() => onBatch(records, recorded, events));
    },
    error: fatal,
    complete: () => fatal(new Error('the event source completed')),
  });

  return {
    address: status.address, metricsAddress: metricsAt.address, health, metrics, done, stop,
    store: () => dataplane.store,
    batches: () => batch,
    healthCheckPorts: () => hc.ports,
  };
}

/** The probes and /metrics: on one listener, or (with metricsListen) /metrics on its own. */
async function serveStatus(o: AgentOptions, health: Health, metrics: AgentMetrics, clock: SchedulerLike): Promise<Listening[]> {
  const probes = {
    '/livez': verdictRoute(() => health.livez()),
    '/healthz': verdictRoute(() => health.healthz(clock.now())),
    '/readyz': verdictRoute(() => health.readyz(clock.now())),
  };
  const metricsRoutes = { '/metrics': metricsRoute(metrics.registry) };
  if (!o.metricsListen) return [await serveRoutes(o.listen, { ...probes, ...metricsRoutes })];
  const status = await serveRoutes(o.listen, probes);
  try {
    return [status, await serveRoutes(o.metricsListen, metricsRoutes)];
  } catch (e) {
    await status.close();
    throw e;
  }
}
