// The raw map entries of small services, decoded by hand with the offsets and
// byte orders bpf/include/sluice_abi.h documents (not through the generated
// layouts), so a wrong byte order or a stray field shows up here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObjects } from '../../runtime/cli/compile.ts';
import { layoutOf, type MapStore } from '../../runtime/maps/store.ts';
import { ep, lbStatus, node, slice, svc, type Json } from '../model/kube.ts';

// From sluice_abi.h, by hand.
const TCP = 6, UDP = 17, SCTP = 132;
const SCOPE_ALL = 0, SCOPE_INTERNAL = 1;
const KIND_CLUSTER_IP = 0, KIND_NODE_PORT = 1, KIND_LOAD_BALANCER = 3;
const SVC_LOCAL = 1, SVC_AFFINITY = 2, SVC_SRC_RANGES = 4, SVC_HAS_INTERNAL = 8;
const BE_LOCAL = 1, BE_TERMINATING = 2;
const CHUNK = 64;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const ipAt = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

interface Svc { vip: string; port: number; proto: number; scope: number; bset: number; slots: number; affinity: number; count: number; kind: number; flags: number }
interface Be { bset: number; id: number; ip: string; port: number; flags: number; pad: number }

/** sl_svc: key { __be32 vip; __be16 port; u8 proto; u8 scope } value { u32 bset, slots, affinity; u16 count; u8 kind, flags } */
function svcs(store: MapStore): Svc[] {
  return store.entries('sl_svc').map(([k, v]) => ({
    vip: ipAt(k, 0), port: view(k).getUint16(4, false), proto: k[6], scope: k[7],
    bset: view(v).getUint32(0, true), slots: view(v).getUint32(4, true), affinity: view(v).getUint32(8, true),
    count: view(v).getUint16(12, true), kind: v[14], flags: v[15],
  }));
}

/** sl_be: key { __be32 bset; __be32 id } value { __be32 ip; __be16 port; u8 flags; u8 pad } */
function bes(store: MapStore): Be[] {
  return store.entries('sl_be').map(([k, v]) => ({
    bset: view(k).getUint32(0, false), id: view(k).getUint32(4, false),
    ip: ipAt(v, 0), port: view(v).getUint16(4, false), flags: v[6], pad: v[7],
  }));
}

/** sl_maglev: key { __be32 bset; __be32 chunk } value { u32 id[64] }, as (bset, chunk, ids). */
function chunks(store: MapStore): { bset: number; chunk: number; ids: number[] }[] {
  return store.entries('sl_maglev').map(([k, v]) => ({
    bset: view(k).getUint32(0, false), chunk: view(k).getUint32(4, false),
    ids: Array.from({ length: CHUNK }, (_, i) => view(v).getUint32(4 * i, true)),
  }));
}

/** The whole selection table of one backend set: slot i -> backend id. */
function table(store: MapStore, bset: number): number[] {
  const mine = chunks(store).filter((c) => c.bset === bset);
  assert.equal(mine.map((c) => c.chunk), [...mine.keys()], 'chunks 0, 1, 2, ... in key order');
  return mine.flatMap((c) => c.ids);
}

const storeOf = (objects: unknown[], nodeName = 'n1') => compileObjects(objects, nodeName)[0].store;

/** One ClusterIP service shop/web on 10.96.0.10:443 with n endpoints at port 8443; the first runs on n1. */
function web(n: number, spec: Json = {}, status?: Json): unknown[] {
  const ips = Array.from({ length: n }, (_, i) => `10.244.${1 + (i >> 8)}.${i & 255}`);
  return [
    node('n1', '192.168.1.10'),
    svc('shop/web', { clusterIP: '10.96.0.10', ports: [{ name: 'https', port: 443, targetPort: 8443 }], ...spec }, status),
    slice('shop/web-1', 'web', [{ name: 'https', port: 8443 }], ips.map((ip, i) => ep(ip, i === 0 ? 'n1' : 'n2'))),
  ];
}

const isPrime = (p: number) => { for (let d = 2; d * d <= p; d++) if (p % d === 0) return false; return p >= 2; };
/** svc_val.slots up to 128 backends: n for a set of at most 32 (no table), then the
 * ladder: the first prime >= 100 x 2^k, for the least 2^k >= n. */
function ladder(n: number): number {
  if (n <= 32) return n;
  let k = 0;
  while (2 ** k < n) k++;
  let p = 100 * 2 ** k;
  while (!isPrime(p)) p++;
  return p;
}

test('the decoders read the struct sizes the header has', () => {
  assert.equal((['sl_svc', 'sl_be', 'sl_maglev', 'sl_srcrange', 'sl_svcname'] as const).map((m) => [layoutOf(m).key.size, layoutOf(m).value.size]),
    [[8, 16], [8, 8], [8, 256], [16, 4], [4, 128]]);
});

test('svc_key: vip in network order, port big-endian, protocol number, scope 0', () => {
  const store = storeOf([svc('shop/p', { clusterIP: '10.96.1.2', ports: [
    { name: 'a', port: 443, protocol: 'TCP' }, { name: 'b', port: 53, protocol: 'UDP' }, { name: 'c', port: 0x1234, protocol: 'SCTP' },
  ] })]);
  assert.equal(store.entries('sl_svc').map(([k]) => [...k]), [ // key-byte order
    [10, 96, 1, 2, 0x00, 0x35, UDP, SCOPE_ALL],
    [10, 96, 1, 2, 0x01, 0xbb, TCP, SCOPE_ALL],
    [10, 96, 1, 2, 0x12, 0x34, SCTP, SCOPE_ALL],
  ]);
});

test('svc_val: count, slots, kind and flags of a plain ClusterIP; bset names the sl_be, sl_maglev and sl_svcname entries', () => {
  const store = storeOf(web(3));
  const [s] = svcs(store);
  assert.equal(svcs(store), [{ ...s, vip: '10.96.0.10', port: 443, proto: TCP, scope: SCOPE_ALL, slots: 3, affinity: 0, count: 3, kind: KIND_CLUSTER_IP, flags: 0 }]);
  assert.ok(s.bset !== 0, 'a backend set id is never 0');
  assert.equal(new Set(bes(store).map((b) => b.bset)), new Set([s.bset]));
  assert.equal(new Set(chunks(store).map((c) => c.bset)), new Set([s.bset]));
  const names = store.entries('sl_svcname');
  assert.is(names.length, 1);
  assert.is(view(names[0][0]).getUint32(0, false), s.bset);
  const name = names[0][1];
  assert.is(new TextDecoder().decode(name.subarray(0, 8)), 'shop/web');
  assert.ok(name.subarray(8).every((b) => b === 0), 'NUL padded');
});

test('sl_be: one entry per backend, address and port in network order, LOCAL for this node\'s endpoint, distinct non-zero ids', () => {
  const store = storeOf(web(3));
  const got = bes(store);
  assert.equal(got.map(({ ip, port, flags, pad }) => ({ ip, port, flags, pad })).sort((a, b) => a.ip.localeCompare(b.ip)), [
    { ip: '10.244.1.0', port: 8443, flags: BE_LOCAL, pad: 0 },
    { ip: '10.244.1.1', port: 8443, flags: 0, pad: 0 },
    { ip: '10.244.1.2', port: 8443, flags: 0, pad: 0 },
  ]);
  assert.is(new Set(got.map((b) => b.id)).size, 3);
  assert.ok(got.every((b) => b.id !== 0));
  const raw = store.entries('sl_be').find(([, v]) => v[3] === 0)![1]; // 10.244.1.0
  assert.equal([...raw], [10, 244, 1, 0, 0x20, 0xfb, BE_LOCAL, 0]);
});

test('sl_be: TERMINATING marks backends chosen only because nothing was ready', () => {
  const objects = [
    svc('shop/t', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }),
    slice('shop/t-1', 't', [{ port: 80 }], [ep('10.244.1.1', 'n2', { ready: false, serving: true, terminating: true })]),
  ];
  assert.equal(bes(storeOf(objects)).map((b) => b.flags), [BE_TERMINATING]);
});

test('slots: the backend count up to 32, then the ladder: 6421, 12809 (first prime >= 100 x 2^k, 2^k >= backends)', () => {
  const hand: [n: number, slots: number][] = [[0, 0], [1, 1], [2, 2], [3, 3], [5, 5], [32, 32], [33, 6421], [64, 6421], [65, 12809]];
  for (const [n, slots] of hand) assert.is(ladder(n), slots, `ladder helper at ${n}`);
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33, 64, 100, 128]) {
    const s = svcs(storeOf(web(n)));
    assert.equal(s.map((x) => [x.count, x.slots]), [[n, ladder(n)]], `${n} backends`);
  }
});

test('no backend: count 0, slots 0, and no selection table', () => {
  const store = storeOf(web(0));
  assert.equal(svcs(store).map((s) => [s.count, s.slots]), [[0, 0]]);
  assert.equal(store.entries('sl_be').length + store.entries('sl_maglev').length, 0);
});

for (const n of [1, 2, 3, 5, 13, 32]) {
  test(`no table, ${n} backends: one chunk holding each of the set's ids once, zero after them`, () => {
    const store = storeOf(web(n));
    const [s] = svcs(store);
    const t = table(store, s.bset);
    assert.is(t.length, CHUNK, 'one chunk');
    assert.equal(t.slice(0, n).sort((a, b) => a - b), bes(store).map((b) => b.id).sort((a, b) => a - b), 'the ids of sl_be, once each');
    assert.ok(t.slice(n).every((id) => id === 0), 'zero after them');
  });
}

for (const n of [33, 40, 64, 100, 128]) {
  test(`selection table, ${n} backends: only the set's ids, zero past the last slot, each backend near its share`, () => {
    const store = storeOf(web(n));
    const [s] = svcs(store);
    const ids = bes(store).map((b) => b.id);
    const t = table(store, s.bset);
    assert.is(t.length, Math.ceil(s.slots / CHUNK) * CHUNK, 'ceil(slots / 64) chunks');
    assert.ok(t.slice(s.slots).every((id) => id === 0), 'zero past the last slot');
    const owned = new Map(ids.map((id) => [id, 0]));
    for (const id of t.slice(0, s.slots)) {
      assert.ok(owned.has(id), `slot names id ${id.toString(16)}, not a backend of the set`);
      owned.set(id, owned.get(id)! + 1);
    }
    // The fill caps each backend at 1.1 x its share; it promises no floor (see compiler/maglev.ts).
    const hi = Math.ceil(1.1 * s.slots / n);
    for (const [id, c] of owned) assert.ok(c > 0 && c <= hi, `backend ${id.toString(16)} owns ${c} of ${s.slots} slots, not in [1, ${hi}]`);
  });
}

test('externalTrafficPolicy Local: the SCOPE_ALL entry has LOCAL|HAS_INTERNAL and the local set; its SCOPE_INTERNAL twin has every backend', () => {
  const store = storeOf(web(3, { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'https', port: 443, nodePort: 30443 }] }));
  const np = svcs(store).filter((s) => s.kind === KIND_NODE_PORT);
  assert.equal(np.map(({ vip, port, proto, scope, flags, count, slots }) => ({ vip, port, proto, scope, flags, count, slots })), [
    { vip: '192.168.1.10', port: 30443, proto: TCP, scope: SCOPE_ALL, flags: SVC_LOCAL | SVC_HAS_INTERNAL, count: 1, slots: 1 },
    { vip: '192.168.1.10', port: 30443, proto: TCP, scope: SCOPE_INTERNAL, flags: 0, count: 3, slots: 3 },
  ]);
  const cip = svcs(store).filter((s) => s.kind === KIND_CLUSTER_IP);
  assert.equal(cip.map((s) => [s.flags, s.count, s.bset]), [[0, 3, np[1].bset]], 'the ClusterIP shares the cluster-wide set');
  assert.equal(bes(store).filter((b) => b.bset === np[0].bset).map((b) => [b.ip, b.flags]), [['10.244.1.0', BE_LOCAL]]);
  assert.equal(table(store, np[0].bset).slice(0, 1), Array(1).fill(bes(store).find((b) => b.bset === np[0].bset)!.id));
});

test('affinity: the timeout in svc_val.affinity with the AFFINITY flag', () => {
  const store = storeOf(web(1, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }));
  assert.equal(svcs(store).map((s) => [s.flags, s.affinity]), [[SVC_AFFINITY, 600]]);
});

test('sl_srcrange: an LPM key per LoadBalancer frontend and range; prefixlen host order, 64 + the client prefix', () => {
  const store = storeOf(web(1, { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.0.2.0/24', '10.0.0.0/8'] }, lbStatus('203.0.113.5')));
  const lb = svcs(store).filter((s) => s.kind === KIND_LOAD_BALANCER);
  assert.equal(lb.map((s) => [s.vip, s.flags]), [['203.0.113.5', SVC_SRC_RANGES]]);
  assert.equal(svcs(store).filter((s) => s.kind !== KIND_LOAD_BALANCER).map((s) => s.flags), [0]);
  const keys = store.entries('sl_srcrange').map(([k, v]) => {
    assert.equal([...v], [1, 0, 0, 0], 'allow = 1');
    return [...k];
  }).sort((a, b) => a[0] - b[0]);
  assert.equal(keys, [
    [72, 0, 0, 0, 203, 0, 113, 5, 0x01, 0xbb, TCP, 0, 10, 0, 0, 0],
    [88, 0, 0, 0, 203, 0, 113, 5, 0x01, 0xbb, TCP, 0, 192, 0, 2, 0],
  ]);
});

test.run();
