// Content-derived ids when a bucket is full (compiler/ids.ts): the names past
// rank 15 get no id and are reported, and no two names ever share one. An
// off-by-one in the rank bound (ids.ts, `i < MAX_RANK`) gave the 17th name
// the next bucket's first id and crashed compiler.wasm ("duplicate key in map")
// with 40 Services at one id hash bit; the suite did not notice (issue 15).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { ep, recordsFor as records, slice, svc } from '../model/kube.ts';

const RANKS = 16; // ids.ts: 4 rank bits

test('ids.ts rank bound: 40 Services at one id hash bit compile; those past rank 15 get no id, and say so', () => {
  const objects = Array.from({ length: 40 }, (_, i) => svc(`crowd/s${i}`, { clusterIP: `10.96.1.${i}`, ports: [{ port: 80 }] }));
  const c = new Compiler({ node: 'n1', idBits: 1 });
  const store = new MemoryStore();
  store.apply(c.batch(encodeRecords(records(objects))));
  const svcs = store.entries('sl_svc');
  assert.is(svcs.length, 40, 'every frontend is there, with or without backends');
  const ids = svcs.map(([, v]) => new DataView(v.buffer, v.byteOffset).getUint32(0, true)).filter((id) => id !== 0);
  assert.is(new Set(ids).size, ids.length, 'no two backend sets share an id');
  assert.ok(ids.length <= 2 * RANKS, `${ids.length} ids from 2 buckets of ${RANKS}`);
  const noId = c.problems().filter((p) => /got no id/.test(p.reason));
  assert.is(noId.length + ids.length, 40, 'each set has an id or a problem that says it has none');
  assert.ok(noId.length >= 40 - 2 * RANKS);
  assert.equal(store.entries('sl_svcname').length, ids.length, 'only sets with an id are named');
});

test('ids.ts rank bound: at 16 names a bucket is full but nobody is left out; the 17th is', () => {
  // Services in one namespace whose single backend set lands in bucket 0 at one hash bit, found by compiling.
  const bucketOf = (i: number) => {
    const c = new Compiler({ node: 'n1', idBits: 1 });
    const s = new MemoryStore();
    s.apply(c.batch(encodeRecords(records([svc(`crowd/s${i}`, { clusterIP: '10.96.1.1', ports: [{ port: 80 }] })]))));
    return (new DataView(s.entries('sl_svc')[0][1].buffer, s.entries('sl_svc')[0][1].byteOffset).getUint32(0, true) & ~(RANKS - 1)) >>> 0;
  };
  const first = bucketOf(0);
  const same = Array.from({ length: 200 }, (_, i) => i).filter((i) => bucketOf(i) === first).slice(0, RANKS + 1);
  assert.is(same.length, RANKS + 1, 'enough names in one bucket');
  const compile = (n: number) => {
    const c = new Compiler({ node: 'n1', idBits: 1 });
    const s = new MemoryStore();
    s.apply(c.batch(encodeRecords(records(same.slice(0, n).map((i) => svc(`crowd/s${i}`, { clusterIP: `10.96.2.${i}`, ports: [{ port: 80 }] }))))));
    return { ids: s.entries('sl_svc').map(([, v]) => new DataView(v.buffer, v.byteOffset).getUint32(0, true)), problems: c.problems() };
  };
  const full = compile(RANKS);
  assert.equal(full.ids.map((id) => id - first).sort((a, b) => a - b), [...Array(RANKS).keys()], 'ranks 0-15 of the bucket');
  assert.equal(full.problems, []);
  const over = compile(RANKS + 1);
  assert.equal(over.ids.filter((id) => id === 0).length, 1, 'one set without an id');
  assert.equal(over.problems.map((p) => /got no id/.test(p.reason)), [true]);
});

/** sl_be as (set id, backend id, "ip:port"), and sl_svc's set ids, from a compile at one id hash bit. */
function compileAt1Bit(batches: object[][]) {
  const c = new Compiler({ node: 'n1', idBits: 1 });
  const store = new MemoryStore();
  for (const b of batches) store.apply(c.batch(encodeRecords(records(b))));
  const be = store.entries('sl_be').map(([k, v]) => {
    const dk = new DataView(k.buffer, k.byteOffset), dv = new DataView(v.buffer, v.byteOffset);
    return { set: dk.getUint32(0, false), id: dk.getUint32(4, false), addr: [...v.subarray(0, 4)].join('.') + ':' + dv.getUint16(4, false),
      order: dv.getUint32(0, false) * 65536 + dv.getUint16(4, false) };
  });
  const sets = store.entries('sl_svc').map(([, v]) => new DataView(v.buffer, v.byteOffset).getUint32(0, true));
  return { be, sets, problems: c.problems(), dump: store.entries('sl_svc').map(([k, v]) => Buffer.concat([k, v]).toString('hex')) };
}

test('ids.ts backend ids: in each bucket the ranks run 0, 1, ... in address order; past rank 15 left out, and counted', () => {
  const eps = Array.from({ length: 40 }, (_, i) => ep(`10.244.3.${i + 1}`));
  const { be, problems } = compileAt1Bit([[svc('crowd/web', { clusterIP: '10.96.3.1', ports: [{ name: 'http', port: 80 }] }),
    slice('crowd/web-1', 'web', [{ name: 'http', port: 8080 }], eps)]]);
  const buckets = Map.groupBy(be, (b) => (b.id & ~(RANKS - 1)) >>> 0);
  assert.ok(buckets.size <= 2, 'two buckets at one bit');
  for (const [bucket, bs] of buckets) {
    const byId = [...bs].sort((a, b) => a.id - b.id);
    assert.equal(byId.map((b) => b.id - bucket), [...byId.keys()], 'ranks 0, 1, ... with none skipped');
    assert.equal(byId.map((b) => b.order), [...byId.map((b) => b.order)].sort((a, b) => a - b), 'rank follows the address');
  }
  const left = problems.map((p) => /(\d+) backends left out/.exec(p.reason)).filter((m) => m !== null).map((m) => Number(m![1]));
  assert.is(be.length + left.reduce((a, b) => a + b, 0), 40, 'each backend has an id or is counted as left out');
  assert.ok(be.length <= 2 * RANKS && left.length === 1, `${be.length} kept, left out: ${left}`);
  assert.ok([...buckets.values()].some((bs) => bs.length === RANKS), 'the bucket that left some out is full');
});

test('ids.ts: a name that an earlier-sorting newcomer pushes past rank 15 loses its id, as in a fresh compile', () => {
  const service = (i: number) => svc(`crowd/s${String(i).padStart(3, '0')}`, { clusterIP: `10.96.4.${i}`, ports: [{ port: 80 }] });
  const all = Array.from({ length: 60 }, (_, i) => service(i + 1));
  // 59 Services, then the 60th, whose name sorts first, in a second batch; against all 60 at once
  const grown = compileAt1Bit([all.slice(1), [service(0)]]);
  const fresh = compileAt1Bit([[service(0), ...all.slice(1)]]);
  assert.equal(grown.dump, fresh.dump, 'incremental = fresh');
  const ids = grown.sets.filter((id) => id !== 0);
  assert.is(new Set(ids).size, ids.length, 'no two sets share an id');
  assert.is(grown.sets.length - ids.length, grown.problems.filter((p) => /got no id/.test(p.reason)).length);
});

test('ids.ts: id hash bits outside 1-27 are refused', () => {
  for (const idBits of [0, 28]) assert.throws(() => new Compiler({ node: 'n1', idBits }), /id hash bits must be 1\.\.27/, String(idBits));
});

test.run();
