// Issue 14 item 9: an apply goes in an order where, after every single write,
// each frontend is in its old state or its new one: its sl_svc value is the
// old or the new one (or absent where one of them is), and every backend the
// datapath can reach from it names a backend that is there and belongs to its
// old or its new backends, never to nothing and never to another Service's.
// What it can reach is what bpf/lib/lb.h reads: slots [0, value.slots) of the
// set's table (a hole counts, though lb_pick_hashed would try a few slots on),
// and, with session affinity, any backend of the set in sl_be, since an
// sl_affinity entry (keyed by set id, not by Service) may name it. Checked
// write by write over random histories, also with ids of one hash bit, where
// sets take each other's ids, and over histories where tables change size;
// frontends that trade ids are left out of a batch's checks, as no order
// serves them (see traders), and counted. The room a change needs is counted
// before it is made.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPS, SL_SVC_AFFINITY } from '../../runtime/abi/layouts.generated.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { NoRoom, planApply, type Step } from '../../runtime/maps/applyPlan.ts';
import { encodeDiff, opCount, type MapDiff } from '../../runtime/maps/mapDiff.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { history } from '../arb/clusterEvent.ts';
import { resizingHistory } from '../arb/resizingHistory.ts';
import { Coverage } from '../coverage.ts';
import { maglevTable, setBackends } from '../model/maglevTable.ts';
import { dump } from '../model/maps.ts';
import { check } from '../seed.ts';
import type { MapName } from '../../runtime/abi/layouts.generated.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const slots = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset).getUint32(4, true); // svc_val.slots
const count = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset).getUint16(12, true); // svc_val.count
const affine = (v: Uint8Array) => (v[15] & SL_SVC_AFFINITY) !== 0; // svc_val.flags
const bset = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset).getUint32(0, true); // svc_val.bset

function stepDiff(s: Step): MapDiff {
  const none = new Uint8Array(0);
  return encodeDiff([{ map: s.map, upsertKeys: s.values ? s.keys : none, upsertValues: s.values ?? none, deleteKeys: s.values ? none : s.keys }]);
}

/** Per frontend: its value and the backends a new flow to it can reach (undefined: a slot names nothing). */
function frontends(store: MemoryStore): Map<string, { value: string; backends: Set<string> | undefined }> {
  return new Map(store.entries('sl_svc').map(([k, v]) => {
    const table = count(v) === 0 ? [] : maglevTable(store, k);
    const n = count(v) === 0 ? 0 : slots(v);
    const holes = Array.from({ length: n }, (_, i) => table[i]).some((x) => x === undefined);
    const backends = new Set(table.slice(0, n));
    if (count(v) > 0 && affine(v)) for (const be of setBackends(store, bset(v)).values()) backends.add(be);
    return [hex(k), { value: hex(v), backends: holes ? undefined : backends }];
  }));
}

type Change = 'a table shrinks in place' | 'a table grows in place' | 'a frontend moves to another set'
  | 'a frontend joins the id another leaves' | 'a frontend with affinity joins a set that loses backends' | 'frontends trade ids';

const reads = (v: Uint8Array | undefined): v is Uint8Array => v !== undefined && count(v) > 0;

/** The frontends that read a set after the batch, each with its value before and after it. */
function readers(before: MemoryStore, after: MemoryStore): { key: string; old: Uint8Array | undefined; v: Uint8Array }[] {
  return after.entries('sl_svc').flatMap(([k, v]) => (reads(v) ? [{ key: hex(k), old: before.lookup('sl_svc', k), v }] : []));
}

/** What a batch does to the frontends that read a table, from the maps before and after it. */
function changes(before: MemoryStore, after: MemoryStore): Change[] {
  const rs = readers(before, after);
  const joins = rs.filter(({ old, v }) => !reads(old) || bset(old) !== bset(v));
  const backends = (s: MemoryStore, b: number) => [...setBackends(s, b)].map(([id, a]) => `${id} ${a}`);
  const loses = (b: number) => { const now = new Set(backends(after, b)); return backends(before, b).some((x) => !now.has(x)); };
  const out: Change[] = [];
  for (const { old, v } of rs.filter((r) => reads(r.old))) {
    if (bset(old!) === bset(v) && slots(v) !== slots(old!)) out.push(slots(v) < slots(old!) ? 'a table shrinks in place' : 'a table grows in place');
    if (bset(old!) === bset(v)) continue;
    out.push('a frontend moves to another set');
    if (joins.some((j) => bset(j.v) === bset(old!))) out.push('a frontend joins the id another leaves');
  }
  if (joins.some(({ v }) => affine(v) && loses(bset(v)))) out.push('a frontend with affinity joins a set that loses backends');
  return out;
}

/**
 * The frontends that trade set ids in the batch: each moves from a set whose
 * entries change to another whose entries change, and, round a cycle, the
 * set it moves to is one another frontend reads until it moves. No order of
 * single writes serves them all: a set's entries may change only once its
 * readers have left, and a reader may move only once the set it moves to
 * holds its new entries.
 */
function traders(before: MemoryStore, after: MemoryStore): Set<string> {
  const entries = (s: MemoryStore, b: number) => (['sl_be', 'sl_maglev', 'sl_svcname'] as const).flatMap((m) => s.entries(m)
    .filter(([k]) => new DataView(k.buffer, k.byteOffset).getUint32(0) === b).map(([k, v]) => `${m} ${hex(k)} ${hex(v)}`)).join();
  const changed = (b: number) => entries(before, b) !== entries(after, b);
  const edges = readers(before, after).filter(({ old, v }) => reads(old) && bset(old) !== bset(v) && changed(bset(old)) && changed(bset(v)))
    .map(({ key, old, v }) => ({ key, from: bset(old!), to: bset(v) }));
  const reaches = (a: number, b: number, seen: Set<number>): boolean =>
    a === b || (!seen.has(a) && (seen.add(a), edges.some((e) => e.from === a && reaches(e.to, b, seen))));
  return new Set(edges.filter((e) => reaches(e.to, e.from, new Set())).map((e) => e.key));
}

function checkEveryStep(idBits: number, coverage?: Coverage<Change>) {
  return (batches: Record[][]) => {
    const reached: Change[] = [];
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
      const exempt = traders(store, target);
      reached.push(...changes(store, target), ...(exempt.size > 0 ? ['frontends trade ids' as const] : []));
      const { steps } = planApply(diff, (k) => store.lookup('sl_svc', k));
      assert.is(steps.reduce((n, s) => n + s.n, 0), opCount(diff), 'every op once');
      for (const [i, s] of steps.entries()) {
        store.apply(stepDiff(s));
        for (const [key, now] of frontends(store)) {
          if (exempt.has(key)) continue;
          const old = before.get(key), neu = after.get(key);
          const where = `after step ${i} (${s.values ? 'upsert' : 'delete'} ${s.map.name}), frontend ${key}`;
          assert.ok(now.value === old?.value || now.value === neu?.value, `${where}: a value neither old nor new`);
          assert.ok(now.backends, `${where}: a slot names no backend`);
          for (const be of now.backends!) assert.ok(old?.backends?.has(be) || neu?.backends?.has(be), `${where}: backend ${be} is neither old nor new`);
        }
      }
      assert.equal(dump(store), dump(target));
    }
    coverage?.run(reached);
  };
}

for (const idBits of [27, 1]) {
  test(`write by write, each frontend is old or new (id hash bits: ${idBits})`, () => {
    check(fc.property(history(), checkEveryStep(idBits)), { numRuns: 150 });
  });
}

// The share of runs that must reach each change, per id hash bits; frontends that trade ids (which
// no order serves, see traders) are only counted.
const RESIZING_SHARES = (idBits: number): { [C in Change]: number } => ({
  'a table shrinks in place': 0.1, 'a table grows in place': 0.1, 'a frontend moves to another set': idBits === 1 ? 0.12 : 0.08,
  'a frontend joins the id another leaves': idBits === 1 ? 0.06 : 0.01,
  'a frontend with affinity joins a set that loses backends': idBits === 1 ? 0.05 : 0.01, 'frontends trade ids': 0,
});

for (const idBits of [27, 1]) {
  test(`write by write, each frontend is old or new while tables change size (id hash bits: ${idBits})`, () => {
    const coverage = new Coverage<Change>(`apply order while tables change size, at ${idBits} id bits`, RESIZING_SHARES(idBits));
    check(fc.property(resizingHistory(), checkEveryStep(idBits, coverage)), { numRuns: 150 });
    coverage.check();
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

const order = (steps: Step[]) => steps.map((s) => `${s.values ? '+' : '-'}${s.map.name}`);

test('the usual order: frontends out, sets in, frontends in, the rest out; one write per map and op', () => {
  const c = new Compiler({ node: 'n1' });
  c.batch(encodeRecords([svc('old', 1), slice('old-1', 'old', [1])]));
  const diff = c.batch(encodeRecords([gone(1, 'old'), gone(2, 'old-1'), svc('new', 2), slice('new-1', 'new', [2])]));
  assert.equal(order(planApply(diff, () => undefined).steps),
    ['-sl_svc', '+sl_be', '+sl_maglev', '+sl_svcname', '+sl_svc', '-sl_be', '-sl_maglev', '-sl_svcname']);
});

test('a table that shrinks in place: its frontend\'s slot count first, then the table, then its tail goes; one that grows: the table first', () => {
  const c = new Compiler({ node: 'n1' });
  const store = new MemoryStore();
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  store.apply(c.batch(encodeRecords([svc('x', 1), slice('x-1', 'x', upTo(33))]))); // a table: 6,421 slots in 101 chunks
  const shrink = c.batch(encodeRecords([slice('x-1', 'x', upTo(32))])); // no table: 32 ids in one chunk
  assert.equal(order(planApply(shrink, (k) => store.lookup('sl_svc', k)).steps), ['+sl_svc', '+sl_maglev', '-sl_be', '-sl_maglev']);
  store.apply(shrink);
  const grow = c.batch(encodeRecords([slice('x-1', 'x', upTo(33))]));
  assert.equal(order(planApply(grow, (k) => store.lookup('sl_svc', k)).steps), ['+sl_be', '+sl_maglev', '+sl_svc']);
  checkEveryStep(27)([[svc('x', 1), slice('x-1', 'x', upTo(33))], [slice('x-1', 'x', upTo(32))], [slice('x-1', 'x', upTo(33))]]);
});

test('a frontend with affinity joins a set once the backends the set loses have gone', () => {
  // externalTrafficPolicy Local to Cluster, as 10.244.0.2 (on n2) leaves: the LoadBalancer
  // frontend moves from the node-local set {10.244.0.1} to the cluster-wide one, {10.244.0.1,
  // 10.244.0.2} until now; through an sl_affinity entry it could reach 10.244.0.2 while that is there.
  const lb = (flags: number): Record => ({ kind: 1, namespace: 'a', name: 'x', op: 'upsert', body: {
    type: 2, flags: flags | 8, healthCheckNodePort: 0, affinityTimeout: 10800, created: 0, clusterIPs: [{ family: 4, bytes: Uint8Array.of(10, 96, 0, 1) }],
    externalIPs: [], loadBalancerIPs: [{ family: 4, bytes: Uint8Array.of(203, 0, 113, 1) }], sourceRanges: [],
    ports: [{ name: '', proto: 6, port: 80, nodePort: 0, targetPort: 8080, targetPortName: '' }] } });
  const eps = (n: number): Record => ({ kind: 2, namespace: 'a', name: 'x-1', op: 'upsert', body: {
    serviceName: 'x', addressType: 4, ports: [{ name: '', proto: 6, port: 8080 }],
    endpoints: Array.from({ length: n }, (_, i) => ({ address: { family: 4, bytes: Uint8Array.of(10, 244, 0, 1 + i) }, conditions: 3,
      nodeName: `n${1 + i}`, zone: '', forZones: [] })) } });
  const c = new Compiler({ node: 'n1' });
  const store = new MemoryStore();
  store.apply(c.batch(encodeRecords([lb(2), eps(2)])));
  const diff = c.batch(encodeRecords([lb(0), eps(1)]));
  const { steps } = planApply(diff, (k) => store.lookup('sl_svc', k));
  const lbIn = steps.findIndex((s) => s.values && s.map.name === 'sl_svc' && Array.from({ length: s.n }, (_, i) => s.keys[i * 8]).includes(203));
  const beOut = steps.findIndex((s) => !s.values && s.map.name === 'sl_be');
  assert.ok(beOut >= 0 && beOut < lbIn, `sl_be deletes (step ${beOut}) before the LoadBalancer frontend moves (step ${lbIn})`);
  checkEveryStep(27)([[lb(2), eps(2)], [lb(0), eps(1)]]);
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
