// normalize() on Services: API-server defaults, each rejection rule, IPv6 notes.
// Expected values are written from the Kubernetes API's semantics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { normalize } from '../../runtime/encode/records.ts';

const ip4 = (a: number, b: number, c: number, d: number) => ({ family: 4, bytes: Uint8Array.of(a, b, c, d) });

function service(spec: object, extra: object = {}): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec, ...extra };
}

/** The body of an accepted object; fails if it was rejected. */
function body(obj: object) {
  const n = normalize(obj);
  assert.equal(n.rejected, []);
  assert.ok(n.record, 'a record');
  return n.record!.body as import('../../runtime/encode/schema.ts').ServiceBody;
}

function rejects(obj: object, field: string, reason: string, object = 'Service shop/web') {
  const n = normalize(obj);
  assert.equal(n.rejected, [{ object, field, reason }]);
  assert.is(n.record, undefined, 'a rejected object yields no record');
}

test('a minimal ClusterIP Service gets the API defaults', () => {
  const n = normalize(service({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] }));
  assert.equal(n.record, {
    kind: R.KIND_SERVICE, namespace: 'shop', name: 'web', op: 'upsert',
    body: {
      type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0,
      clusterIPs: [ip4(10, 96, 0, 5)], externalIPs: [], loadBalancerIPs: [], sourceRanges: [],
      ports: [{ name: '', proto: R.PROTO_TCP, port: 80, nodePort: 0, targetPort: 80, targetPortName: '' }],
    },
  });
  assert.equal(n.notes, []);
  assert.is(n.object, 'Service shop/web');
});

test('creationTimestamp: RFC 3339 in whole seconds since 1970; anything else names the field', () => {
  const at = (creationTimestamp: unknown) => service({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, { metadata: { name: 'web', namespace: 'shop', creationTimestamp } });
  // 2024-03-01 is day 19,783 since 1970: 19,783 x 86,400 s, plus 10 h
  assert.is(body(at('2024-03-01T10:00:00Z')).created, 19783 * 86400 + 10 * 3600);
  assert.is(body(at('2024-03-01T11:00:00.999+01:00')).created, 19783 * 86400 + 10 * 3600, 'the offset applied, the fraction dropped');
  assert.is(body(at(null)).created, 0);
  for (const bad of ['2024-03-01', '2024-03-01 10:00:00Z', 'yesterday', '1969-12-31T23:59:59Z']) {
    assert.is(normalize(at(bad)).rejected[0]?.field, 'metadata.creationTimestamp', bad);
  }
  rejects(at(1709287200), 'metadata.creationTimestamp', '1709287200 is not a string');
});

test('namespace defaults to "default"', () => {
  const n = normalize({ kind: 'Service', metadata: { name: 'web' }, spec: {} });
  assert.is(n.record?.namespace, 'default');
  assert.is(n.object, 'Service default/web');
});

test('types, protocols and ports', () => {
  const b = body(service({
    type: 'NodePort', clusterIPs: ['10.96.0.5'],
    ports: [
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353, nodePort: 30053 },
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' },
      { name: 'sig', protocol: 'SCTP', port: 9, nodePort: 0 },
    ],
  }));
  assert.is(b.type, R.SVC_TYPE_NODE_PORT);
  assert.equal(b.ports, [
    { name: 'dns', proto: R.PROTO_UDP, port: 53, nodePort: 30053, targetPort: 5353, targetPortName: '' },
    { name: 'http', proto: R.PROTO_TCP, port: 80, nodePort: 0, targetPort: 0, targetPortName: 'http' },
    { name: 'sig', proto: R.PROTO_SCTP, port: 9, nodePort: 0, targetPort: 9, targetPortName: '' },
  ]);
  assert.is(body(service({ type: 'LoadBalancer' })).type, R.SVC_TYPE_LOAD_BALANCER);
  assert.is(body(service({ type: 'ExternalName', externalName: 'docs.example.com' })).type, R.SVC_TYPE_EXTERNAL_NAME);
});

test('flags: headless, traffic policies, affinity, publishNotReadyAddresses', () => {
  assert.is(body(service({ clusterIP: 'None', clusterIPs: ['None'] })).flags, R.SVCF_HEADLESS);
  assert.equal(body(service({ clusterIP: 'None' })).clusterIPs, []);
  assert.is(body(service({ externalTrafficPolicy: 'Local' })).flags, R.SVCF_EXTERNAL_LOCAL);
  assert.is(body(service({ externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Local' })).flags, R.SVCF_INTERNAL_LOCAL);
  assert.is(body(service({ publishNotReadyAddresses: true })).flags, R.SVCF_PUBLISH_NOT_READY);
  const dflt = body(service({ sessionAffinity: 'ClientIP' }));
  assert.is(dflt.flags, R.SVCF_AFFINITY);
  assert.is(dflt.affinityTimeout, 10800, 'three hours when unset, as the API server defaults it');
  assert.is(body(service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })).affinityTimeout, 60);
  assert.is(body(service({ sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })).affinityTimeout, 0);
  assert.is(body(service({ type: 'LoadBalancer', healthCheckNodePort: 32100, externalTrafficPolicy: 'Local' })).healthCheckNodePort, 32100);
});

test('clusterIP is the fallback for clusterIPs', () => {
  assert.equal(body(service({ clusterIP: '10.96.0.7' })).clusterIPs, [ip4(10, 96, 0, 7)]);
  assert.equal(body(service({ clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.8'] })).clusterIPs, [ip4(10, 96, 0, 8)]);
});

test('external IPs, load balancer ingress and source ranges', () => {
  const b = body(service({
    type: 'LoadBalancer', externalIPs: ['198.51.100.20'],
    loadBalancerSourceRanges: [' 192.0.2.0/25 ', '198.51.100.0/24'],
  }, { status: { loadBalancer: { ingress: [
    { ip: '203.0.113.10', ipMode: 'VIP' },
    { ip: '203.0.113.11', ipMode: 'Proxy' },
    { hostname: 'lb.example.com' },
    { ip: '203.0.113.12' },
  ] } } }));
  assert.equal(b.externalIPs, [ip4(198, 51, 100, 20)]);
  assert.equal(b.loadBalancerIPs, [ip4(203, 0, 113, 10), ip4(203, 0, 113, 12)], 'ipMode Proxy and hostname-only entries skipped');
  assert.equal(b.sourceRanges, [{ ip: ip4(192, 0, 2, 0), prefix: 25 }, { ip: ip4(198, 51, 100, 0), prefix: 24 }]);
  assert.equal(normalize(service({}, { status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } })).notes, []);
});

test('IPv6 addresses are skipped with a note, not rejected', () => {
  const n = normalize(service({
    clusterIPs: ['10.96.0.5', 'fd00::5'], externalIPs: ['2001:db8::1'], loadBalancerSourceRanges: ['2001:db8::/64'],
  }, { status: { loadBalancer: { ingress: [{ ip: '2001:db8::10' }] } } }));
  assert.equal(n.rejected, []);
  const b = n.record!.body as import('../../runtime/encode/schema.ts').ServiceBody;
  assert.equal(b.clusterIPs, [ip4(10, 96, 0, 5)]);
  assert.equal([b.externalIPs, b.loadBalancerIPs, b.sourceRanges], [[], [], []]);
  const o = 'Service shop/web';
  assert.equal(n.notes, [
    { object: o, field: 'spec.clusterIPs[1]', note: 'IPv6 is not supported yet; fd00::5 skipped' },
    { object: o, field: 'spec.externalIPs[0]', note: 'IPv6 is not supported yet; 2001:db8::1 skipped' },
    { object: o, field: 'status.loadBalancer.ingress[0].ip', note: 'IPv6 is not supported yet; 2001:db8::10 skipped' },
    { object: o, field: 'spec.loadBalancerSourceRanges[0]', note: 'IPv6 is not supported yet; 2001:db8::/64 skipped' },
  ]);
});

test('an IPv6-only Service still yields a record, without cluster IPs', () => {
  const n = normalize(service({ clusterIP: 'fd00::5', clusterIPs: ['fd00::5'], ports: [{ port: 80 }] }));
  assert.equal((n.record!.body as { clusterIPs: unknown[] }).clusterIPs, []);
  assert.equal(n.notes, [{ object: 'Service shop/web', field: 'spec.clusterIPs[0]', note: 'IPv6 is not supported yet; fd00::5 skipped' }]);
});

test('port rules', () => {
  const ports = (...ps: object[]) => service({ ports: ps });
  rejects(ports({ port: 80 }, { port: 65536 }), 'spec.ports[1].port', '65536 is out of range 1-65535');
  rejects(ports({ port: 0 }), 'spec.ports[0].port', '0 is out of range 1-65535');
  rejects(ports({ name: 'http' }), 'spec.ports[0].port', 'missing');
  rejects(ports({ port: '80' }), 'spec.ports[0].port', '"80" is not an integer');
  rejects(ports({ port: 80.5 }), 'spec.ports[0].port', '80.5 is not an integer');
  rejects(ports({ port: 80, nodePort: 70000 }), 'spec.ports[0].nodePort', '70000 is out of range 0-65535');
  rejects(ports({ port: 80, targetPort: 0 }), 'spec.ports[0].targetPort', '0 is out of range 1-65535');
  rejects(ports({ port: 80, targetPort: 'Http' }), 'spec.ports[0].targetPort', '"Http" is not a port number or a valid port name');
  rejects(ports({ port: 80, targetPort: '8080' }), 'spec.ports[0].targetPort', '"8080" is not a port number or a valid port name');
  rejects(ports({ port: 80, targetPort: '' }), 'spec.ports[0].targetPort', '"" is not a port number or a valid port name');
  rejects(ports({ port: 80, protocol: 'QUIC' }), 'spec.ports[0].protocol', '"QUIC" is not one of TCP, UDP, SCTP');
  rejects(ports({ port: 80, protocol: 'tcp' }), 'spec.ports[0].protocol', '"tcp" is not one of TCP, UDP, SCTP');
  rejects(service({ ports: { port: 80 } }), 'spec.ports', 'an object is not a list');
});

test('address rules', () => {
  rejects(service({ clusterIP: '10.0.0.300' }), 'spec.clusterIP', '"10.0.0.300" is not an IP address');
  rejects(service({ clusterIPs: ['10.96.0.5', '10.96.0'] }), 'spec.clusterIPs[1]', '"10.96.0" is not an IP address');
  rejects(service({ clusterIPs: ['10.96.0.5', 'None'] }), 'spec.clusterIPs[1]', '"None" must be the only cluster IP');
  rejects(service({ externalIPs: ['010.1.1.1'] }), 'spec.externalIPs[0]', '"010.1.1.1" is not an IP address');
  rejects(service({}, { status: { loadBalancer: { ingress: [{ ip: 'lb' }] } } }), 'status.loadBalancer.ingress[0].ip', '"lb" is not an IP address');
  rejects(service({}, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.1', ipMode: 'Tunnel' }] } } }),
    'status.loadBalancer.ingress[0].ipMode', '"Tunnel" is not one of VIP, Proxy');
  rejects(service({ loadBalancerSourceRanges: ['10.0.0.1/8'] }), 'spec.loadBalancerSourceRanges[0]', '"10.0.0.1/8" has host bits set; the network is 10.0.0.0/8');
  rejects(service({ loadBalancerSourceRanges: ['192.0.2.0/33'] }), 'spec.loadBalancerSourceRanges[0]', '"192.0.2.0/33" is not a CIDR');
  rejects(service({ loadBalancerSourceRanges: ['192.0.2.0'] }), 'spec.loadBalancerSourceRanges[0]', '"192.0.2.0" is not a CIDR');
});

test('policy, affinity and type rules', () => {
  rejects(service({ type: 'Ingress' }), 'spec.type', '"Ingress" is not one of ClusterIP, NodePort, LoadBalancer, ExternalName');
  rejects(service({ externalTrafficPolicy: 'Global' }), 'spec.externalTrafficPolicy', '"Global" is not one of Cluster, Local');
  rejects(service({ internalTrafficPolicy: 'local' }), 'spec.internalTrafficPolicy', '"local" is not one of Cluster, Local');
  rejects(service({ sessionAffinity: 'Cookie' }), 'spec.sessionAffinity', '"Cookie" is not one of None, ClientIP');
  const timeout = (t: unknown) => service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: t } } });
  rejects(timeout(0), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', '0 is out of range 1-86400');
  rejects(timeout(86401), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', '86401 is out of range 1-86400');
  assert.is(body(timeout(86400)).affinityTimeout, 86400);
  rejects(service({ publishNotReadyAddresses: 'yes' }), 'spec.publishNotReadyAddresses', '"yes" is not true or false');
});

test('metadata rules', () => {
  rejects({ kind: 'Service', metadata: { namespace: 'shop' }, spec: {} }, 'metadata.name', 'missing', 'Service shop/?');
  rejects({ kind: 'Service', metadata: { name: 42, namespace: 'shop' }, spec: {} }, 'metadata.name', '42 is not a string', 'Service shop/?');
  rejects(service({}, { metadata: { name: 'web', namespace: 'shop', labels: { version: 2 } } }), 'metadata.labels["version"]', '2 is not a string');
});

test.run();
