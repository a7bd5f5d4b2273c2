// PinnedStore on real pinned maps (made by loading the fixture datapath):
// a compiled image goes in and comes back byte for byte, a diff costs one
// batch call per map and op kind, adoption of live maps touches only what
// differs, and failures say which map, which op and what to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Programmer } from '../../runtime/agent/programmer.ts';
import { DEFAULT_TIMEOUTS } from '../../runtime/bpf/config.ts';
import { loadDatapath } from '../../runtime/bpf/loader.ts';
import { MapFullError, PinnedStore } from '../../runtime/bpf/maps.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import type { Sizes } from '../../runtime/bpf/sizes.ts';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import { compileObjects } from '../../runtime/cli/compile.ts';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf } from '../../runtime/streams/recordsOf.ts';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { deleteCount, encodeDiff, opCount, upsertCount, type MapDiff } from '../../runtime/maps/mapDiff.ts';
import { reconcile } from '../../runtime/maps/reconcile.ts';
import { StoreError, type MapStore } from '../../runtime/maps/store.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { dropPinRoot, fixtureObject, kernelTest, scratchPinRoot } from './env.ts';

const it = kernelTest({ netns: false });
const NODE = 'node-a';
const CONFIG = { netnsCookie: 0n, nodeIp: new Uint8Array([192, 168, 50, 10]), hairpinIp: new Uint8Array([169, 254, 42, 1]), flags: 0, ...DEFAULT_TIMEOUTS };
const objects = () => loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]).objects as { [k: string]: any }[];
const desiredOf = (objs: unknown[]) => compileObjects(objs, NODE)[0].store;

/** Runs body with the fixture's maps pinned under a fresh root, and removes them after. */
function withPinned(body: (store: PinnedStore, root: string) => void, sizes: Sizes = {}): void {
  const root = scratchPinRoot();
  try {
    const dp = loadDatapath({ object: fixtureObject(), pinRoot: root, config: CONFIG, sizes });
    dp.close();
    const store = PinnedStore.open(root);
    try {
      body(store, root);
    } finally {
      store.close();
    }
  } finally {
    dropPinRoot(root);
  }
}

/** One UPDATE_BATCH per section with upserts, one DELETE_BATCH per section with deletes: the fewest there can be. */
const batchCalls = (diff: MapDiff) => diff.sections.reduce((n, s) => n + Number(upsertCount(s) > 0) + Number(deleteCount(s) > 0), 0);

function assertSameMaps(a: MapStore, b: MapStore): void {
  for (const m of MAPS) {
    const hex = (s: MapStore) => s.entries(m.name).map(([k, v]) => `${Buffer.from(k).toString('hex')} ${Buffer.from(v).toString('hex')}`);
    assert.equal(hex(a), hex(b), m.name);
  }
}

/** The web service loses its last endpoint; returns the new objects and the changed slice alone. */
function webLosesAnEndpoint(): { objects: unknown[]; changed: unknown } {
  const objs = objects();
  const i = objs.findIndex((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'web-8kq2z');
  const changed = structuredClone(objs[i]);
  changed.endpoints = changed.endpoints.slice(0, -1);
  objs[i] = changed;
  return { objects: objs, changed };
}

it('the compiler\'s diff goes in with one batch call per map and op kind, and reads back as the compiled image', () => {
  withPinned((store) => {
    const records = recordsOf(snapshotEvents(objects())).records;
    const diff = new Compiler({ node: NODE }).batch(encodeRecords(records));
    assert.equal(store.apply(diff), { applied: opCount(diff), syscalls: batchCalls(diff) });
    assertSameMaps(store, desiredOf(objects()));
    assert.is(opCount(reconcile(store, desiredOf(objects()))), 0, 'reconciling an identical image is an empty diff');
    assert.is(store.count('sl_svc'), desiredOf(objects()).entries('sl_svc').length);
  });
});

it('adoption: one service changed gives exactly the compiler\'s incremental ops for it, nothing else', () => {
  withPinned((store) => {
    store.apply(reconcile(store, desiredOf(objects())));
    const { objects: after, changed } = webLosesAnEndpoint();
    const compiler = new Compiler({ node: NODE });
    compiler.batch(encodeRecords(recordsOf(snapshotEvents(objects())).records));
    const incremental = compiler.batch(encodeRecords(recordsOf(snapshotEvents([changed])).records));
    const adopted = reconcile(store, desiredOf(after));
    assert.ok(opCount(adopted) > 0);
    assert.equal(Buffer.from(adopted.bytes).toString('hex'), Buffer.from(incremental.bytes).toString('hex'));
    // Every sl_svc op is one of web's frontends (ClusterIP 10.96.10.10).
    const svc = adopted.sections.find((s) => s.map.name === 'sl_svc');
    for (let i = 0; svc && i < upsertCount(svc); i++) assert.equal([...svc.upsertKeys.subarray(i * 8, i * 8 + 4)], [10, 96, 10, 10]);
    assert.equal(store.apply(adopted), { applied: opCount(adopted), syscalls: batchCalls(adopted) });
    assertSameMaps(store, desiredOf(after));
  });
});

it('without batch ops (as for a map type the kernel has none for): one syscall per entry, the same maps', () => {
  withPinned((batched, root) => {
    const slow = PinnedStore.open(root, { batch: false });
    try {
      const diff = reconcile(slow, desiredOf(objects()));
      assert.equal(slow.apply(diff), { applied: opCount(diff), syscalls: opCount(diff) });
      assertSameMaps(slow, desiredOf(objects()));
      assertSameMaps(batched, slow);
      const { objects: after } = webLosesAnEndpoint();
      const next = reconcile(slow, desiredOf(after));
      assert.equal(slow.apply(next), { applied: opCount(next), syscalls: opCount(next) });
      assertSameMaps(slow, desiredOf(after));
    } finally {
      slow.close();
    }
  });
});

it('a change that cannot fit is refused before anything is written: "update sl_be: map full (max_entries 4; this change needs 18); raise --be-max"', () => {
  withPinned((store) => {
    const diff = reconcile(store, desiredOf(objects()));
    try {
      store.apply(diff);
      assert.unreachable('applied into a 4-entry sl_be');
    } catch (e) {
      assert.instance(e, MapFullError);
      const needed = desiredOf(objects()).entries('sl_be').length;
      assert.is((e as Error).message, `update sl_be: map full (max_entries 4; this change needs ${needed}); raise --be-max`);
      assert.equal([(e as MapFullError).map, (e as MapFullError).maxEntries, (e as MapFullError).needed, (e as MapFullError).atOnce], ['sl_be', 4, needed, false]);
      assert.is((e as StoreError).applied, 0);
      for (const m of MAPS) assert.is(store.count(m.name), 0, m.name);
    }
  }, { 'be-max': 4 });
});

it('a map that is full but changes in place (sl_polstate, its one epoch) is not read whole at each change', () => {
  withPinned((store) => {
    const compiler = new Compiler({ node: NODE });
    store.apply(compiler.batch(encodeRecords(recordsOf(snapshotEvents(objects())).records)));
    const pod = objects().find((o) => o.kind === 'Pod' && o.metadata.labels?.app === 'ingress')!; // a peer of shop's policy
    let reads = 0;
    const entries = store.entries.bind(store);
    store.entries = (map) => (reads++, entries(map));
    for (const app of ['other', 'ingress', 'other']) {
      const relabelled = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, app } } };
      const diff = compiler.batch(encodeRecords(recordsOf(snapshotEvents([relabelled])).records));
      assert.ok(diff.sections.some((x) => x.map.name === 'sl_polstate' && upsertCount(x) === 1), 'the change moves the epoch');
      assert.is(store.apply(diff).applied, opCount(diff));
    }
    assert.is(reads, 0, 'no map was read to check its room');
    assert.is(store.count('sl_polstate'), 1);
  });
});

it('a restart reconciles the maps it finds pinned, and then knows their room: its first changes read no map whole', () => {
  const root = scratchPinRoot();
  const records = (objs: unknown[]) => recordsOf(snapshotEvents(objs)).records;
  try {
    loadDatapath({ object: fixtureObject(), pinRoot: root, config: CONFIG }).close();
    for (const run of ['first', 'restart']) {
      const store = PinnedStore.open(root), programmer = new Programmer(new Compiler({ node: NODE }));
      try {
        const sync = programmer.batch(1, records(objects()), store);
        assert.is(sync.mode, 'reconcile', run);
        if (run === 'first') continue;
        assert.is(sync.applied, 0, 'the restart found the maps as it compiles them');
        let reads = 0;
        const entries = store.entries.bind(store);
        store.entries = (map) => (reads++, entries(map));
        const pod = objects().find((o) => o.kind === 'Pod' && o.metadata.labels?.app === 'ingress')!; // a peer of shop's policy
        const relabelled = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, app: 'other' } } };
        for (const [n, change] of [[relabelled], extra()].entries()) {
          const r = programmer.batch(2 + n, records(change), store);
          assert.ok(r.mode === 'diff' && r.applied > 0, JSON.stringify(r));
        }
        assert.is(reads, 0, 'no map was read to learn its room');
      } finally {
        store.close();
      }
    }
  } finally {
    dropPinRoot(root);
  }
});

/** shop/extra, a Service with one endpoint: a backend set more, and its table. */
function extra(): unknown[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'extra' }, spec: { clusterIP: '10.96.99.1', ports: [{ port: 80 }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: 'shop', name: 'extra-1', labels: { 'kubernetes.io/service-name': 'extra' } },
      addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.244.1.99'] }] }];
}
const withExtra = () => [...objects(), ...extra()];

it('an apply that overflows a map leaves the maps as they were: the live view is still the old compile', () => {
  const full = desiredOf(objects()).entries('sl_maglev').length;
  withPinned((store) => {
    store.apply(reconcile(store, desiredOf(objects())));
    const diff = reconcile(store, desiredOf(withExtra()));
    assert.throws(() => store.apply(diff), (e: unknown) => e instanceof StoreError && e.applied === 0 &&
      /^update sl_maglev: map full \(max_entries \d+; this change needs \d+\); raise --maglev-max$/.test(e.message));
    assertSameMaps(store, desiredOf(objects()));
  }, { 'maglev-max': full });
});

it('a full map: a Service that leaves makes room for one that comes, its entries going first; a backend that moves needs room for both', () => {
  const objs = objects();
  const web = objs.find((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'web-8kq2z')!;
  const exact = desiredOf(objs).entries('sl_be').length;
  withPinned((store) => {
    store.apply(reconcile(store, desiredOf(objs)));
    // One of web's endpoints moves to another address: until web's table points at it, both are needed.
    const moved = structuredClone(objs);
    moved.find((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'web-8kq2z')!.endpoints.at(-1).addresses = ['10.244.2.99'];
    assert.throws(() => store.apply(reconcile(store, desiredOf(moved))), (e: unknown) => e instanceof MapFullError && e.atOnce && e.applied === 0 &&
      e.message === `update sl_be: map full (max_entries ${exact}; this change needs ${exact + 1} at once, old and new, until the old ones go); raise --be-max`);
    assertSameMaps(store, desiredOf(objs));
    // web's slice leaves with its Service, and shop/extra comes with fewer backends: web's go first.
    const swapped = [...objs.filter((o) => o !== web && !(o.kind === 'Service' && o.metadata.name === 'web')), ...extra()];
    const diff = reconcile(store, desiredOf(swapped));
    assert.is(store.apply(diff).applied, opCount(diff));
    assertSameMaps(store, desiredOf(swapped));
  }, { 'be-max': exact });
});

it('at a map\'s size, upserts of keys it holds are checked by a lookup each, the maps not read; a new key is still refused', () => {
  const objs = objects();
  const exact = desiredOf(objs).entries('sl_svc').length;
  withPinned((store) => {
    store.apply(reconcile(store, desiredOf(objs)));
    // Every policy change rewrites sl_polstate, which holds one entry at most.
    const edited = structuredClone(objs);
    edited.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'web-from-edge')!.spec.ingress[0].ports = [{ port: 8080 }];
    const diff = reconcile(store, desiredOf(edited));
    assert.ok(diff.sections.some((s) => s.map.name === 'sl_polstate' && upsertCount(s) === 1), 'the change rewrites sl_polstate');
    const entries = store.entries;
    store.entries = () => assert.unreachable('the maps were read to check room') as never;
    try {
      assert.is(store.apply(diff).applied, opCount(diff));
    } finally {
      store.entries = entries;
    }
    assertSameMaps(store, desiredOf(edited));
    assert.throws(() => store.apply(reconcile(store, desiredOf([...edited, ...extra()]))),
      (e: unknown) => e instanceof MapFullError && e.map === 'sl_svc' && e.applied === 0);
    assertSameMaps(store, desiredOf(edited));
  }, { 'svc-max': exact });
});

it('deleting a key that is not there fails naming the map and key, with .applied', () => {
  withPinned((store) => {
    const be = MAPS.find((m) => m.name === 'sl_be')!;
    const key = new Uint8Array(8).fill(7);
    const diff = encodeDiff([{ map: be, upsertKeys: new Uint8Array(0), upsertValues: new Uint8Array(0), deleteKeys: key }]);
    assert.throws(() => store.apply(diff), (e: unknown) => e instanceof StoreError && e.applied === 0 &&
      e.message === 'delete sl_be: key 0707070707070707 not present: something else changed the map; apply again');
  });
});

it('the datapath\'s maps are never written: sl_ct entries survive any apply', () => {
  withPinned((store, root) => {
    const fd = S.objGet(`${root}/sl_ct`)!;
    const key = new Uint8Array(16).fill(1), value = new Uint8Array(40).fill(2);
    S.mapUpdate(fd, key, value);
    store.apply(reconcile(store, desiredOf(objects())));
    store.apply(reconcile(store, desiredOf(webLosesAnEndpoint().objects)));
    const ct = store.stateMap('sl_ct')!.entries();
    S.close(fd);
    assert.equal(ct.map(([k, v]) => [[...k], [...v]]), [[[...key], [...value]]]);
  });
});

it('isEmpty: true until an entry is written, true again once it is deleted (sl_sockrev, an LRU hash)', () => {
  withPinned((store, root) => {
    const sockrev = store.stateMap('sl_sockrev')!;
    assert.ok(sockrev.isEmpty());
    const fd = S.objGet(`${root}/sl_sockrev`)!;
    try {
      const key = new Uint8Array(16).fill(3);
      S.mapUpdate(fd, key, new Uint8Array(16).fill(4));
      assert.not.ok(sockrev.isEmpty());
      assert.ok(S.mapDelete(fd, key));
      assert.ok(sockrev.isEmpty());
    } finally {
      S.close(fd);
    }
  });
});

it('lookup: a value, or undefined for an absent key; LPM trie entries read back in key order', () => {
  withPinned((store) => {
    store.apply(reconcile(store, desiredOf(objects())));
    const [k, v] = desiredOf(objects()).entries('sl_svc')[0];
    assert.equal(store.lookup('sl_svc', k), v);
    assert.is(store.lookup('sl_svc', new Uint8Array(8)), undefined);
    const ranges = store.entries('sl_srcrange');
    assert.is(ranges.length, 2);
    assert.ok(Buffer.compare(ranges[0][0], ranges[1][0]) < 0);
  });
});

it('an LPM trie of more entries than one batch read takes (4,096) reads back whole, once each', () => {
  withPinned((store, root) => {
    const n = 5000, ks = 16, vs = 4; // struct srcrange_key, srcrange_val
    const keys = new Uint8Array(n * ks), values = new Uint8Array(n * vs);
    const d = new DataView(keys.buffer);
    for (let i = 0; i < n; i++) {
      d.setUint32(i * ks, 96, true); // the frontend's 64 bits and the whole client address
      d.setUint32(i * ks + 4, 0xcb007101); // 203.0.113.1
      d.setUint16(i * ks + 8, 443);
      keys[i * ks + 10] = 6;
      d.setUint32(i * ks + 12, 0x0a000000 + i);
      values[i * vs] = 1;
    }
    const fd = S.objGet(`${root}/sl_srcrange`)!;
    S.mapUpdateBatch(fd, keys, values, n);
    S.close(fd);
    const read = store.entries('sl_srcrange');
    assert.is(read.length, n);
    assert.is(new Set(read.map(([k]) => Buffer.from(k).toString('hex'))).size, n);
  }, { 'srcrange-max': 8192 });
});

test.run();
