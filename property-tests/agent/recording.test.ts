// --record is a debugging aid that never stops the dataplane: a full disk
// (a small tmpfs, mounted in a directory of this test's own and unmounted
// after) stops recording, once, said in the log, a metric and /readyz, and
// the maps go on following the cluster; a second agent on the same record
// directory is refused the lock and runs without recording.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { converged, logged, node, service, slice, until, withCluster } from './agentHarness.ts';
import { run, tryRun } from '../../runtime/exec/command.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const root = process.geteuid?.() === 0;
if (!root && process.env.CI) test('mounting a tmpfs needs root', () => assert.unreachable('run the tests as root'));
else if (!root) console.log('# SKIP the full-disk test: mounting a tmpfs needs root');
const asRoot = root ? test : test.skip;

const metric = (text: string, name: string) => Number(new RegExp(`\\n${name} (\\S+)\\n`).exec(text)?.[1]);

/** A 64 KiB tmpfs at a fresh directory, unmounted and removed after body. */
async function withSmallDisk(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-enospc-'));
  run(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'sluice-test', dir]);
  try {
    await body(dir);
  } finally {
    tryRun(['umount', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the filesystem of dir until it refuses (ENOSPC). */
function fill(dir: string): void {
  try {
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `filler-${i}`), Buffer.alloc(4096), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    return;
  }
  throw new Error('the tmpfs never filled up');
}

asRoot('a full disk stops recording, once, and says so three ways; the maps go on', () => withSmallDisk((disk) => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  const record = join(disk, 'log');
  const r = await start({ record });
  await converged(r, server);
  assert.is(metric((await r.get('/metrics')).body, 'sluice_recording'), 1);
  fill(disk);
  // Larger than the page the log's last write left room in.
  server.apply('endpointslices', slice('shop/web', Array.from({ length: 100 }, (_, i) => `10.244.1.${i + 1}`)));
  await converged(r, server);
  await until(() => logged(r.lines, 'recording stopped').length === 1, 'the line saying recording stopped');
  const [line] = logged(r.lines, 'recording stopped');
  assert.equal([line.level, line.record], ['error', record]);
  assert.match(line.reason, /^record to .*events-000000\.log: ENOSPC$/);
  const ready = await r.get('/readyz');
  assert.equal([ready.status, JSON.parse(ready.body).reason], [200, `ok; recording stopped: ${line.reason}`]);
  const m = (await r.get('/metrics')).body;
  assert.equal([metric(m, 'sluice_recording'), metric(m, 'sluice_record_failures_total')], [0, 1]);
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5', '10.244.1.6']));
  await converged(r, server);
  assert.is(logged(r.lines, 'recording stopped').length, 1, 'said once');
  assert.equal(logged(r.lines, 'fatal'), [], 'the agent goes on');
  assert.is((await r.get('/livez')).status, 200);
  assert.is(await r.agent.stop('test over'), 0);
})));

test('two agents on one record directory: the second runs without recording, saying why; the first\'s log stays whole', () => withCluster(async ({ server, start, dir }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  const record = join(dir, 'shared');
  const a = await start({ record });
  await converged(a, server);
  const b = await start({ record });
  await converged(b, server);
  const [line] = logged(b.lines, 'recording stopped');
  assert.is(line?.reason, `${record} is being recorded by another sluice agent (pid ${process.pid}); give each agent a directory of its own`);
  assert.is(metric((await b.get('/metrics')).body, 'sluice_recording'), 0);
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
  await converged(a, server);
  await converged(b, server);
  assert.equal([logged(a.lines, 'recording stopped'), logged(b.lines, 'fatal')], [[], []]);
  await b.agent.stop('test over');
  await a.agent.stop('test over');
  const replay = spawnSync(process.execPath, [MAIN, 'replay', record, '--verify'], { encoding: 'utf8' });
  assert.is(replay.status, 0, replay.stderr);
  assert.match(replay.stderr, /^sluice replay: verified \d+ batches/);
}));

test.run();
