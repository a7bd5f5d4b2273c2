// The agent with --dry-run (maps in memory, no root) against the fake API
// server over real HTTP, as the agent runs: changes reach the maps, bad
// objects are rejected and counted while the rest is programmed, the status
// endpoint and the healthCheckNodePorts answer as kube-proxy's do, a lost
// connection keeps the maps, and a relist applies only the difference.
import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { datapathArgsOf } from '../../runtime/cli/datapathFlags.ts';
import { converged, get, logged, mapsOf, node, pod, service, slice, until, withCluster, type Json } from './agentHarness.ts';

/** Prometheus text -> "name{labels}" -> value; throws on a line that is not a comment or a sample. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const v = m[2] === '+Inf' ? Infinity : /^nan$/i.test(m[2]) ? NaN : Number(m[2]); // any case, as Prometheus parses it (prom-client writes "Nan")
    if (Number.isNaN(v) && !/^nan$/i.test(m[2])) throw new Error(`not a number: ${line}`);
    out.set(m[1], v);
  }
  return out;
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const hcService = (nsName: string, port: number): Json =>
  service(nsName, '10.96.7.7', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: port, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] });

test('started on a full cluster: the first batch is the whole cluster; then add, update and delete reach the maps', () => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5', '10.244.2.6']));
  const r = await start();
  await converged(r, server);
  const batches = logged(r.lines, 'batch');
  assert.is(batches[0].batch, 1);
  assert.is(batches[0].events, 4, 'three objects and synced');
  assert.is(batches[0].mode, 'reconcile', 'start-up adopts: reconcile to the image');
  assert.is(logged(r.lines, 'synced').length, 1);
  await until(() => logged(r.lines, 'compiler heap released').length === 1, 'the compiler heap released after ready');
  const released = logged(r.lines, 'compiler heap released')[0];
  assert.ok(released.usedBytes > 0 && released.releasedBytes <= released.freeBytes, `released ${JSON.stringify(released)}`);

  server.apply('services', service('shop/cart', '10.96.0.11'));
  await converged(r, server);
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
  await converged(r, server);
  assert.match(mapsOf(r.agent.store()), /map sl_be \(1 entries\)/);
  const before = logged(r.lines, 'batch').length;
  server.delete('services', 'shop/web');
  server.delete('endpointslices', 'shop/web-1');
  await converged(r, server);
  assert.match(mapsOf(r.agent.store()), /map sl_svc \(1 entries\)/, 'only cart is left');
  const later = logged(r.lines, 'batch').slice(1);
  assert.ok(later.length >= 3 && later.every((b) => b.mode === 'diff'), 'later batches apply the diff');
  // The two deletes may come as one batch or two (the second token of the interval).
  const be = logged(r.lines, 'batch').slice(before).map((b) => b.ops.sl_be ?? { upserts: 0, deletes: 0 });
  assert.equal(be.reduce((a, b) => ({ upserts: a.upserts + b.upserts, deletes: a.deletes + b.deletes })), { upserts: 0, deletes: 1 }, 'ops by map in the batch lines');
}));

test('started before the objects exist: an empty first batch, then each object as it comes', () => withCluster(async ({ server, start }) => {
  const r = await start();
  await until(async () => (await r.get('/readyz')).status === 200, 'ready on an empty cluster');
  assert.equal(logged(r.lines, 'batch')[0].opCount, 0);
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  await converged(r, server);
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
  await converged(r, server);
  assert.match(mapsOf(r.agent.store()), /map sl_be \(1 entries\)/);
}));

test('malformed objects: one log line each with the field, counted; the maps keep the rest; nothing crashes', () => withCluster(async ({ server, start }) => {
  server.apply('services', service('shop/web', '10.96.0.10'));
  server.apply('services', service('shop/bad-ip', 'banana'));
  server.apply('services', { metadata: { namespace: 'shop', name: 'bad-port' }, spec: { clusterIP: '10.96.0.12', ports: [{ port: 70000, protocol: 'TCP' }] } });
  server.raw('endpointslices', { metadata: { namespace: 'shop' }, addressType: 'IPv4' }); // no name: the informer cannot cache it
  server.raw('pods', 'not an object at all');
  const r = await start();
  await converged(r, server);
  const rejected = logged(r.lines, 'object rejected');
  assert.equal(rejected.map((l) => [l.level, l.object, l.field, l.stage]).sort(), [
    ['warn', 'EndpointSlice shop/?', 'metadata.name', 'normalize'],
    ['warn', 'Service shop/bad-ip', 'spec.clusterIP', 'normalize'],
    ['warn', 'Service shop/bad-port', 'spec.ports[0].port', 'normalize'],
  ]);
  assert.ok(rejected.every((l) => typeof l.reason === 'string' && l.reason !== ''), 'each says why');
  assert.match(mapsOf(r.agent.store()), /map sl_svc \(1 entries\)/, 'web is programmed');
  const m = parseMetrics((await r.get('/metrics')).body);
  assert.is(m.get('sluice_rejected_objects_total{kind="Service",stage="normalize"}'), 2);
  assert.is(m.get('sluice_rejected_objects_total{kind="EndpointSlice",stage="normalize"}'), 1);
  // A good object turning bad removes what it programmed, and only that.
  server.apply('services', service('shop/web', '10.96.0.300'));
  server.apply('services', service('shop/ok', '10.96.0.13'));
  await converged(r, server);
  assert.match(mapsOf(r.agent.store()), /map sl_svc \(1 entries\)/, 'ok replaced web; the maps were not wiped');
  assert.is((await r.get('/healthz')).status, 200);
}));

test('an object too big for a record (a Pod of 66,000 labels, a 1 MiB name) is rejected; the agent runs on and applies later changes', () => withCluster(async ({ server, start }) => {
  server.apply('services', service('shop/web', '10.96.0.10'));
  const r = await start();
  await converged(r, server);
  const labels = Object.fromEntries(Array.from({ length: 66_000 }, (_, i) => [`l${i}`, 'v']));
  server.apply('pods', { ...pod('shop/big', '10.244.1.9'), metadata: { namespace: 'shop', name: 'big', labels } });
  server.apply('services', service(`shop/${'x'.repeat(1 << 20)}`, '10.96.0.11'));
  server.apply('services', service('shop/after', '10.96.0.12'));
  await converged(r, server);
  assert.match(mapsOf(r.agent.store()), /map sl_svc \(2 entries\)/, 'web and the later change are programmed');
  // Pods and Services come by separate watches: either may be rejected first, and the Pod after the maps converged.
  await until(() => logged(r.lines, 'object rejected').length >= 2, 'both rejections');
  const rejected = logged(r.lines, 'object rejected').map((l) => [l.object.slice(0, 20), l.field]).sort();
  assert.equal(rejected, [['Pod shop/big', 'metadata.labels'], [`Service shop/${'x'.repeat(7)}`, 'metadata.name']]);
  assert.is(logged(r.lines, 'fatal').length, 0);
  assert.is((await r.get('/healthz')).status, 200);
}));

test('a conflict the compiler resolves is logged as a rejection too: at the sync, and (within problemsIntervalMs) later', () => withCluster(async ({ server, start }) => {
  server.apply('services', service('shop/a', '10.96.0.10'));
  server.apply('services', service('shop/b', '10.96.0.10')); // the same frontend: the first by namespace/name keeps it
  const r = await start({ problemsIntervalMs: 50 });
  await converged(r, server);
  const [line] = logged(r.lines, 'object rejected');
  assert.equal([line.object, line.stage], ['Service shop/b', 'compile']);
  server.apply('services', service('shop/c', '10.96.0.10'));
  await until(() => logged(r.lines, 'object rejected').length === 2, 'the second conflict');
  assert.equal(logged(r.lines, 'object rejected')[1].object, 'Service shop/c');
  assert.match((await r.get('/metrics')).body, '\nsluice_rejected_objects_total{kind="Service",stage="compile"} 2\n');
}));

test('/readyz and /healthz are 503 until the first full sync is in the maps, then 200; /livez is 200 throughout', () => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  const release = server.holdLists('nodes');
  const r = await start();
  await until(() => server.lists('nodes').length === 1, 'the nodes list asked for');
  const before = await r.get('/readyz');
  assert.is(before.status, 503);
  assert.equal(JSON.parse(before.body), { ok: false, reason: 'waiting for the first full sync from the API server' });
  const starting = await r.get('/healthz');
  assert.equal([starting.status, JSON.parse(starting.body)], [503, { ok: false, reason: 'starting: waiting for the first full sync from the API server' }],
    'a load balancer sends nothing to a node not yet programmed');
  assert.equal(JSON.parse((await r.get('/livez')).body), { ok: true, reason: 'ok' }, 'alive while it waits');
  assert.is(r.agent.batches(), 0, 'nothing programmed before synced');
  release();
  await until(async () => (await r.get('/readyz')).status === 200, 'ready');
  assert.equal(JSON.parse((await r.get('/readyz')).body), { ok: true, reason: 'ok' });
  assert.equal([(await r.get('/healthz')).status, (await r.get('/livez')).status], [200, 200]);
  assert.is((await r.get('/nope')).status, 404);
}));

test('/metrics parses and carries every named series with plausible values', () => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5', '10.244.2.6']));
  const r = await start();
  await converged(r, server);
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
  await converged(r, server);
  const res = await fetch(`http://127.0.0.1:${r.agent.address.port}/metrics`);
  assert.match(res.headers.get('content-type')!, 'text/plain; version=0.0.4');
  const text = await res.text();
  const m = parseMetrics(text);
  const has = (k: string) => {
    assert.ok(m.has(k), `series ${k}`);
    return m.get(k)!;
  };
  assert.is(has('sluice_events_total{kind="Service",type="upsert"}'), 1);
  assert.is(has('sluice_events_total{kind="EndpointSlice",type="upsert"}'), 2);
  assert.is(has('sluice_events_total{kind="",type="synced"}'), 1);
  assert.is(has('sluice_batches_total'), r.agent.batches());
  assert.ok(has('sluice_batches_total') >= 2);
  assert.ok(has('sluice_diff_ops_total{map="sl_svc",op="upsert"}') >= 1);
  assert.is(has('sluice_diff_ops_total{map="sl_be",op="delete"}'), 1, 'the endpoint that went');
  assert.is(has('sluice_apply_duration_seconds_count'), r.agent.batches());
  assert.is(has('sluice_apply_duration_seconds_bucket{le="+Inf"}'), r.agent.batches());
  assert.ok(has('sluice_apply_duration_seconds_sum') > 0 && has('sluice_apply_duration_seconds_sum') < 5);
  assert.is(has('sluice_map_entries{map="sl_svc"}'), 1);
  assert.is(has('sluice_map_entries{map="sl_be"}'), 1);
  const fill = has('sluice_map_fill_ratio{map="sl_svc"}');
  assert.ok(fill > 0 && fill < 0.01, `fill ${fill}`);
  assert.is(fill, 1 / has('sluice_map_max_entries{map="sl_svc"}'));
  assert.not.ok([...m.keys()].some((k) => k.startsWith('sluice_rejected_objects_total{')), 'nothing rejected');
  for (const kind of ['Service', 'EndpointSlice', 'Pod', 'Namespace', 'NetworkPolicy', 'Node']) {
    assert.is(has(`sluice_watch_restarts_total{kind="${kind}"}`), 0);
    assert.is(has(`sluice_relists_total{kind="${kind}"}`), 0);
  }
  // The agent collects the compiler's heap once the first sync is in (then whenever a batch grew it).
  assert.ok(has('sluice_compiler_gc_runs_total') >= 1, 'the collection after the first sync');
  assert.ok(has('sluice_compiler_gc_seconds_total') > 0 && has('sluice_compiler_gc_seconds_total') < 5);
  assert.ok(has('process_cpu_seconds_total') > 0 && has('process_cpu_seconds_total') < 600);
  assert.ok(has('process_resident_memory_bytes') > 20e6);
  assert.is(has('sluice_synced'), 1);
  assert.is(has('sluice_compile_records_total'), 4, 'node, service, slice; then the slice again');
  assert.is(has('sluice_compiler_problems'), 0);
  assert.ok(has('sluice_compiler_memory_bytes') > 0);
  assert.equal([has('sluice_recording'), has('sluice_record_failures_total')], [0, 0], 'not recording');
  for (const k of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_open_fds', 'process_start_time_seconds']) has(k);
  assert.match(text, '\n# TYPE nodejs_gc_duration_seconds histogram\n', 'V8 GC by kind');
  assert.not.ok([...m.keys()].some((k) => k.startsWith('sluice_datapath_')), 'no datapath counters without a kernel datapath');
}));

test('--metrics-bind-address apart from health, as kube-proxy: each listener serves only its own', () => withCluster(async ({ start }) => {
  const r = await start({ metricsListen: { host: '127.0.0.1', port: 0 } });
  assert.is(r.agent.metricsAddress.address, '127.0.0.1');
  assert.is.not(r.agent.metricsAddress.port, r.agent.address.port);
  const metrics = await get(`http://127.0.0.1:${r.agent.metricsAddress.port}/metrics`);
  assert.equal([metrics.status, metrics.body.includes('\nsluice_batches_total ')], [200, true]);
  assert.is((await get(`http://127.0.0.1:${r.agent.metricsAddress.port}/healthz`)).status, 404);
  const none = await r.get('/metrics');
  assert.equal([none.status, none.body], [404, 'not found: /livez, /healthz, /readyz are served here\n']);
  assert.is((await r.get('/livez')).status, 200);
}));

test('healthCheckNodePort: 200 with the count where endpoints are local, 503 where not; it closes with the Service', () => withCluster(async ({ server, start }) => {
  const port = await freePort();
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('nodes', node('n2', '192.168.0.2'));
  server.apply('services', hcService('shop/lb', port));
  server.apply('endpointslices', slice('shop/lb', ['10.244.1.5', '10.244.1.6'], 'n1'));
  const n1 = await start({ node: 'n1' });
  const n2 = await start({ node: 'n2', listen: { host: '127.0.0.2', port: 0 } });
  await until(() => n1.agent.healthCheckPorts().includes(port) && n2.agent.healthCheckPorts().includes(port), 'both listeners');
  await until(async () => (await get(`http://127.0.0.1:${port}/`).catch(() => ({ status: 0 }))).status === 200, 'n1 answering');
  const one = await get(`http://127.0.0.1:${port}/anything`);
  assert.equal([one.status, JSON.parse(one.body)], [200, { service: { namespace: 'shop', name: 'lb' }, localEndpoints: 2, serviceProxyHealthy: true }]);
  await until(async () => (await get(`http://127.0.0.2:${port}/`).catch(() => ({ status: 0 }))).status === 503, 'n2 answering');
  assert.equal(JSON.parse((await get(`http://127.0.0.2:${port}/`)).body).localEndpoints, 0);
  // An endpoint that stops being ready no longer counts.
  const s = slice('shop/lb', ['10.244.1.5', '10.244.1.6'], 'n1');
  s.endpoints[1].conditions = { ready: false, serving: true, terminating: true };
  server.apply('endpointslices', s);
  await until(async () => JSON.parse((await get(`http://127.0.0.1:${port}/`)).body).localEndpoints === 1, 'the count to drop to 1');
  server.delete('services', 'shop/lb');
  await until(() => n1.agent.healthCheckPorts().length === 0 && n2.agent.healthCheckPorts().length === 0, 'the listeners to close');
  await until(async () => (await get(`http://127.0.0.1:${port}/`).then(() => 'open', (e) => String(e.cause?.code))) === 'ECONNREFUSED', 'port closed');
  assert.is((await get(`http://127.0.0.2:${port}/`).then(() => 'open', (e) => String(e.cause?.code))), 'ECONNREFUSED');
  assert.ok(logged(n1.lines, 'health check port closed').length === 1);
}));

test('API connection lost: the maps keep their state; on the relist only the difference is applied', () => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  for (const i of [1, 2, 3]) {
    server.apply('services', service(`shop/s${i}`, `10.96.0.${i}`));
    server.apply('endpointslices', slice(`shop/s${i}`, [`10.244.1.${i}`]));
  }
  const r = await start();
  await converged(r, server);
  const programmed = mapsOf(r.agent.store()), batches = r.agent.batches();
  // The API server goes away: watches reset, reconnects fail, and when it is
  // back its history is compacted (410), so the client must relist; the
  // relists hang until released.
  const release = [server.holdLists('services'), server.holdLists('endpointslices')];
  server.fail('services', 'watch', 500, 2);
  server.fail('endpointslices', 'watch', 500, 2);
  server.unseen(() => {
    server.delete('services', 'shop/s2');
    server.delete('endpointslices', 'shop/s2-1');
    server.apply('endpointslices', slice('shop/s3', ['10.244.1.3', '10.244.1.33']));
  });
  server.dropWatches(undefined, 'reset');
  server.expire('http');
  await until(() => server.lists('services').length === 2 && server.lists('endpointslices').length === 2, 'both relists, held');
  assert.is(mapsOf(r.agent.store()), programmed, 'the maps keep the last state while the API is away');
  assert.is(r.agent.batches(), batches, 'nothing programmed meanwhile');
  assert.is((await r.get('/healthz')).status, 200, 'a lost API is not the agent\'s ill health');
  assert.ok(logged(r.lines, 'watch restart').length >= 2, 'restarts logged');
  release.forEach((f) => f());
  await converged(r, server, 'n1', 10_000);
  const after = logged(r.lines, 'batch').filter((b) => b.batch > batches);
  assert.ok(after.every((b) => b.mode === 'diff'), 'applied as diffs');
  assert.equal(after.reduce((n, b) => n + b.events, 0), 3, 'the relists give the difference only: two deletes and one update');
  assert.ok(after.reduce((n, b) => n + b.opCount, 0) < 15, 'a few ops, not the whole image');
  const m = (await r.get('/metrics')).body;
  assert.match(m, /\nsluice_relists_total\{kind="Service"\} 1\n/);
  assert.match(m, /\nsluice_watch_restarts_total\{kind="Service"\} [1-9]/);
}));

test('a datapath that cannot be loaded: one fatal line naming it, exit status 1, the status endpoint closed', () => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  const r = await start({ dryRun: false, datapath: datapathArgsOf({ object: '/nonexistent/sluice.o', 'pin-root': '/sys/fs/bpf/sl-never' }) });
  assert.is(await r.agent.done, 1);
  const fatal = logged(r.lines, 'fatal');
  assert.equal([fatal.length, fatal[0]?.level], [1, 'error']);
  assert.match(fatal[0].reason, 'load: /nonexistent/sluice.o does not exist; build it with `npm run build:bpf`');
  assert.equal(r.lines.at(-1)!.msg, 'shutdown');
  await r.get('/healthz').then(() => assert.unreachable('still listening'), () => {});
}));

test('pods of this node come and go without touching anything in dry-run', () => withCluster(async ({ server, start }) => {
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
  const r = await start();
  await converged(r, server);
  const maps = mapsOf(r.agent.store());
  const batches = () => logged(r.lines, 'batch').length; // the log line, not the count, is what is asserted on below
  server.apply('pods', pod('shop/p1', '10.244.1.20'));
  await until(() => batches() >= 2, 'the batch with the pod');
  server.delete('pods', 'shop/p1');
  await until(() => batches() >= 3, 'the batch without it');
  assert.equal(logged(r.lines, 'interface attached'), [], 'dry-run attaches nothing');
  assert.equal(logged(r.lines, 'batch').slice(1).map((b) => b.events), [1, 1], 'one batch for each pod event');
  assert.is(mapsOf(r.agent.store()), maps, 'the service maps as they were');
}));

test.run();
