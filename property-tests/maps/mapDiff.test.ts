// backendsRemoved (runtime/maps/mapDiff.ts) decides whether an apply runs the
// stale socket sweep: the sl_be keys a diff deletes, counted here from the
// maps before and after instead (the keys that are gone). Its section test
// survived the sampled mutation run: only the kernel tests had used it; so
// did parseDiff's check that compiler.wasm and runtime/abi agree on a map's
// sizes, which only a diff altered by hand can fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { backendsRemoved, opCount, parseDiff } from '../../runtime/maps/mapDiff.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { ep, recordsFor, slice, svc } from '../model/kube.ts';

const web = (...ips: string[]) => recordsFor([svc('shop/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }),
  slice('shop/web-1', 'web', [{ name: 'http', port: 8080 }], ips.map((ip) => ep(ip)))]);

test('backendsRemoved: the sl_be keys a diff deletes, whatever else it deletes or writes', () => {
  const c = new Compiler({ node: 'n1' });
  const store = new MemoryStore();
  const keys = () => new Set(store.entries('sl_be').map(([k]) => Buffer.from(k).toString('hex')));
  const steps: [string, string[]][] = [
    ['three endpoints', ['10.244.0.1', '10.244.0.2', '10.244.0.3']],
    ['one gone', ['10.244.0.1', '10.244.0.3']],
    ['one added', ['10.244.0.1', '10.244.0.3', '10.244.0.4']],
    ['two gone, one added', ['10.244.0.5', '10.244.0.4']],
  ];
  const removed: number[] = [];
  for (const [what, ips] of steps) {
    const before = keys();
    const d = c.batch(encodeRecords(web(...ips)));
    store.apply(d);
    const after = keys();
    assert.ok(opCount(d) > 0, what);
    assert.is(backendsRemoved(d), [...before].filter((k) => !after.has(k)).length, what);
    removed.push(backendsRemoved(d));
  }
  assert.ok(removed.some((n) => n === 0) && removed.some((n) => n >= 2), `the steps removed ${removed}: none, and more than one, both tried`);
});

test('parseDiff: a section whose map id, key size or value size is not the ABI\'s is refused, naming the map', () => {
  const d = new Compiler({ node: 'n1' }).batch(encodeRecords(web('10.244.0.1')));
  const bytes = Uint8Array.from(d.bytes);
  assert.is(parseDiff(bytes).sections.length, d.sections.length, 'the diff as compiled reads back');
  // the first section's header, after the diff's 8 bytes: u32 map id, key size, value size, upserts, deletes (little endian)
  for (const [at, what] of [[8, 'map id'], [12, 'key size'], [16, 'value size']] as const) {
    const bad = Uint8Array.from(bytes);
    const v = new DataView(bad.buffer);
    v.setUint32(at, v.getUint32(at, true) + 100, true);
    const [id, ks, vs] = [8, 12, 16].map((o) => v.getUint32(o, true));
    assert.throws(() => parseDiff(bad), (e: Error) => e.message.includes(`disagree on map ${id} (key ${ks}, value ${vs})`), what);
  }
});

test.run();
