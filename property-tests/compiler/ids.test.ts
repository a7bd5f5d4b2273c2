// Content-derived ids when a bucket is full (compiler/ids.ts): the names past
// rank 15 get no id and are reported, and no two names ever share one. An
// off-by-one in the rank bound (ids.ts, `i < MAX_RANK`) gave the 17th name
// the next bucket's first id and crashed compiler.wasm ("duplicate key in map")
// with 40 Services at one id hash bit; the suite did not notice (issue 15).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeAll } from '../../runtime/encode/normalizeAll.ts';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { svc } from '../model/kube.ts';

const RANKS = 16; // ids.ts: 4 rank bits

test('ids.ts rank bound: 40 Services at one id hash bit compile; those past rank 15 get no id, and say so', () => {
  const objects = Array.from({ length: 40 }, (_, i) => svc(`crowd/s${i}`, { clusterIP: `10.96.1.${i}`, ports: [{ port: 80 }] }));
  const c = new Compiler({ node: 'n1', idBits: 1 });
  const store = new MemoryStore();
  store.apply(c.batch(encodeRecords(normalizeAll(objects).records)));
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
    s.apply(c.batch(encodeRecords(normalizeAll([svc(`crowd/s${i}`, { clusterIP: '10.96.1.1', ports: [{ port: 80 }] })]).records)));
    return (new DataView(s.entries('sl_svc')[0][1].buffer, s.entries('sl_svc')[0][1].byteOffset).getUint32(0, true) & ~(RANKS - 1)) >>> 0;
  };
  const first = bucketOf(0);
  const same = Array.from({ length: 200 }, (_, i) => i).filter((i) => bucketOf(i) === first).slice(0, RANKS + 1);
  assert.is(same.length, RANKS + 1, 'enough names in one bucket');
  const compile = (n: number) => {
    const c = new Compiler({ node: 'n1', idBits: 1 });
    const s = new MemoryStore();
    s.apply(c.batch(encodeRecords(normalizeAll(same.slice(0, n).map((i) => svc(`crowd/s${i}`, { clusterIP: `10.96.2.${i}`, ports: [{ port: 80 }] }))).records)));
    return { ids: s.entries('sl_svc').map(([, v]) => new DataView(v.buffer, v.byteOffset).getUint32(0, true)), problems: c.problems() };
  };
  const full = compile(RANKS);
  assert.equal(full.ids.map((id) => id - first).sort((a, b) => a - b), [...Array(RANKS).keys()], 'ranks 0-15 of the bucket');
  assert.equal(full.problems, []);
  const over = compile(RANKS + 1);
  assert.equal(over.ids.filter((id) => id === 0).length, 1, 'one set without an id');
  assert.equal(over.problems.map((p) => /got no id/.test(p.reason)), [true]);
});

test.run();
