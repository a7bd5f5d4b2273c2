// normalize() on Nodes, Pods, Namespaces, other kinds and non-objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { isIgnored, normalize, objectName } from '../../runtime/encode/records.ts';

const ip4 = (a: number, b: number, c: number, d: number) => ({ family: 4, bytes: Uint8Array.of(a, b, c, d) });

test('objectName', () => {
  assert.is(objectName('Service', 'default', 'web'), 'Service default/web');
  assert.is(objectName('Node', '', 'n1'), 'Node n1');
});

test('a Node: internal and external addresses, pod CIDRs, sorted labels', () => {
  const n = normalize({
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-a', 'kubernetes.io/hostname': 'node-a' } },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] },
    status: { addresses: [
      { type: 'Hostname', address: 'node-a' },
      { type: 'InternalIP', address: '192.168.50.10' },
      { type: 'ExternalIP', address: '203.0.113.50' },
      { type: 'InternalDNS', address: 'node-a.cluster.internal' },
    ] },
  });
  assert.equal(n.record, {
    kind: R.KIND_NODE, namespace: '', name: 'node-a', op: 'upsert',
    body: {
      addresses: [{ type: R.NODE_ADDR_INTERNAL, ip: ip4(192, 168, 50, 10) }, { type: R.NODE_ADDR_EXTERNAL, ip: ip4(203, 0, 113, 50) }],
      podCIDRs: [{ ip: ip4(10, 244, 1, 0), prefix: 24 }],
      labels: [['kubernetes.io/hostname', 'node-a'], ['topology.kubernetes.io/zone', 'zone-a']],
    },
  });
  assert.equal(n.notes, [{ object: 'Node node-a', field: 'spec.podCIDRs[1]', note: 'IPv6 is not supported yet; fd00:1::/64 skipped' }]);
});

test('Node: podCIDR is the fallback; bad addresses reject', () => {
  const n = normalize({ kind: 'Node', metadata: { name: 'n1', namespace: 'ignored' }, spec: { podCIDR: '10.244.2.0/24' } });
  assert.equal((n.record!.body as { podCIDRs: unknown }).podCIDRs, [{ ip: ip4(10, 244, 2, 0), prefix: 24 }]);
  assert.is(n.record!.namespace, '', 'cluster-scoped');
  const bad = normalize({ kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.50' }] } });
  assert.equal(bad.rejected, [{ object: 'Node n1', field: 'status.addresses[0].address', reason: '"192.168.50" is not an IP address' }]);
  const cidr = normalize({ kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDRs: ['10.244.2.1/24'] } });
  assert.equal(cidr.rejected, [{ object: 'Node n1', field: 'spec.podCIDRs[0]', reason: '"10.244.2.1/24" has host bits set; the network is 10.244.2.0/24' }]);
});

test('a Pod: node, flags, IPs, labels and the ports of every container', () => {
  const n = normalize({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { tier: 'front', app: 'web' } },
    spec: { nodeName: 'node-a', containers: [
      { name: 'web', ports: [{ containerPort: 8080, name: 'http' }] },
      { name: 'dns', ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }, { containerPort: 9153 }] },
      { name: 'sidecar' },
    ] },
    status: { phase: 'Running', podIP: '10.244.1.11', podIPs: [{ ip: '10.244.1.11' }, { ip: 'fd00::11' }] },
  });
  assert.equal(n.record, {
    kind: R.KIND_POD, namespace: 'shop', name: 'web-1', op: 'upsert',
    body: {
      nodeName: 'node-a', flags: 0, podIPs: [ip4(10, 244, 1, 11)], labels: [['app', 'web'], ['tier', 'front']],
      ports: [
        { name: 'http', proto: R.PROTO_TCP, port: 8080 },
        { name: 'dns', proto: R.PROTO_UDP, port: 53 },
        { name: '', proto: R.PROTO_TCP, port: 9153 },
      ],
    },
  });
  assert.equal(n.notes.map((x) => x.field), ['status.podIPs[1].ip']);
});

test('Pod flags and fallbacks', () => {
  const pod = (spec: object, status: object) => normalize({ kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec, status });
  const flags = (spec: object, status: object) => (pod(spec, status).record!.body as { flags: number }).flags;
  assert.is(flags({ hostNetwork: true }, { phase: 'Running' }), R.PODF_HOST_NETWORK);
  assert.is(flags({}, { phase: 'Succeeded' }), R.PODF_TERMINAL);
  assert.is(flags({}, { phase: 'Failed' }), R.PODF_TERMINAL);
  assert.is(flags({}, { phase: 'Pending' }), 0);
  assert.equal((pod({}, { podIP: '10.244.1.5' }).record!.body as { podIPs: unknown }).podIPs, [ip4(10, 244, 1, 5)]);
  assert.equal(pod({}, { phase: 'Done' }).rejected, [{ object: 'Pod ns/p', field: 'status.phase', reason: '"Done" is not one of Pending, Running, Succeeded, Failed, Unknown' }]);
  assert.equal(pod({ containers: [{ ports: [{ containerPort: 0 }] }] }, {}).rejected,
    [{ object: 'Pod ns/p', field: 'spec.containers[0].ports[0].containerPort', reason: '0 is out of range 1-65535' }]);
  assert.equal(pod({ containers: [{}, { ports: [{ containerPort: 80, name: 'way-too-long-name' }] }] }, {}).rejected,
    [{ object: 'Pod ns/p', field: 'spec.containers[1].ports[0].name', reason: '"way-too-long-name" is not a valid port name' }]);
  assert.equal(pod({}, { podIPs: [{ ip: 'x' }] }).rejected, [{ object: 'Pod ns/p', field: 'status.podIPs[0].ip', reason: '"x" is not an IP address' }]);
});

test('a Namespace: its labels', () => {
  const n = normalize({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a', 'kubernetes.io/metadata.name': 'shop' } } });
  assert.equal(n.record, {
    kind: R.KIND_NAMESPACE, namespace: '', name: 'shop', op: 'upsert',
    body: { labels: [['kubernetes.io/metadata.name', 'shop'], ['team', 'a']] },
  });
  assert.is(n.object, 'Namespace shop');
});

test('other kinds are ignored, neither recorded nor rejected', () => {
  for (const obj of [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'shop' } },
    { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { template: {} } },
  ]) {
    const n = normalize(obj);
    assert.equal([n.record, n.rejected, n.notes], [undefined, [], []], obj.kind);
    assert.ok(isIgnored(obj), obj.kind);
  }
  assert.not.ok(isIgnored({ kind: 'Service', metadata: { name: 'x' } }));
  assert.not.ok(isIgnored({ metadata: { name: 'x' } }), 'no kind: not ignorable, it is rejected');
});

test('things that are not Kubernetes objects are rejected', () => {
  assert.equal(normalize('web').rejected, [{ object: 'Object ?', field: '', reason: '"web" is not a Kubernetes object' }]);
  assert.equal(normalize([]).rejected, [{ object: 'Object ?', field: '', reason: 'a list is not a Kubernetes object' }]);
  assert.equal(normalize({ metadata: { name: 'x' } }).rejected, [{ object: 'Object x', field: 'kind', reason: 'missing' }]);
  assert.equal(normalize({ kind: 'Pod', metadata: 'x' }).rejected, [{ object: 'Pod default/?', field: 'metadata', reason: '"x" is not an object' }]);
});

test.run();
