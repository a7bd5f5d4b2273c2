// kubeEvents against the fake API server, over real HTTP (node:http, as the agent):
// events, the sync gate, resuming, relisting on 410, restarts, bad objects,
// selectors, paging. Each test has its own server, closed in a finally.
import { lastValueFrom, from, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { normalizeEvents } from '../../runtime/streams/normalizeEvents.ts';
import { RESOURCE_NAMES, type Resource } from '../../testkit/fakeApiServer.ts';
import { shown, withCluster } from './kubeHarness.ts';

type Json = { [k: string]: unknown };
const service = (nsName: string, labels: Json = {}, clusterIP = '10.96.0.10'): Json => {
  const [namespace, name] = nsName.split('/');
  return { metadata: { namespace, name, labels }, spec: { clusterIP, ports: [{ port: 80, protocol: 'TCP' }] } };
};
const slice = (nsName: string, labels: Json = {}): Json => {
  const [namespace, name] = nsName.split('/');
  return { metadata: { namespace, name, labels: { 'kubernetes.io/service-name': 'web', ...labels } }, addressType: 'IPv4', endpoints: [], ports: [] };
};
const pod = (nsName: string): Json => {
  const [namespace, name] = nsName.split('/');
  return { metadata: { namespace, name }, spec: { nodeName: 'n1' }, status: { phase: 'Running', podIP: '10.0.0.9' } };
};
const named = (name: string): Json => ({ metadata: { name } });
const policy = (nsName: string): Json => {
  const [namespace, name] = nsName.split('/');
  return { metadata: { namespace, name }, spec: { podSelector: {} } };
};
const one: { [R in Resource]: (i: number) => Json } = {
  services: (i) => service(`shop/s${i}`), endpointslices: (i) => slice(`shop/e${i}`), pods: (i) => pod(`shop/p${i}`),
  namespaces: (i) => named(`ns${i}`), networkpolicies: (i) => policy(`shop/np${i}`), nodes: (i) => named(`n${i}`),
};
const synced = (events: KubeEvent[]) => events.filter((e) => e.type === 'synced').length;

for (const protobuf of [false, true]) {
  test(`started on an empty cluster: synced at once, then objects arrive as they are made (${protobuf ? 'protobuf' : 'JSON'})`, () => withCluster(async (h) => {
    h.start();
    await h.until(() => synced(h.events) === 1, 'synced');
    assert.equal(h.events, [{ type: 'synced' }]);
    const rv = h.server.apply('services', service('shop/web'));
    await h.until(() => h.events.length === 2, 'the new service');
    assert.is(h.server.watches('services').at(-1)!.protobuf, protobuf);
    // JSON: the object as served; protobuf: the fields sluice reads, with an empty map left out as Go's JSON leaves it out
    const metadata = protobuf ? { namespace: 'shop', name: 'web', resourceVersion: rv } : { namespace: 'shop', name: 'web', labels: {}, resourceVersion: rv };
    assert.equal(h.events[1], { type: 'upsert', object: { apiVersion: 'v1', kind: 'Service', ...service('shop/web'), metadata } });
  }, { protobuf }));
}

test('lists and watches ask for protobuf (paged lists too); --kube-api-content-type application/json asks for JSON only', async () => {
  for (const contentType of [undefined, 'application/json'] as const) {
    await withCluster(async (h) => {
      for (let i = 0; i < 3; i++) h.server.apply('pods', pod(`shop/p${i}`));
      h.start({ contentType, pageSize: 2 });
      await h.until(() => synced(h.events) === 1 && h.server.openWatches() === 6, 'synced, six watches');
      h.server.apply('pods', pod('shop/p9'));
      await h.until(() => shown(h.events).includes('upsert Pod shop/p9'), 'the new pod');
      const protobuf = contentType === undefined;
      assert.equal(h.server.lists('pods').map((r) => r.protobuf), [protobuf, protobuf]);
      assert.ok(h.server.requests.every((r) => r.protobuf === protobuf), `every request ${protobuf ? 'protobuf' : 'JSON'}`);
      assert.equal(shown(h.events, 'Pod'), ['upsert Pod shop/p0', 'upsert Pod shop/p1', 'upsert Pod shop/p2', 'synced', 'upsert Pod shop/p9']);
    });
  }
});

test('each watch asks the server to end it after the shortest length stretched at random by up to as much again (client-go\'s 5-10 min)', () => withCluster(async (h) => {
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.requests.filter((r) => r.watch).length === 6, 'synced, six watches');
  const asked = h.server.requests.filter((r) => r.watch).map((r) => Number(r.timeoutSeconds));
  assert.ok(asked.every((t) => t >= 5 && t <= 10), `timeoutSeconds ${asked} for a shortest length of 5 s`); // kubeHarness's watchTimeoutMs
}));

test('started on a full cluster: every kind listed, with kind and apiVersion, before synced; then add, update, delete', () => withCluster(async (h) => {
  for (const r of RESOURCE_NAMES) h.server.apply(r, one[r](1));
  h.start();
  await h.until(() => synced(h.events) === 1, 'synced');
  assert.equal(h.events.slice(0, -1).map((e) => e.type === 'upsert' && `${e.object.apiVersion} ${e.object.kind}`).sort(), [
    'discovery.k8s.io/v1 EndpointSlice', 'networking.k8s.io/v1 NetworkPolicy', 'v1 Namespace', 'v1 Node', 'v1 Pod', 'v1 Service']);
  assert.equal(h.events.at(-1), { type: 'synced' });
  assert.ok(h.server.lists().every((r) => r.resourceVersion === undefined), 'the first lists are consistent reads (no resourceVersion)');
  const mark = h.events.length;
  h.server.apply('pods', pod('shop/p2'));
  h.server.apply('pods', { ...pod('shop/p1'), metadata: { namespace: 'shop', name: 'p1', labels: { app: 'x' } } });
  h.server.delete('nodes', 'n1');
  await h.until(() => h.events.length === mark + 3, 'three changes');
  // in order within a kind; kinds are separate watch streams, with no order between them
  assert.equal(shown(h.events, 'Pod', mark), ['upsert Pod shop/p2', 'upsert Pod shop/p1']);
  assert.equal(shown(h.events, 'Node', mark), ['delete Node n1']);
  const deleted = h.events.find((e, i) => i >= mark && e.type === 'delete')!;
  assert.equal(deleted.type === 'delete' && [deleted.object.apiVersion, deleted.object.kind], ['v1', 'Node'], 'a delete carries the object');
  assert.is(synced(h.events), 1);
}));

test('metadata.managedFields never pass the source (listed or watched); the rest of the object does', () => withCluster(async (h) => {
  const managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }];
  const withFields = (o: Json) => ({ ...o, metadata: { ...(o.metadata as Json), managedFields } });
  h.server.apply('services', withFields(service('shop/listed')));
  h.start();
  await h.until(() => synced(h.events) === 1, 'synced');
  h.server.apply('services', withFields(service('shop/watched')));
  await h.until(() => h.events.length === 3, 'the watched service');
  const objects = h.events.flatMap((e) => (e.type === 'upsert' ? [e.object] : []));
  assert.equal(objects.map((o) => o.metadata?.name), ['listed', 'watched']);
  for (const o of objects) {
    assert.not.ok('managedFields' in o.metadata!, `${o.metadata!.name} still carries managedFields`);
    assert.equal([o.metadata!.namespace, o.spec], ['shop', service('shop/x').spec]);
  }
}));

test('synced waits for the last kind to list; the others pass before it', () => withCluster(async (h) => {
  for (const r of RESOURCE_NAMES) h.server.apply(r, one[r](1));
  const release = h.server.holdLists('nodes');
  h.start();
  await h.until(() => h.events.length === 5 && h.server.lists('nodes').length === 1, 'five kinds listed, nodes asked for');
  assert.is(synced(h.events), 0, 'no synced while nodes are not listed');
  release();
  await h.until(() => synced(h.events) === 1, 'synced');
  assert.equal(shown(h.events).slice(-2), ['upsert Node n1', 'synced']);
}));

test('a dropped watch resumes from its resourceVersion and replays what it missed, without a relist', () => withCluster(async (h) => {
  h.server.apply('services', service('shop/a'));
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.openWatches('services') === 1, 'synced and watching');
  const rv = h.server.apply('services', service('shop/b'));
  await h.until(() => h.events.length === 3, 'b');
  h.server.unseen(() => h.server.apply('services', service('shop/c'))); // the stream stalls: c is not sent
  assert.is(h.server.dropWatches('services'), 1);
  await h.until(() => shown(h.events).includes('upsert Service shop/c'), 'c, replayed');
  assert.is(h.server.lists('services').length, 1, 'no relist');
  const watches = h.server.watches('services');
  assert.is(watches.at(-1)!.resourceVersion, rv, 'the new watch starts at the last version seen');
  assert.ok(watches.every((w) => w.allowWatchBookmarks), 'bookmarks asked for');
  assert.equal([h.stats.kinds.Service.errors, h.stats.kinds.Service.connects, h.stats.kinds.Service.watches], [0, 2, 2]);
}));

test('a reset connection stops the informer; the restart resumes from its resourceVersion', () => withCluster(async (h) => {
  h.server.apply('pods', pod('shop/a'));
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.openWatches('pods') === 1, 'synced and watching');
  const rv = h.server.apply('pods', pod('shop/b'));
  await h.until(() => h.events.length === 3, 'b');
  h.server.unseen(() => h.server.apply('pods', pod('shop/c')));
  h.server.dropWatches('pods', 'reset');
  await h.until(() => shown(h.events).includes('upsert Pod shop/c'), 'c after the restart');
  assert.equal([h.stats.kinds.Pod.errors, h.stats.kinds.Pod.restarts, h.server.lists('pods').length], [1, 1, 1]);
  assert.is(h.server.watches('pods').at(-1)!.resourceVersion, rv);
}));

test('a bookmark moves the resourceVersion of a quiet watch forward', () => withCluster(async (h) => {
  h.server.apply('nodes', named('n1'));
  h.start();
  await h.until(() => h.server.openWatches('nodes') === 1, 'watching nodes');
  h.server.apply('pods', pod('shop/x')); // the global version moves; the nodes watch sees nothing
  h.server.bookmark('nodes');
  await h.until(() => h.stats.kinds.Node.resourceVersion === h.server.resourceVersion(), 'the bookmark');
  h.server.dropWatches('nodes');
  await h.until(() => h.server.watches('nodes').length === 2, 'a second watch');
  assert.is(h.server.watches('nodes')[1].resourceVersion, h.server.resourceVersion());
}));

for (const as of ['event', 'http'] as const) {
  test(`410 Gone as ${as === 'event' ? 'an ERROR event' : 'an HTTP 410'}: relist, and only the difference comes out`, () => withCluster(async (h) => {
    for (const n of ['a', 'b', 'c']) h.server.apply('services', service(`shop/${n}`));
    h.start();
    await h.until(() => synced(h.events) === 1 && h.server.openWatches('services') === 1, 'synced and watching');
    const mark = h.events.length;
    h.server.unseen(() => {
      h.server.delete('services', 'shop/b');
      h.server.apply('services', service('shop/c', { v: '2' }));
      h.server.apply('services', service('shop/d'));
    });
    h.server.expire(as, 'services');
    await h.until(() => h.server.lists('services').length === 2 && h.server.openWatches('services') === 1, 'relisted and watching');
    await h.until(() => h.events.length >= mark + 3, 'the difference');
    assert.equal(shown(h.events, undefined, mark), ['delete Service shop/b', 'upsert Service shop/c', 'upsert Service shop/d'],
      'a is unchanged (same resourceVersion): no event');
    const watches = h.server.watches('services');
    if (as === 'http') assert.ok(watches.some((w) => w.status === 410), 'a watch got HTTP 410');
    else assert.is(h.stats.kinds.Service.watchErrors, 1, 'the ERROR event arrived');
    assert.is(watches.at(-1)!.resourceVersion, h.server.resourceVersion(), 'watching from the new list');
    assert.is(h.server.lists('services')[1].resourceVersion, undefined, 'the relist is a consistent read');
    assert.equal([synced(h.events), h.stats.kinds.Service.errors, h.stats.kinds.Service.lists], [1, 0, 2], 'no second synced, no restart');
    const c = h.events.at(-2)!;
    assert.equal(c.type === 'upsert' && (c.object.metadata as { labels: unknown }).labels, { v: '2' });
  }));
}

test('a relist deletes what went while no watch was open by the key alone: a Node with no namespace, a Service with its own', () => withCluster(async (h) => {
  h.server.apply('nodes', named('n1'));
  h.server.apply('nodes', named('n2'));
  h.server.apply('services', service('shop/a'));
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.openWatches('nodes') === 1 && h.server.openWatches('services') === 1, 'synced and watching');
  const mark = h.events.length;
  h.server.unseen(() => {
    h.server.delete('nodes', 'n1');
    h.server.delete('services', 'shop/a');
  });
  h.server.expire('http', 'nodes');
  h.server.expire('http', 'services');
  await h.until(() => h.events.length >= mark + 2, 'both deletes');
  const deletes = h.events.slice(mark).map((e) => e.type === 'delete' && [e.object.kind, e.object.apiVersion, e.object.metadata]).sort();
  assert.equal(deletes, [['Node', 'v1', { name: 'n1' }], ['Service', 'v1', { namespace: 'shop', name: 'a' }]]);
}));

test('HTTP 500 on watch stops the informer: restarted with growing delays, resuming without relist', () => withCluster(async (h) => {
  h.server.apply('pods', pod('shop/a'));
  h.server.fail('pods', 'watch', 500, 3);
  const told: string[] = [];
  h.start({ restartBackoff: { initialMs: 40, maxMs: 1000, factor: 2, jitter: 0.2 }, onRestart: (kind, error) => told.push(`${kind}: ${error}`) });
  await h.until(() => h.server.openWatches('pods') === 1, 'a watch that stays', 5000);
  const watches = h.server.watches('pods');
  assert.equal(watches.map((w) => w.status), [500, 500, 500, 200]);
  assert.ok(watches.every((w) => w.resourceVersion === watches[0].resourceVersion), 'every attempt resumes from the listed version');
  assert.is(h.server.lists('pods').length, 1, 'no relist');
  const gaps = watches.slice(1).map((w, i) => w.at - watches[i].at);
  [40, 80, 160].forEach((base, i) => assert.ok(gaps[i] >= base * 0.8 - 2 && gaps[i] < base * 1.2 + 250, `gap ${i} ${gaps[i]} ms ~ ${base} ms +-20 %`));
  assert.equal([h.stats.kinds.Pod.errors, h.stats.kinds.Pod.restarts, h.stats.kinds.Pod.connects], [3, 3, 4], 'a connect per (re)start');
  assert.match(h.stats.kinds.Pod.lastError, /500/);
  assert.equal(told, Array(3).fill(told[0]), 'each stop is told');
  assert.match(told[0], /^Pod: HTTP 500: /);
  assert.is(synced(h.events), 1, 'the list had completed: synced was not held back');
  h.server.apply('pods', pod('shop/b'));
  await h.until(() => shown(h.events).includes('upsert Pod shop/b'), 'the restarted watch delivers');
  // An event is progress: the next stop waits the first delay again.
  h.server.fail('pods', 'watch', 500, 1);
  h.server.dropWatches('pods');
  await h.until(() => h.server.openWatches('pods') === 1 && h.server.watches('pods').length === 6, 'watching again');
  const [failedAt, backAt] = h.server.watches('pods').slice(-2).map((w) => w.at);
  assert.ok(backAt - failedAt >= 40 * 0.8 - 2 && backAt - failedAt < 40 * 1.2 + 120, `back after ${backAt - failedAt} ms ~ 40 ms`);
}));

test('a protobuf list item that does not decode fails the list, named, after the items before it; the next list passes the rest, and what went meanwhile', () => withCluster(async (h) => {
  for (const p of ['shop/a', 'shop/b', 'shop/c', 'shop/d']) h.server.apply('pods', pod(p));
  h.server.damageList('pods', () => h.server.delete('pods', 'shop/a')); // gone before the list is tried again
  h.start();
  await h.until(() => synced(h.events) === 1, 'synced', 5000);
  assert.equal(h.server.lists('pods').map((r) => [r.status, r.protobuf]), [[200, true], [200, true]]);
  assert.equal([h.stats.kinds.Pod.errors, h.stats.kinds.Pod.restarts], [1, 1]);
  assert.match(h.stats.kinds.Pod.lastError, 'list /api/v1/pods: ObjectMeta.name: wire type 0, not 2');
  // a, b and c come out before d fails the list (protoRoundtrip.prop.ts); the second list finds b and c known, and a gone
  assert.equal(shown(h.events), ['upsert Pod shop/a', 'upsert Pod shop/b', 'upsert Pod shop/c', 'upsert Pod shop/d', 'delete Pod shop/a', 'synced']);
}));

test('a failing list holds synced back until a restart lists', () => withCluster(async (h) => {
  h.server.apply('namespaces', named('shop'));
  h.server.fail('namespaces', 'list', 503, 2);
  h.start();
  await h.until(() => synced(h.events) === 1, 'synced', 5000);
  assert.equal(h.server.lists('namespaces').map((r) => r.status), [503, 503, 200]);
  assert.equal([h.stats.kinds.Namespace.errors, h.stats.kinds.Namespace.restarts], [2, 2]);
  assert.equal(shown(h.events), ['upsert Namespace shop', 'synced']);
}));

test('malformed objects come out as rejections naming object and field; the stream goes on', () => withCluster(async (h) => {
  h.server.apply('services', service('shop/bad', {}, 'banana'));
  h.server.raw('services', { metadata: 'oops' });
  h.server.raw('services', null);
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.openWatches('services') === 1, 'synced and watching');
  h.server.raw('services', { metadata: { namespace: 'shop', resourceVersion: '999' }, spec: {} }); // no name
  h.server.raw('services', 'not an object');
  h.server.garbage('services');
  h.server.apply('services', service('shop/good'));
  await h.until(() => shown(h.events).includes('upsert Service shop/good'), 'the good service after the bad ones');
  const out = await lastValueFrom(from(h.events).pipe(normalizeEvents(), toArray()));
  const rejections = out.flatMap((x) => (x.type === 'rejected' ? [`${x.rejection.object} ${x.rejection.field}`] : []));
  assert.equal(rejections.sort(), ['Service default/? metadata', 'Service shop/? metadata.name', 'Service shop/bad spec.clusterIP']);
  assert.equal(out.flatMap((x) => (x.type === 'record' ? [`${x.record.op} ${x.record.name}`] : [])), ['delete bad', 'upsert good']);
  assert.is(h.stats.kinds.Service.malformed, 4, 'two in the list, two on the watch');
  assert.is(h.stats.kinds.Service.errors, 0, 'the informer never stopped');
}, { protobuf: false })); // objects of the wrong shape reach a client only as JSON: protobuf's types cannot hold them

test('objects labelled for another proxy, and slices of headless services, never appear', () => withCluster(async (h) => {
  const other = { 'service.kubernetes.io/service-proxy-name': 'elsewhere' };
  h.server.apply('services', service('shop/ours'));
  h.server.apply('services', service('shop/theirs', other));
  h.server.apply('endpointslices', slice('shop/ours'));
  h.server.apply('endpointslices', slice('shop/theirs', other));
  h.server.apply('endpointslices', slice('shop/headless', { 'service.kubernetes.io/headless': '' }));
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.openWatches() === 6, 'synced and watching');
  h.server.apply('services', service('shop/late', other));
  h.server.apply('services', service('shop/ours', other)); // handed over to another proxy: gone for us
  h.server.apply('endpointslices', slice('shop/late', { 'service.kubernetes.io/headless': '' }));
  h.server.apply('services', service('shop/after'));
  await h.until(() => shown(h.events).includes('upsert Service shop/after'), 'a later service');
  assert.equal(shown(h.events), ['upsert Service shop/ours', 'upsert EndpointSlice shop/ours', 'synced', 'delete Service shop/ours', 'upsert Service shop/after']);
  const selectors = (r: Resource) => new Set(h.server.requests.filter((q) => q.resource === r).map((q) => q.labelSelector));
  assert.equal([...selectors('services')], ['!service.kubernetes.io/service-proxy-name']);
  assert.equal([...selectors('endpointslices')], ['!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless']);
  assert.equal([...selectors('pods')], [undefined]);
}));

test('a long list comes in pages over one snapshot', () => withCluster(async (h) => {
  for (let i = 1; i <= 5; i++) h.server.apply('pods', pod(`shop/p${i}`));
  h.start({ pageSize: 2 });
  await h.until(() => synced(h.events) === 1, 'synced');
  const lists = h.server.lists('pods');
  assert.equal(lists.map((r) => [r.limit, r.continue !== undefined]), [[2, false], [2, true], [2, true]]);
  assert.equal(shown(h.events, 'Pod').filter((s) => s !== 'synced'), [1, 2, 3, 4, 5].map((i) => `upsert Pod shop/p${i}`));
}));

test('unsubscribing closes every watch and nothing more arrives', () => withCluster(async (h) => {
  h.start();
  await h.until(() => synced(h.events) === 1 && h.server.openWatches() === 6, 'watching all six');
  h.stop();
  await h.until(() => h.server.openWatches() === 0, 'all watches closed');
  const requests = h.server.requests.length;
  h.server.apply('services', service('shop/x'));
  await new Promise((r) => setImmediate(r));
  assert.equal([h.events.length, h.server.requests.length], [1, requests]);
}));

test.run();
