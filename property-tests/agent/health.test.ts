// The /livez, /healthz and /readyz rules, on a clock the test holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Health } from '../../runtime/agent/health.ts';

test('starting: alive, but neither healthy for a load balancer nor ready, with the reason', () => {
  const h = new Health();
  assert.equal(h.livez(), { ok: true, reason: 'ok' });
  assert.equal(h.healthz(0), { ok: false, reason: 'starting: waiting for the first full sync from the API server' });
  assert.equal(h.readyz(0), { ok: false, reason: 'waiting for the first full sync from the API server' });
  h.notProgrammed('waiting for Node n1');
  assert.equal(h.readyz(0), { ok: false, reason: 'waiting for Node n1' });
});

test('healthy and ready once a batch is in the maps', () => {
  const h = new Health();
  h.applied(1000);
  assert.is(h.syncedAt, 1000);
  assert.equal([h.livez(), h.healthz(5000), h.readyz(5000)], [{ ok: true, reason: 'ok' }, { ok: true, reason: 'ok' }, { ok: true, reason: 'ok' }]);
});

test('failing applies: not ready at once; unhealthy for load balancers after failTimeoutMs; alive throughout (a restart cannot help)', () => {
  const h = new Health(60_000);
  h.applied(0);
  h.applyFailed(10_000, 'update sl_be: map full (max_entries 3); raise --be-max');
  h.applyFailed(20_000, 'update sl_be: map full (max_entries 3); raise --be-max');
  assert.ok(h.healthz(69_999).ok, 'counted from the first failure');
  assert.match(h.healthz(30_000).reason, 'applying to the maps has failed for 20.0 s (unhealthy after 60 s): update sl_be: map full');
  assert.equal(h.readyz(10_000), { ok: false, reason: 'applying to the maps has failed for 0.0 s: update sl_be: map full (max_entries 3); raise --be-max' });
  assert.equal(h.healthz(70_000).ok, false);
  assert.equal(h.livez(), { ok: true, reason: 'ok' }, 'a full map is not a stuck process');
  h.applied(80_000);
  assert.equal([h.healthz(80_000), h.readyz(80_000)], [{ ok: true, reason: 'ok' }, { ok: true, reason: 'ok' }]);
  assert.is(h.syncedAt, 0, 'the first sync stays the first');
});

test('a stopped pipeline fails every probe for good', () => {
  const h = new Health();
  h.applied(0);
  h.pipelineStopped('compiler.wasm aborted');
  h.applied(1);
  for (const v of [h.livez(), h.healthz(1), h.readyz(1)]) assert.equal(v, { ok: false, reason: 'the pipeline stopped: compiler.wasm aborted' });
});

test('recording stopped: still ready, and /readyz says why', () => {
  const h = new Health();
  h.applied(0);
  h.recordStopped('record to /var/log/sluice/events-000000.log: ENOSPC');
  assert.equal(h.readyz(1), { ok: true, reason: 'ok; recording stopped: record to /var/log/sluice/events-000000.log: ENOSPC' });
  assert.ok(h.healthz(1).ok && h.livez().ok);
});

test.run();
