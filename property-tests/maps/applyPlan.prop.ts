// Issue 14 item 9: an apply goes in an order where, after every single write,
// each frontend is in its old state or its new one: its sl_svc value is the
// old or the new one (or absent where one of them is), and every slot of its
// table names a backend that is there and belongs to its old or its new
// backends, never to nothing and never to another Service's. Checked write by
// write over random histories, also with ids of one hash bit, where sets take
// each other's ids; and the room a change needs is counted before it is made.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { NoRoom, planApply, type Step } from '../../runtime/maps/applyPlan.ts';
import { encodeDiff, opCount, type MapDiff } from '../../runtime/maps/mapDiff.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { history } from '../arb/clusterEvent.ts';
import { maglevTable } from '../model/maglevTable.ts';
import { dump } from '../model/maps.ts';
import { check } from '../seed.ts';
import type { MapName } from '../../runtime/abi/layouts.generated.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const slots = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset).getUint32(4, true); // svc_val.slots
const count = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset).getUint16(12, true); // svc_val.count

function stepDiff(s: Step): MapDiff {
  const none = new Uint8Array(0);
  return encodeDiff([{ map: s.map, upsertKeys: s.values ? s.keys : none, upsertValues: s.values ?? none, deleteKeys: s.values ? none : s.keys }]);
}

/** Per frontend: its value and the backends its table names (undefined: a slot names nothing). */
function frontends(store: MemoryStore): Map<string, { value: string; backends: Set<string> | undefined }> {
  return new Map(store.entries('sl_svc').map(([k, v]) => {
    const table = count(v) === 0 ? [] : maglevTable(store, k);
    const n = count(v) === 0 ? 0 : slots(v);
    const holes = Array.from({ length: n }, (_, i) => table[i]).some((x) => x === undefined);
    return [hex(k), { value: hex(v), backends: holes ? undefined : new Set(table.slice(0, n)) }];
  }));
}

function checkEveryStep(idBits: number) {
  return (batches: Record[][]) => {
    const c = new Compiler({ node: 'n1', idBits });
    const store = new MemoryStore();
    for (const b of batches) {
      const diff = c.batch(encodeRecords(b));
      const before = frontends(store);
      const target = new MemoryStore();
      target.apply(encodeDiff(MAPS.map((m) => ({ map: m, upsertKeys: Buffer.concat(store.entries(m.name).map(([k]) => k)),
        upsertValues: Buffer.concat(store.entries(m.name).map(([, v]) => v)), deleteKeys: new Uint8Array(0) }))));
      target.apply(diff);
      const after = frontends(target);
      const { steps } = planApply(diff, (k) => store.lookup('sl_svc', k));
      assert.is(steps.reduce((n, s) => n + s.n, 0), opCount(diff), 'every op once');
      for (const [i, s] of steps.entries()) {
        store.apply(stepDiff(s));
        for (const [key, now] of frontends(store)) {
          const old = before.get(key), neu = after.get(key);
          const where = `after step ${i} (${s.values ? 'upsert' : 'delete'} ${s.map.name}), frontend ${key}`;
          assert.ok(now.value === old?.value || now.value === neu?.value, `${where}: a value neither old nor new`);
          assert.ok(now.backends, `${where}: a slot names no backend`);
          for (const be of now.backends!) assert.ok(old?.backends?.has(be) || neu?.backends?.has(be), `${where}: backend ${be} is neither old nor new`);
        }
      }
      assert.equal(dump(store), dump(target));
    }
  };
}

for (const idBits of [27, 1]) {
  test(`write by write, each frontend is old or new (id hash bits: ${idBits})`, () => {
    check(fc.property(history(), checkEveryStep(idBits)), { numRuns: 150 });
  });
}

const svc = (name: string, a: number): Record => ({ kind: 1, namespace: 'a', name, op: 'upsert', body: {
  type: 0, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0, clusterIPs: [{ family: 4, bytes: Uint8Array.of(10, 96, 0, a) }],
  externalIPs: [], loadBalancerIPs: [], sourceRanges: [], ports: [{ name: '', proto: 6, port: 80, nodePort: 0, targetPort: 80, targetPortName: '' }] } });
const slice = (name: string, svcName: string, eps: number[]): Record => ({ kind: 2, namespace: 'a', name, op: 'upsert', body: {
  serviceName: svcName, addressType: 4, ports: [{ name: '', proto: 6, port: 8080 }],
  endpoints: eps.map((a) => ({ address: { family: 4, bytes: Uint8Array.of(10, 244, 0, a) }, conditions: 3, nodeName: '', zone: '', forZones: [] })) } });
const gone = (kind: 1 | 2, name: string): Record => ({ kind, namespace: 'a', name, op: 'delete' });

test('a set given the id a moving frontend still points at goes in after that frontend has moved', () => {
  // With one hash bit, find a Service w whose set sorts before x's in x's bucket: adding it moves x to the next rank.
  const x = [svc('x', 1), slice('x-1', 'x', [1])];
  const xValue = (c: Compiler) => { const m = new MemoryStore(); m.apply(c.rebuild()); return hex(m.entries('sl_svc')[0][1]); };
  const w = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].find((n) => {
    const c = new Compiler({ node: 'n1', idBits: 1 });
    c.batch(encodeRecords(x));
    const before = xValue(c);
    c.batch(encodeRecords([svc(n, 2), slice(`${n}-1`, n, [9])]));
    const m = new MemoryStore();
    m.apply(c.rebuild());
    return hex(m.lookup('sl_svc', m.entries('sl_svc').find(([k]) => k[3] === 1)![0])!) !== before;
  });
  assert.ok(w, 'some name shares x\'s bucket and sorts first');
  checkEveryStep(1)([x, [svc(w!, 2), slice(`${w}-1`, w!, [9])]]);
});

test('the usual order: frontends out, sets in, frontends in, the rest out; one write per map and op', () => {
  const c = new Compiler({ node: 'n1' });
  c.batch(encodeRecords([svc('old', 1), slice('old-1', 'old', [1])]));
  const diff = c.batch(encodeRecords([gone(1, 'old'), gone(2, 'old-1'), svc('new', 2), slice('new-1', 'new', [2])]));
  const { steps } = planApply(diff, () => undefined);
  assert.equal(steps.map((s) => `${s.values ? '+' : '-'}${s.map.name}`),
    ['-sl_svc', '+sl_be', '+sl_maglev', '+sl_svcname', '+sl_svc', '-sl_be', '-sl_maglev', '-sl_svcname']);
});

test('room: counted before writing; deletes of what nothing points at move first when needed; else NoRoom', () => {
  const c = new Compiler({ node: 'n1' });
  const store = new MemoryStore();
  store.apply(c.batch(encodeRecords([svc('x', 1), slice('x-1', 'x', [1, 2]), svc('y', 2), slice('y-1', 'y', [3])])));
  const room = (max: number) => ({ entries: (m: MapName) => store.entries(m), maxEntries: (m: MapName) => (m === 'sl_be' ? max : 1000) });
  // x goes and z comes with as many backends: x's set is pointed at by nothing once its frontend has gone
  const swap = c.batch(encodeRecords([gone(1, 'x'), svc('z', 3), slice('z-1', 'z', [4, 5])]));
  const plan = planApply(swap, (k) => store.lookup('sl_svc', k), room(3));
  assert.equal(plan.steps.slice(0, 2).map((s) => `${s.values ? '+' : '-'}${s.map.name} ${s.n}`), ['-sl_svc 1', '-sl_be 2']);
  assert.is(plan.counts?.get('sl_be'), 3);
  // not enough for the new state at all
  assert.throws(() => planApply(swap, (k) => store.lookup('sl_svc', k), room(2)), (e: unknown) => e instanceof NoRoom && e.map === 'sl_be' && !e.atOnce && e.needed === 3);
  store.apply(swap);
  // y's backend moves: its old and new entry are both needed until y's table points at the new one
  const move = c.batch(encodeRecords([slice('y-1', 'y', [6])]));
  assert.throws(() => planApply(move, (k) => store.lookup('sl_svc', k), room(3)), (e: unknown) => e instanceof NoRoom && e.atOnce && e.needed === 4);
  assert.is(planApply(move, (k) => store.lookup('sl_svc', k), room(4)).counts?.get('sl_be'), 3);
});

test.run();
