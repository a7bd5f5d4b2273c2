// What the API server's validation refuses is rejected here too, naming the
// field: addresses no Service may use as a frontend or backend, and names
// that are not DNS labels or subdomains (pkg/apis/core/validation:
// ValidateEndpointIP for externalIPs and endpoint addresses, NameIsDNS1035Label
// for Services, NameIsDNSLabel for namespaces, NameIsDNSSubdomain for the
// others). Expected values come from those rules, not from sluice's output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { lbStatus, svc, viewFor } from '../model/kube.ts';

const rejectedAt = (obj: object) => normalize(obj).rejected.map((r) => `${r.object} ${r.field}`);
const accepted = (obj: object) => {
  const n = normalize(obj);
  assert.equal(n.rejected, [], JSON.stringify(obj));
  assert.ok(n.record, 'a record');
};

const slice = (addresses: string[], meta: object = {}) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { namespace: 'shop', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' }, ...meta },
  ports: [{ name: 'http', port: 8080 }], endpoints: addresses.map((a) => ({ addresses: [a] })),
});

// Never a destination: unspecified, loopback, broadcast, multicast (224.0.0.0/4).
const NO_SERVICE_ADDRESS = ['0.0.0.0', '127.0.0.1', '127.255.0.9', '255.255.255.255', '224.0.0.5', '239.255.255.250'];
const LINK_LOCAL = ['169.254.169.254', '169.254.0.1'];

test('frontends: ClusterIPs and LoadBalancer IPs may not be unspecified, loopback, broadcast or multicast', () => {
  for (const a of NO_SERVICE_ADDRESS) {
    assert.equal(rejectedAt(svc('shop/web', { clusterIP: a, ports: [{ port: 80 }] })), ['Service shop/web spec.clusterIP'], a);
    assert.equal(rejectedAt(svc('shop/web', { clusterIPs: ['10.96.0.5', a], ports: [{ port: 80 }] })), ['Service shop/web spec.clusterIPs[1]'], a);
    assert.equal(rejectedAt(svc('shop/web', { type: 'LoadBalancer', clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, lbStatus('203.0.113.5', a))),
      ['Service shop/web status.loadBalancer.ingress[1].ip'], a);
  }
  // The API server takes a link-local ClusterIP or LoadBalancer IP (its ServiceCIDR decides)
  for (const a of LINK_LOCAL) {
    accepted(svc('shop/web', { clusterIP: a, ports: [{ port: 80 }] }));
    accepted(svc('shop/web', { type: 'LoadBalancer', clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, lbStatus(a)));
  }
});

test('frontends: externalIPs follow ValidateEndpointIP, so link-local is refused too', () => {
  for (const a of [...NO_SERVICE_ADDRESS, ...LINK_LOCAL]) {
    assert.equal(rejectedAt(svc('shop/web', { clusterIP: '10.96.0.5', externalIPs: ['198.51.100.1', a], ports: [{ port: 80 }] })),
      ['Service shop/web spec.externalIPs[1]'], a);
  }
  const reason = normalize(svc('shop/web', { clusterIP: '10.96.0.5', externalIPs: ['127.0.0.1'], ports: [{ port: 80 }] })).rejected[0].reason;
  assert.match(reason, /"127\.0\.0\.1".*loopback/);
});

test('backends: every endpoint address follows ValidateEndpointIP', () => {
  for (const a of [...NO_SERVICE_ADDRESS, ...LINK_LOCAL]) {
    assert.equal(rejectedAt(slice(['10.244.1.5', a])), ['EndpointSlice shop/web-1 endpoints[1].addresses[0]'], a);
  }
  accepted(slice(['10.244.1.5', '192.168.1.10', '1.1.1.1', '223.255.255.255', '240.0.0.1']));
});

test('IPv6 has the same rules: ::, ::1, fe80::/10 (endpoints, externalIPs) and ff00::/8 are refused', () => {
  const v6 = (addresses: string[]) => ({ ...slice(addresses), addressType: 'IPv6' });
  for (const a of ['::', '::1', 'fe80::1', 'ff02::1', 'ff0e::1']) {
    assert.equal(rejectedAt(v6(['fd00::5', a])), ['EndpointSlice shop/web-1 endpoints[1].addresses[0]'], a);
    assert.equal(rejectedAt(svc('shop/web', { clusterIP: '10.96.0.5', externalIPs: [a], ports: [{ port: 80 }] })), ['Service shop/web spec.externalIPs[0]'], a);
  }
  assert.equal(normalize(v6(['fd00::5'])).rejected, [], 'a usable IPv6 slice is only noted');
});

const named = (kind: string, apiVersion: string, namespace: string | undefined, name: string, more: object = {}) =>
  ({ apiVersion, kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, ...more });
const long = (n: number) => 'a'.repeat(n);

test('names: a Service name is a DNS-1035 label; a namespace a DNS-1123 label', () => {
  const service = (ns: string, name: string) => named('Service', 'v1', ns, name, { spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } });
  for (const ok of ['web', 'a', 'web-2', long(63)]) accepted(service('shop', ok));
  for (const bad of ['a/b', 'Web', '2web', 'web-', 'web.v2', 'web_2', long(64), long(1 << 20)]) {
    assert.equal(rejectedAt(service('shop', bad)).map((r) => r.split(' ').at(-1)), ['metadata.name'], bad.slice(0, 20));
  }
  accepted(service('2shop', 'web'));
  for (const bad of ['a/b', 'Shop', 'shop-', 'shop.x', long(64)]) {
    assert.equal(rejectedAt(service(bad, 'web')).map((r) => r.split(' ').at(-1)), ['metadata.namespace'], bad);
  }
});

test('names: EndpointSlices, Pods and Nodes take DNS-1123 subdomains, Namespaces DNS-1123 labels', () => {
  accepted(slice(['10.244.1.5'], { name: 'web-1.v2' }));
  for (const bad of ['web/1', 'Web-1', '-web', 'web..1', long(254)]) {
    assert.equal(rejectedAt(slice(['10.244.1.5'], { name: bad })).map((r) => r.split(' ').at(-1)), ['metadata.name'], bad);
  }
  accepted(named('Node', 'v1', undefined, 'node-a.example.com'));
  assert.equal(rejectedAt(named('Node', 'v1', undefined, 'node/a')), ['Node node/a metadata.name']);
  accepted(named('Pod', 'v1', 'shop', 'web-7c5d9f8b6-a1.x'));
  assert.equal(rejectedAt(named('Pod', 'v1', 'shop', 'web_1')), ['Pod shop/web_1 metadata.name']);
  accepted(named('Namespace', 'v1', undefined, 'shop'));
  assert.equal(rejectedAt(named('Namespace', 'v1', undefined, 'shop.x')), ['Namespace shop.x metadata.name']);
});

test('names: the service a slice belongs to is a label value', () => {
  for (const bad of ['web/1', long(64), '-web']) {
    assert.equal(rejectedAt(slice(['10.244.1.5'], { labels: { 'kubernetes.io/service-name': bad } })),
      ['EndpointSlice shop/web-1 metadata.labels["kubernetes.io/service-name"]'], bad);
  }
});

test('names: two invalid names that would join to one identity are both rejected, neither compiled', () => {
  const a = named('Service', 'v1', 'x', 'a/b', { spec: { clusterIP: '10.96.9.1', ports: [{ port: 80 }] } });
  const b = named('Service', 'v1', 'x/a', 'b', { spec: { clusterIP: '10.96.9.2', ports: [{ port: 80 }] } });
  const view = viewFor([a, b], 'n1');
  assert.equal(view.rejected.map((r) => `${r.object} ${r.field}`).sort(), ['Service x/a/b metadata.name', 'Service x/a/b metadata.namespace']);
  assert.equal(view.frontends, []);
});

test.run();
