// normalize() on EndpointSlices, read the way kube-proxy reads them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { normalize } from '../../runtime/encode/records.ts';
import type { SliceBody } from '../../runtime/encode/schema.ts';

const ip4 = (a: number, b: number, c: number, d: number) => ({ family: 4, bytes: Uint8Array.of(a, b, c, d) });
const OBJECT = 'EndpointSlice shop/web-abc';

function slice(fields: object, labels: object = { 'kubernetes.io/service-name': 'web' }): object {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'shop', labels }, addressType: 'IPv4', ...fields };
}

function body(obj: object): SliceBody {
  const n = normalize(obj);
  assert.equal(n.rejected, []);
  assert.ok(n.record, 'a record');
  return n.record!.body as SliceBody;
}

function rejects(obj: object, field: string, reason: string) {
  const n = normalize(obj);
  assert.equal(n.rejected, [{ object: OBJECT, field, reason }]);
  assert.is(n.record, undefined);
}

test('a slice as the endpointslice controller writes it', () => {
  const n = normalize(slice({
    endpoints: [
      { addresses: ['10.244.1.11'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a', zone: 'zone-a', hints: { forZones: [{ name: 'zone-a' }] } },
      { addresses: ['10.244.2.12'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'node-b', zone: 'zone-b' },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }));
  assert.equal(n.record, {
    kind: R.KIND_ENDPOINT_SLICE, namespace: 'shop', name: 'web-abc', op: 'upsert',
    body: {
      serviceName: 'web', addressType: R.ADDR_IPV4,
      ports: [{ name: 'http', proto: R.PROTO_TCP, port: 8080 }],
      endpoints: [
        { address: ip4(10, 244, 1, 11), conditions: R.COND_READY | R.COND_SERVING, nodeName: 'node-a', zone: 'zone-a', forZones: ['zone-a'] },
        { address: ip4(10, 244, 2, 12), conditions: R.COND_SERVING | R.COND_TERMINATING, nodeName: 'node-b', zone: 'zone-b', forZones: [] },
      ],
    },
  });
});

test('unset conditions: ready and serving are true, terminating false', () => {
  const b = body(slice({ endpoints: [
    { addresses: ['10.0.0.1'] },
    { addresses: ['10.0.0.2'], conditions: { ready: null, serving: null, terminating: null } },
    { addresses: ['10.0.0.3'], conditions: { ready: false } },
  ] }));
  assert.equal(b.endpoints.map((e) => e.conditions), [R.COND_READY | R.COND_SERVING, R.COND_READY | R.COND_SERVING, R.COND_SERVING]);
  assert.equal([b.endpoints[0].nodeName, b.endpoints[0].zone], ['', ''], 'absent nodeName and zone are empty');
});

test('port defaults; a port with a null number is left out', () => {
  const b = body(slice({ ports: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 8080 }, { name: 'all', port: null }] }));
  assert.equal(b.ports, [{ name: 'dns', proto: R.PROTO_UDP, port: 53 }, { name: '', proto: R.PROTO_TCP, port: 8080 }]);
  assert.equal(body(slice({ ports: null, endpoints: null })), { serviceName: 'web', addressType: R.ADDR_IPV4, ports: [], endpoints: [] });
});

test('the first address is the endpoint; every address is checked', () => {
  assert.equal(body(slice({ endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'] }] })).endpoints[0].address, ip4(10, 0, 0, 1));
  rejects(slice({ endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.1', '10.0.0.256'] }] }),
    'endpoints[1].addresses[1]', '"10.0.0.256" is not an IP address');
});

test('rejection rules', () => {
  const n = normalize(slice({}, { app: 'web' }));
  assert.equal(n.rejected, [{ object: OBJECT, field: 'metadata.labels["kubernetes.io/service-name"]', reason: 'missing' }]);
  assert.is(n.record, undefined);
  rejects(slice({}, ['web']), 'metadata.labels', 'a list is not an object');
  rejects(slice({ addressType: undefined }), 'addressType', 'missing');
  rejects(slice({ addressType: 'IPv5' }), 'addressType', '"IPv5" is not one of IPv4, IPv6, FQDN');
  rejects(slice({ endpoints: [{ addresses: [] }] }), 'endpoints[0].addresses', 'missing');
  rejects(slice({ endpoints: [{}, {}, {}, { addresses: ['10.0.0.300'] }] }), 'endpoints[0].addresses', 'missing');
  rejects(slice({ endpoints: [{ addresses: ['10.0.0.3'] }, { addresses: ['fd00::1'] }] }), 'endpoints[1].addresses[0]', '"fd00::1" is not an IPv4 address');
  rejects(slice({ endpoints: [{ addresses: ['10.0.0.3'], conditions: { ready: 'true' } }] }), 'endpoints[0].conditions.ready', '"true" is not true or false');
  rejects(slice({ ports: [{ port: 70000 }] }), 'ports[0].port', '70000 is out of range 1-65535');
  rejects(slice({ ports: [{ port: 80, protocol: 'ICMP' }] }), 'ports[0].protocol', '"ICMP" is not one of TCP, UDP, SCTP');
  rejects(slice({ endpoints: [{ addresses: ['10.0.0.3'], hints: { forZones: [{}] } }] }), 'endpoints[0].hints.forZones[0].name', 'missing');
  // A hole in a list (a snapshot's sparse array) is an absent item, not one left out.
  rejects(slice({ endpoints: [{ addresses: ['10.0.0.3'] }, , { addresses: ['10.0.0.4'] }] }), 'endpoints[1].addresses', 'missing'); // eslint-disable-line no-sparse-arrays
});

test('IPv6 and FQDN slices are skipped with a note', () => {
  const v6 = normalize(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }] }));
  assert.equal([v6.record, v6.rejected], [undefined, []]);
  assert.equal(v6.notes, [{ object: OBJECT, field: 'addressType', note: 'IPv6 is not supported yet; EndpointSlice skipped' }]);
  const fqdn = normalize(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com'] }] }));
  assert.equal([fqdn.record, fqdn.rejected, fqdn.notes.length], [undefined, [], 1]);
  rejects(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['10.0.0.1'] }] }), 'endpoints[0].addresses[0]', '"10.0.0.1" is not an IPv6 address');
});

test('another API version of EndpointSlice is rejected, another group is ignored', () => {
  const beta = normalize({ ...slice({}), apiVersion: 'discovery.k8s.io/v1beta1' });
  assert.equal(beta.rejected, [{ object: OBJECT, field: 'apiVersion', reason: '"discovery.k8s.io/v1beta1" is not supported; sluice reads discovery.k8s.io/v1' }]);
  const other = normalize({ ...slice({}), apiVersion: 'example.com/v1' });
  assert.equal([other.record, other.rejected, other.notes], [undefined, [], []]);
});

test.run();
