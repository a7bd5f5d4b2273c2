// What the agent tells of batches and applies, on a virtual clock: the
// health the probes answer (unhealthy after failTimeoutMs of failed applies,
// healthy again at the next success), the last-apply time, the 'synced' line
// once with the time the sync took, and the counters.
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentMetrics } from '../../runtime/agent/agentMetrics.ts';
import { BatchMetrics } from '../../runtime/agent/batchMetrics.ts';
import { Health } from '../../runtime/agent/health.ts';
import type { Fields, Logger } from '../../runtime/agent/logger.ts';
import type { Applied, BatchResult } from '../../runtime/agent/programmer.ts';
import { kubeStats } from '../../runtime/sources/kubeStats.ts';

const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));

function rig(s: TestScheduler) {
  const logs: [string, Fields][] = [];
  const log = (msg: string, f: Fields = {}) => void logs.push([msg, f]);
  const logger: Logger = { info: log, warn: log, error: log };
  const metrics = agentMetrics({
    kube: kubeStats(), events: new Map(), compiler: { gc: { runs: 0, ms: 0 }, memoryBytes: () => 0 },
    store: () => undefined, capacity: () => undefined, batches: () => 0, datapathStats: () => undefined,
  });
  const health = new Health(30);
  const readyAfter: number[] = []; // the log lines there were each time onReady ran
  const report = new BatchMetrics({ metrics, health, log: logger, clock: s, onReady: () => readyAfter.push(logs.length) });
  return { logs, metrics, health, report, readyAfter };
}
const ok = (applied: number): Applied => ({ mode: 'diff', applied, removedBackends: 0, applyMs: 2 });
const full: Applied = { mode: 'none', applied: 0, removedBackends: 0, applyMs: 1, error: 'update sl_be: map full (max_entries 2); raise --be-max' };
const value = async (m: { get(): Promise<{ values: { value: number; labels: object }[] }> }) => (await m.get()).values.map((v) => v.value);

test('healthy from the first applied batch; unhealthy once applies have failed for failTimeoutMs; healthy at the next success', async () => {
  const s = scheduler();
  let r!: ReturnType<typeof rig>;
  const outcomes: string[] = [], healthz: [number, boolean][] = [];
  s.run(({ flush }) => {
    r = rig(s);
    const at = (t: number, fn: () => void) => s.schedule(fn, t);
    at(10, () => outcomes.push(r.report.applied(ok(5), 1, 1000)));
    at(20, () => outcomes.push(r.report.applied(full, 2, 1000)));
    at(35, () => outcomes.push(r.report.applied(full, 2, 2000)));
    for (const t of [9, 10, 49, 50, 60]) at(t, () => healthz.push([t, r.health.healthz(s.now()).ok]));
    at(60, () => outcomes.push(r.report.applied(ok(1), 3, 1000)));
    at(61, () => healthz.push([61, r.health.healthz(s.now()).ok]));
    flush();
  });
  assert.equal(outcomes, ['applied', 'failed', 'failed', 'applied']);
  // not before the sync; failing from 20, unhealthy from 20 + 30 on
  assert.equal(healthz, [[9, false], [10, true], [49, true], [50, false], [60, false], [61, true]]);
  assert.equal(r.logs.filter(([m]) => m === 'apply failed').map(([, f]) => [f.batch, f.retryInMs]), [[2, 1000], [2, 2000]]);
  assert.equal(await value(r.metrics.lastApply), [0.06], 'seconds of the clock at the last success');
  assert.equal(await value(r.metrics.applyFailures), [2]);
});

test("'synced' once, at the first applied batch, with the time since start; onReady once, right after that line", () => {
  const s = scheduler();
  let r!: ReturnType<typeof rig>;
  s.run(({ flush }) => {
    s.schedule(() => {
      r = rig(s);
      s.schedule(() => r.report.applied({ mode: 'none', applied: 0, removedBackends: 0, applyMs: 0 }, 1, 1000), 100); // no maps yet
      s.schedule(() => r.report.applied(ok(7), 2, 1000), 250);
      s.schedule(() => r.report.applied(ok(1), 3, 1000), 300);
    }, 5);
    flush();
  });
  const synced = r.logs.filter(([m]) => m === 'synced');
  assert.equal(synced.map(([, f]) => [f.batch, f.applied, f.syncMs]), [[2, 7, 250]]);
  assert.equal(r.readyAfter, [r.logs.findIndex(([m]) => m === 'synced') + 1]);
  assert.is(r.health.syncedAt, 255);
});

test('a batch: counted, its ops by map and op, and one log line', async () => {
  const s = scheduler();
  const r = rig(s);
  const result: BatchResult = {
    ops: { sl_svc: { upserts: 2, deletes: 0 }, sl_be: { upserts: 1, deletes: 3 } }, opCount: 6, compileMs: 1.234, mode: 'diff', applied: 6,
    removedBackends: 3, applyMs: 0.5, refused: [],
  };
  r.report.batch(4, result, 9, 5);
  r.report.rejected({ object: 'Service shop/web', field: 'spec.ports[0].port', reason: 'out of range' }, 'normalize');
  assert.equal(r.logs[0], ['batch', { batch: 4, events: 9, records: 5, ops: result.ops, opCount: 6, mode: 'diff', applied: 6, compileMs: 1.23, applyMs: 0.5 }]);
  assert.equal(r.logs[1], ['object rejected', { object: 'Service shop/web', field: 'spec.ports[0].port', reason: 'out of range', stage: 'normalize' }]);
  assert.equal(await value(r.metrics.batches), [1]);
  assert.equal(await value(r.metrics.compiledRecords), [5]);
  assert.equal((await r.metrics.diffOps.get()).values.map((v) => [v.labels, v.value]), [
    [{ map: 'sl_svc', op: 'upsert' }, 2], [{ map: 'sl_be', op: 'upsert' }, 1], [{ map: 'sl_be', op: 'delete' }, 3],
  ]);
  assert.equal((await r.metrics.rejected.get()).values.map((v) => [v.labels, v.value]), [[{ kind: 'Service', stage: 'normalize' }, 1]]);
});

test.run();
