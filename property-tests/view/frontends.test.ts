// frontendsOf/viewOf read map contents built by hand, not by the compiler.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { frontendsOf, viewOf } from '../../runtime/view/frontends.ts';
import { mapImage, type Entry } from '../model/mapImage.ts';
import { parseU32 } from '../../runtime/encode/ipv4.ts';

const TCP = 6, UDP = 17;

function svc(vip: string, port: number, proto: number, value: { bset: number; kind: number; flags?: number; affinity?: number; count?: number }, scope = A.SL_SCOPE_ALL): Entry {
  return { map: 'sl_svc', key: { vip: parseU32(vip), port, proto, scope }, value: { slots: value.count ? 100 * value.count : 0, count: 0, flags: 0, ...value } };
}
const be = (bset: number, id: number, ip: string, port: number, flags = 0): Entry => ({ map: 'sl_be', key: { bset, id }, value: { ip: parseU32(ip), port, flags } });
const name = (bset: number, service: string): Entry => ({ map: 'sl_svcname', key: { bset }, value: { name: service } });
const range = (vip: string, port: number, proto: number, client: string, prefix: number): Entry =>
  ({ map: 'sl_srcrange', key: { prefixlen: 64 + prefix, vip: parseU32(vip), port, proto, client: parseU32(client) }, value: { allow: 1 } });

function store(entries: Entry[]): MemoryStore {
  const s = new MemoryStore();
  s.apply(mapImage(entries));
  return s;
}

const CLUSTER = [
  name(0x10, 'shop/web'), name(0x20, 'edge/ingress'), name(0x21, 'edge/ingress'), name(0x30, 'shop/api'),
  name(0x40, 'shop/cart'), name(0x50, 'kube-system/kube-dns'), name(0x60, 'shop/reports'),
  // ids deliberately out of address order: the view sorts by (ip, port)
  svc('10.96.10.10', 80, TCP, { bset: 0x10, kind: A.SL_KIND_CLUSTER_IP, count: 3, affinity: 99 }),
  be(0x10, 7, '10.244.2.13', 8080), be(0x10, 8, '10.244.1.11', 8080), be(0x10, 9, '10.244.2.12', 8080),
  // externalTrafficPolicy Local NodePort: the SCOPE_INTERNAL twin is not listed
  svc('192.168.50.10', 30080, TCP, { bset: 0x20, kind: A.SL_KIND_NODE_PORT, flags: A.SL_SVC_LOCAL | A.SL_SVC_HAS_INTERNAL, count: 1 }),
  svc('192.168.50.10', 30080, TCP, { bset: 0x21, kind: A.SL_KIND_NODE_PORT, count: 2 }, A.SL_SCOPE_INTERNAL),
  be(0x20, 1, '10.244.1.30', 8080, A.SL_BE_LOCAL), be(0x21, 1, '10.244.1.30', 8080), be(0x21, 2, '10.244.2.31', 8080),
  // LoadBalancer with source ranges; a range of another frontend must not leak in
  svc('203.0.113.10', 443, TCP, { bset: 0x30, kind: A.SL_KIND_LOAD_BALANCER, flags: A.SL_SVC_SRC_RANGES, count: 1 }),
  svc('10.96.30.30', 443, TCP, { bset: 0x30, kind: A.SL_KIND_CLUSTER_IP, count: 1 }),
  range('203.0.113.10', 443, TCP, '198.51.100.0', 24), range('203.0.113.10', 443, TCP, '192.0.2.0', 25),
  range('203.0.113.10', 80, TCP, '10.0.0.0', 8),
  be(0x30, 3, '10.244.1.40', 8443),
  svc('10.96.40.40', 7070, TCP, { bset: 0x40, kind: A.SL_KIND_CLUSTER_IP, flags: A.SL_SVC_AFFINITY, affinity: 3600, count: 1 }),
  be(0x40, 1, '10.244.1.50', 7070),
  // same ip and port, two protocols: TCP (6) before UDP (17); 10.96.0.9 before 10.96.0.10
  svc('10.96.0.10', 53, UDP, { bset: 0x50, kind: A.SL_KIND_CLUSTER_IP, count: 1 }),
  svc('10.96.0.10', 53, TCP, { bset: 0x50, kind: A.SL_KIND_CLUSTER_IP, count: 1 }),
  svc('10.96.0.9', 53, UDP, { bset: 0x50, kind: A.SL_KIND_CLUSTER_IP, count: 1 }),
  be(0x50, 1, '10.244.1.20', 53),
  svc('10.96.70.70', 80, TCP, { bset: 0x60, kind: A.SL_KIND_CLUSTER_IP, count: 0 }),
];

const fe = (service: string, type: string, ip: string, port: number, protocol: string, backends: [string, number][], more: object = {}) => ({
  service, type, ip, port, protocol, trafficPolicy: 'Cluster', backends: backends.map(([ip, port]) => ({ ip, port })),
  affinitySeconds: null, sourceRanges: null, ...more,
});

test('frontends: names, backends, policy, affinity and source ranges, in order', () => {
  assert.equal(frontendsOf(store(CLUSTER)), [
    fe('edge/ingress', 'NodePort', '192.168.50.10', 30080, 'TCP', [['10.244.1.30', 8080]], { trafficPolicy: 'Local' }),
    fe('kube-system/kube-dns', 'ClusterIP', '10.96.0.9', 53, 'UDP', [['10.244.1.20', 53]]),
    fe('kube-system/kube-dns', 'ClusterIP', '10.96.0.10', 53, 'TCP', [['10.244.1.20', 53]]),
    fe('kube-system/kube-dns', 'ClusterIP', '10.96.0.10', 53, 'UDP', [['10.244.1.20', 53]]),
    fe('shop/api', 'ClusterIP', '10.96.30.30', 443, 'TCP', [['10.244.1.40', 8443]]),
    fe('shop/api', 'LoadBalancer', '203.0.113.10', 443, 'TCP', [['10.244.1.40', 8443]], { sourceRanges: ['192.0.2.0/25', '198.51.100.0/24'] }),
    fe('shop/cart', 'ClusterIP', '10.96.40.40', 7070, 'TCP', [['10.244.1.50', 7070]], { affinitySeconds: 3600 }),
    fe('shop/reports', 'ClusterIP', '10.96.70.70', 80, 'TCP', []),
    fe('shop/web', 'ClusterIP', '10.96.10.10', 80, 'TCP', [['10.244.1.11', 8080], ['10.244.2.12', 8080], ['10.244.2.13', 8080]]),
  ]);
});

test('frontend types of one service sort ClusterIP < NodePort < ExternalIP < LoadBalancer', () => {
  const s = store([
    name(1, 'a/b'),
    svc('203.0.113.1', 80, TCP, { bset: 1, kind: A.SL_KIND_LOAD_BALANCER }),
    svc('198.51.100.1', 80, TCP, { bset: 1, kind: A.SL_KIND_EXTERNAL_IP }),
    svc('192.168.50.10', 30000, TCP, { bset: 1, kind: A.SL_KIND_NODE_PORT }),
    svc('10.96.0.1', 80, TCP, { bset: 1, kind: A.SL_KIND_CLUSTER_IP }),
  ]);
  assert.equal(frontendsOf(s).map((f) => f.type), ['ClusterIP', 'NodePort', 'ExternalIP', 'LoadBalancer']);
});

test('raw bytes, as the header lays them out', () => {
  const s = new MemoryStore();
  const section = (map: string, key: number[], value: number[]) => ({
    map: A.MAPS.find((m) => m.name === map)!, upsertKeys: Uint8Array.from(key), upsertValues: Uint8Array.from(value), deleteKeys: new Uint8Array(0),
  });
  s.apply({ bytes: new Uint8Array(0), sections: [
    // svc_key {vip be32 10.96.0.1, port be16 443, proto 6, scope 0} -> svc_val {bset 0x01020304, slots 100, affinity 60, count 1, kind 0, flags AFFINITY} (host order = LE)
    section('sl_svc', [10, 96, 0, 1, 0x01, 0xbb, 6, 0], [4, 3, 2, 1, 100, 0, 0, 0, 60, 0, 0, 0, 1, 0, 0, A.SL_SVC_AFFINITY]),
    // be_key {bset be32, id be32} -> be_val {ip be32 192.168.50.10, port be16 6443, flags, pad}
    section('sl_be', [1, 2, 3, 4, 0, 0, 0, 1], [192, 168, 50, 10, 0x19, 0x2b, 0, 0]),
    section('sl_svcname', [1, 2, 3, 4], [...new TextEncoder().encode('default/kubernetes'), ...new Array(128 - 18).fill(0)]),
  ] });
  assert.equal(frontendsOf(s), [fe('default/kubernetes', 'ClusterIP', '10.96.0.1', 443, 'TCP', [['192.168.50.10', 6443]], { affinitySeconds: 60 })]);
});

test('viewOf: the whole compile contract', () => {
  const rejected = [{ object: 'Service shop/bad', field: 'spec.ports[0].port', reason: '0 is out of range 1-65535' }];
  const notes = [{ object: 'Service shop/dual', field: 'spec.clusterIPs[1]', note: 'IPv6 is not supported yet; fd00::1 skipped' }];
  const s = store([name(1, 'a/b'), svc('10.96.0.1', 80, TCP, { bset: 1, kind: A.SL_KIND_CLUSTER_IP, count: 1 }), be(1, 1, '10.244.1.2', 8080)]);
  assert.equal(viewOf(s, { node: 'node-a', rejected, notes }), {
    node: 'node-a',
    frontends: [fe('a/b', 'ClusterIP', '10.96.0.1', 80, 'TCP', [['10.244.1.2', 8080]])],
    maps: {
      sl_svc: { entries: 1 }, sl_be: { entries: 1 }, sl_maglev: { entries: 0 }, sl_srcrange: { entries: 0 }, sl_svcname: { entries: 1 },
      sl_ipid: { entries: 0 }, sl_polcidr: { entries: 0 }, sl_pol: { entries: 0 }, sl_polname: { entries: 0 }, sl_polstate: { entries: 0 },
    },
    rejected,
    notes,
  });
  assert.equal(Object.keys(viewOf(new MemoryStore(), { node: null, rejected: [], notes: [] }).maps), ['sl_svc', 'sl_be', 'sl_maglev', 'sl_srcrange', 'sl_svcname', 'sl_ipid', 'sl_polcidr', 'sl_pol', 'sl_polname', 'sl_polstate'], 'every map, in id order');
});

test('10,000 services of 5 backends: backends grouped once, not scanned per frontend', () => {
  const entries: Entry[] = [];
  for (let i = 0; i < 10_000; i++) {
    const vip = `10.96.${i >> 8}.${i & 255}`;
    entries.push(name(i + 1, `ns/svc-${String(i).padStart(5, '0')}`), svc(vip, 80, TCP, { bset: i + 1, kind: A.SL_KIND_CLUSTER_IP, count: 5 }));
    for (let b = 0; b < 5; b++) entries.push(be(i + 1, b + 1, `10.${100 + b}.${i >> 8}.${i & 255}`, 8080));
  }
  const s = store(entries);
  const started = performance.now();
  const fes = frontendsOf(s);
  const ms = performance.now() - started;
  assert.is(fes.length, 10_000);
  assert.equal(fes[9999].backends.map((b) => b.ip), [100, 101, 102, 103, 104].map((n) => `10.${n}.39.15`));
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`); // a scan per frontend takes minutes; this leaves room for slow machines
});

test.run();
