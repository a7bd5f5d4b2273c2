// What the agent tells of each batch and apply: the log lines, the metrics,
// and the health the probes answer from. The clock is a scheduler (its
// now(), wall-clock milliseconds), so tests run it in virtual time.
import { asyncScheduler, type SchedulerLike } from '../rx/rx.ts';
import type { Rejection } from '../encode/records.ts';
import type { AgentMetrics } from './agentMetrics.ts';
import type { Health } from './health.ts';
import type { Logger } from './logger.ts';
import type { Applied, BatchResult } from './programmer.ts';

export type Stage = 'normalize' | 'compile';

export interface BatchMetricsOptions {
  metrics: AgentMetrics;
  health: Health;
  log: Logger;
  /** Right after the 'synced' line (whose CPU is then what it took to be ready): the sync's heap given back. */
  onReady?: () => void;
  clock?: SchedulerLike;
}

export class BatchMetrics {
  private readonly o: BatchMetricsOptions;
  private readonly clock: SchedulerLike;
  private readonly t0: number;
  private readonly cpu0 = process.cpuUsage();

  constructor(o: BatchMetricsOptions) {
    this.o = o;
    this.clock = o.clock ?? asyncScheduler;
    this.t0 = this.clock.now();
  }

  now(): number {
    return this.clock.now();
  }

  /** An object left out of the maps: logged with its field and reason, and counted by kind and stage. */
  rejected(r: Rejection, stage: Stage): void {
    this.o.log.warn('object rejected', { object: r.object, field: r.field, reason: r.reason, stage });
    this.o.metrics.rejected.inc({ kind: r.object.split(' ')[0], stage });
  }

  /** Batch n compiled (and applied, or not: applied() tells). */
  batch(n: number, r: BatchResult, events: number, records: number): void {
    const { metrics } = this.o;
    metrics.compiledRecords.inc(records);
    metrics.batches.inc();
    metrics.compileSeconds.observe(r.compileMs / 1000);
    for (const [map, c] of Object.entries(r.ops)) {
      if (c.upserts) metrics.diffOps.inc({ map, op: 'upsert' }, c.upserts);
      if (c.deletes) metrics.diffOps.inc({ map, op: 'delete' }, c.deletes);
    }
    this.o.log.info('batch', {
      batch: n, events, records, ops: r.ops, opCount: r.opCount, mode: r.mode, applied: r.applied,
      compileMs: round(r.compileMs), applyMs: round(r.applyMs),
    });
  }

  /**
   * How batch n's apply (or a retry's) went: 'failed' (retried in retryInMs),
   * 'none' (no maps yet) or 'applied'.
   */
  applied(r: Applied, n: number, retryInMs: number): 'failed' | 'none' | 'applied' {
    const { metrics, health, log } = this.o;
    const now = this.clock.now();
    if (r.error !== undefined) {
      metrics.applyFailures.inc();
      health.applyFailed(now, r.error);
      log.error('apply failed', { batch: n, reason: r.error, retryInMs });
      return 'failed';
    }
    if (r.mode === 'none') return 'none';
    metrics.appliedOps.inc({ mode: r.mode }, r.applied);
    metrics.applySeconds.observe(r.applyMs / 1000);
    metrics.lastApply.set(now / 1000);
    const first = health.syncedAt === undefined;
    health.applied(now);
    if (first) {
      metrics.synced.set(1);
      const cpu = process.cpuUsage(this.cpu0);
      log.info('synced', {
        batch: n, applied: r.applied, syncMs: round(now - this.t0), syncCpuSeconds: round((cpu.user + cpu.system) / 1e6, 3),
        processCpuSeconds: round(processCpu(), 3), rssBytes: process.memoryUsage.rss(),
      });
      this.o.onReady?.();
    }
    return 'applied';
  }
}

export const round = (x: number, digits = 2) => Number(x.toFixed(digits));
export const processCpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
