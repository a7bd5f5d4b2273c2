// A Service too big for its selection tables, yet valid in Kubernetes: 40
// ports and 5,000 endpoints (slices of 1,000, the most the API server puts in
// one). Its tables would take 4 million sl_maglev entries, and the compiler
// aborted asking its allocator for a diff of over 1 GiB. It must keep the
// ports whose tables fit in what one Service may take, reject the others by
// Service and field, keep the other Services, and move the maps between
// states exactly. Sizes are written from doc/datapath.md and doc/cli.md, not
// read from the compiler.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';

const ENTRY_SLOTS = 64; // slots per sl_maglev entry
const SERVICE_ENTRIES = 2 ** 20; // one Service's tables at most: sl_maglev's default size
const PORTS = 40;
const SLICE = 1000;

const isPrime = (p: number) => { for (let d = 2; d * d <= p; d++) if (p % d === 0) return false; return p >= 2; };
const firstPrime = (x: number) => { while (!isPrime(x)) x++; return x; };
/** Slots of a table of n backends, over 128: the first prime >= 800 x 2^k, for the least 2^k >= n. */
const bigTable = (n: number) => firstPrime(800 * 2 ** Math.ceil(Math.log2(n)));
const WEB_SLOTS = 3; // 3 backends: no table, their ids in one entry
const entries = (slots: number) => Math.ceil(slots / ENTRY_SLOTS);

function service(ns: string, name: string, vip: number[], ports: { name: string; port: number; targetPort: number }[]): Record {
  return {
    kind: R.KIND_SERVICE, namespace: ns, name, op: 'upsert',
    body: {
      type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0,
      clusterIPs: [{ family: 4, bytes: Uint8Array.from(vip) }], externalIPs: [], loadBalancerIPs: [], sourceRanges: [],
      ports: ports.map((p) => ({ ...p, proto: R.PROTO_TCP, nodePort: 0, targetPortName: '' })),
    },
  };
}

function slice(ns: string, svc: string, name: string, ports: { name: string; port: number }[], addrs: number[][]): Record {
  return {
    kind: R.KIND_ENDPOINT_SLICE, namespace: ns, name, op: 'upsert',
    body: {
      serviceName: svc, addressType: R.ADDR_IPV4, ports: ports.map((p) => ({ ...p, proto: R.PROTO_TCP })),
      endpoints: addrs.map((a) => ({ address: { family: 4, bytes: Uint8Array.from(a) }, conditions: R.COND_READY, nodeName: '', zone: '', forZones: [] })),
    },
  };
}

const gone = (kind: number, ns: string, name: string): Record => ({ kind, namespace: ns, name, op: 'delete' } as Record);

const HUGE_PORTS = Array.from({ length: PORTS }, (_, i) => ({ name: `p${i}`, port: 1000 + i, targetPort: 2000 + i }));
const huge = service('big', 'huge', [10, 96, 7, 7], HUGE_PORTS);
/** Slice s of the huge Service: endpoints 10.200.s.0/22-ish, 1,000 of them. */
const hugeSlice = (s: number) => slice('big', 'huge', `huge-${s}`, HUGE_PORTS.map((p) => ({ name: p.name, port: p.targetPort })),
  Array.from({ length: SLICE }, (_, e) => [10, 200 + s, e >> 8, e & 255]));
const web = [
  service('app', 'web', [10, 96, 0, 10], [{ name: 'http', port: 80, targetPort: 8080 }]),
  slice('app', 'web', 'web-1', [{ name: 'http', port: 8080 }], [[10, 244, 1, 1], [10, 244, 1, 2], [10, 244, 1, 3]]),
];

/** sl_svc by "vip:port": bset, slots and count (struct svc_val, little-endian host order). */
function frontends(store: MemoryStore): Map<string, { bset: number; slots: number; count: number }> {
  return new Map(store.entries('sl_svc').map(([k, v]) => {
    const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return [`${k.slice(0, 4).join('.')}:${(k[4] << 8) | k[5]}`, { bset: d.getUint32(0, true), slots: d.getUint32(4, true), count: d.getUint16(12, true) }];
  }));
}

/** Every entry of the maps a backend set's id keys (sl_be and sl_maglev: a big-endian bset first). */
function setEntries(store: MemoryStore, bset: number): string[] {
  return (['sl_be', 'sl_maglev'] as const).flatMap((m) => store.entries(m)
    .filter(([k]) => new DataView(k.buffer, k.byteOffset).getUint32(0) === bset)
    .map(([k, v]) => `${m} ${Buffer.from(k).toString('hex')} ${Buffer.from(v).toString('hex')}`));
}

/** One hash per map of everything the store holds. */
function digest(store: MemoryStore): { [map: string]: string } {
  const out: { [map: string]: string } = {};
  for (const m of ['sl_svc', 'sl_be', 'sl_maglev', 'sl_svcname'] as const) {
    const h = createHash('sha256');
    for (const [k, v] of store.entries(m)) h.update(k).update(v);
    out[m] = h.digest('hex');
  }
  return out;
}

test('a Service whose tables pass its limit keeps the ports that fit, the rest rejected by field; the maps follow it exactly', () => {
  const c = new Compiler({ node: 'node-0' });
  const store = new MemoryStore();
  const perPort = entries(bigTable(5 * SLICE));
  const kept = Math.floor(SERVICE_ENTRIES / perPort);
  assert.ok(kept > 0 && kept < PORTS, `the case passes the limit: ${kept} ports of ${perPort} entries fit`);
  const leftOut = Array.from({ length: PORTS - kept }, (_, i) => ({ object: 'Service big/huge', field: `spec.ports[${kept + i}]` }));

  store.apply(c.batch(encodeRecords([...web, huge, ...[0, 1, 2, 3, 4].map(hugeSlice)])));
  const problems = c.problems();
  assert.equal(problems.map(({ object, field }) => ({ object, field })), leftOut);
  assert.ok(problems.every((p) => /left out/.test(p.reason) && p.reason.includes(String(SERVICE_ENTRIES))), problems[0].reason);
  let fs = frontends(store);
  const webFront = fs.get('10.96.0.10:80')!;
  assert.equal({ slots: webFront.slots, count: webFront.count }, { slots: WEB_SLOTS, count: 3 }, 'the other Service compiles');
  for (const [i, p] of HUGE_PORTS.entries()) {
    const f = fs.get(`10.96.7.7:${p.port}`);
    if (i < kept) assert.equal(f && { slots: f.slots, count: f.count }, { slots: bigTable(5 * SLICE), count: 5 * SLICE }, `port ${p.port} kept`);
    else assert.is(f, undefined, `port ${p.port} left out`);
  }
  assert.is(store.entries('sl_maglev').length, entries(WEB_SLOTS) + kept * perPort);
  const webBefore = setEntries(store, webFront.bset);
  const whole = digest(store);

  // 1,000 endpoints: every port fits now.
  store.apply(c.batch(encodeRecords([1, 2, 3, 4].map((s) => gone(R.KIND_ENDPOINT_SLICE, 'big', `huge-${s}`)))));
  assert.equal(c.problems(), []);
  fs = frontends(store);
  for (const p of HUGE_PORTS) {
    const f = fs.get(`10.96.7.7:${p.port}`);
    assert.equal(f && { slots: f.slots, count: f.count }, { slots: bigTable(SLICE), count: SLICE }, `port ${p.port}`);
  }
  assert.is(store.entries('sl_maglev').length, entries(WEB_SLOTS) + PORTS * entries(bigTable(SLICE)));
  assert.equal(fs.get('10.96.0.10:80'), webFront, 'the other Service\'s frontend stays');
  assert.equal(setEntries(store, webFront.bset), webBefore, 'and its backends and table');

  // Back to 5,000: the same state as the first batch, so the same maps.
  store.apply(c.batch(encodeRecords([1, 2, 3, 4].map(hugeSlice))));
  assert.equal(c.problems().map(({ object, field }) => ({ object, field })), leftOut);
  assert.equal(digest(store), whole);
});

test.run();
