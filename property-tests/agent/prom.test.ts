// The agent's default metrics (runtime/agent/prom.ts) against prom-client's
// own collectDefaultMetrics, loaded here whole: the same families, types and
// help, and process CPU counters that follow the process's CPU time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as promClient from 'prom-client';
import { collectDefaultMetrics, Registry } from '../../runtime/agent/prom.ts';

const families = async (r: promClient.Registry) => (await r.getMetricsAsJSON()).map(({ name, type, help }) => `${name} ${type} ${help}`).sort();

test('the same families as prom-client collectDefaultMetrics, with their types and help', async () => {
  const ours = new Registry(), theirs = new promClient.Registry();
  collectDefaultMetrics({ register: ours, eventLoopMonitoringPrecision: 1000 });
  promClient.collectDefaultMetrics({ register: theirs });
  const want = await families(theirs);
  assert.ok(want.some((f) => f.startsWith('process_cpu_seconds_total counter')), 'prom-client has moved its CPU counter');
  assert.equal(await families(ours), want);
});

test('process_cpu_*_seconds_total follow process.cpuUsage() over scrapes, user + system = the total', async () => {
  const r = new Registry();
  const before = process.cpuUsage();
  collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 1000 });
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i % 7; // some user CPU to count
  assert.ok(x > 0);
  const value = async (name: string) => (await r.getSingleMetric(name)!.get()).values[0].value;
  await value('process_cpu_user_seconds_total'); // a first scrape: the second adds only what came since
  const user = await value('process_cpu_user_seconds_total'); // the scrape of this one sets all three
  const after = process.cpuUsage(before);
  const system = await value('process_cpu_system_seconds_total'), total = await value('process_cpu_seconds_total');
  assert.ok(user > 0.005 && user <= after.user / 1e6 + 1e-6, `user ${user} s against ${after.user / 1e6} s`);
  assert.ok(system <= after.system / 1e6 + 1e-6, `system ${system} s against ${after.system / 1e6} s`);
  assert.ok(Math.abs(total - (user + system)) < 1e-9, `total ${total} against ${user + system}`);
});

test.run();
