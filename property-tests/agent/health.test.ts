// The /healthz and /readyz rule, on a clock the test holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Health } from '../../runtime/agent/health.ts';

test('starting: healthy, not ready, with the reason', () => {
  const h = new Health();
  assert.equal(h.healthz(0), { ok: true, reason: 'starting' });
  assert.equal(h.readyz(0), { ok: false, reason: 'waiting for the first full sync from the API server' });
  h.notProgrammed('waiting for Node n1');
  assert.equal(h.readyz(0), { ok: false, reason: 'waiting for Node n1' });
});

test('ready once a batch is in the maps', () => {
  const h = new Health();
  h.applied(1000);
  assert.is(h.syncedAt, 1000);
  assert.equal([h.healthz(5000), h.readyz(5000)], [{ ok: true, reason: 'ok' }, { ok: true, reason: 'ok' }]);
});

test('failing applies: healthy for failTimeoutMs from the first failure, then 503 until one succeeds', () => {
  const h = new Health(60_000);
  h.applied(0);
  h.applyFailed(10_000, 'update sl_be: map full (max_entries 3); raise --be-max');
  h.applyFailed(20_000, 'update sl_be: map full (max_entries 3); raise --be-max');
  assert.ok(h.healthz(69_999).ok, 'counted from the first failure');
  assert.match(h.healthz(30_000).reason, 'applying to the maps has failed for 20.0 s (unhealthy after 60 s): update sl_be: map full');
  assert.equal(h.healthz(70_000).ok, false);
  assert.equal(h.readyz(70_000).ok, false);
  h.applied(80_000);
  assert.equal(h.healthz(80_000), { ok: true, reason: 'ok' });
  assert.is(h.syncedAt, 0, 'the first sync stays the first');
});

test('a stopped pipeline is unhealthy for good', () => {
  const h = new Health();
  h.applied(0);
  h.pipelineStopped('compiler.wasm aborted');
  h.applied(1);
  assert.equal(h.healthz(1), { ok: false, reason: 'the pipeline stopped: compiler.wasm aborted' });
  assert.equal(h.readyz(1).ok, false);
});

test.run();
