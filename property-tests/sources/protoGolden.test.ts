// The decoder's field numbers against the upstream schema: each .bin in
// fixtures/protobuf is what protoc wrote of the .txtpb beside it with
// k8s.io/api's and k8s.io/apimachinery's generated.proto (v1.36 line), e.g.
//   protoc --encode=k8s.io.api.core.v1.PodList -I. k8s.io/api/core/v1/generated.proto < PodList.txtpb > PodList.bin
// with both repositories under ./k8s.io. WatchEvent.bin nests, as a watch
// sends it: Pod.txtpb encoded as a Pod, that in a runtime.Unknown (typeMeta
// v1 Pod), "k8s\0" and that as the raw of a WatchEvent's object, each step
// by protoc (WatchEvent.txtpb holds the bytes). The objects expected here were
// written from the .txtpb by hand, not taken from the decoder: every field
// sluice reads, as JSON names it, and none of the others (annotations,
// managedFields, env, targetRef, capacity, ...), which are in the bytes too.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeList, decodeWatchEvent, statusMessage } from '../../runtime/sources/protoDecode.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/protobuf/${name}.bin`, import.meta.url));

/** "k8s\0", then runtime.Unknown { typeMeta (1) { apiVersion (1), kind (2) }, raw (2) }: written out by hand. */
function enveloped(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
  const text = (s: string) => [...Buffer.from(s)];
  const typeMeta = [0x0a, ...varint(apiVersion.length), ...text(apiVersion), 0x12, ...varint(kind.length), ...text(kind)];
  return Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, ...varint(typeMeta.length), ...typeMeta, 0x12, ...varint(raw.length), ...raw]);
}

/** The list with its items read, as the source reads them. */
function list(apiVersion: string, kind: string) {
  const l = decodeList(enveloped(apiVersion, `${kind}List`, fixture(`${kind}List`)));
  return { ...l, items: [...l.items] };
}

test('PodList: where a pod runs, its IPs, labels (one called __proto__) and every container\'s ports; paging', () => {
  const l = list('v1', 'Pod');
  assert.equal([l.kind, l.resourceVersion, l.continue], ['Pod', '812', 'next-page']);
  const labels = JSON.parse('{"app": "web", "__proto__": "x"}'); // an own property, as JSON.parse makes it
  assert.equal(l.items, [{
    metadata: { name: 'web-1', namespace: 'shop', resourceVersion: '811', labels },
    spec: {
      containers: [
        { ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 9090, protocol: 'UDP' }] },
        { ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }] },
      ],
      nodeName: 'node-a', hostNetwork: false,
    },
    status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00::5' }] },
  }]);
  assert.ok(Object.hasOwn((l.items[0].metadata as { labels: object }).labels, '__proto__'));
});

test('ServiceList: ports with both kinds of targetPort, every field of the spec sluice reads, its age, the load balancer', () => {
  const l = list('v1', 'Service');
  assert.equal([l.resourceVersion, l.continue], ['900', undefined]);
  assert.equal(l.items, [{
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '899', creationTimestamp: '2026-01-15T09:00:01Z', labels: { app: 'web' } },
    spec: {
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 },
      ],
      clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], type: 'LoadBalancer', externalIPs: ['203.0.113.7'], sessionAffinity: 'ClientIP',
      loadBalancerSourceRanges: ['198.51.100.0/24'], externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, publishNotReadyAddresses: true,
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, internalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.9', ipMode: 'VIP' }] } },
  }]);
});

test('EndpointSliceList: ready: false stays false (not absent, which reads as ready); hints, zone and node', () => {
  assert.equal(list('discovery.k8s.io/v1', 'EndpointSlice').items, [{
    metadata: { name: 'web-abcde', namespace: 'shop', resourceVersion: '77', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'node-a', zone: 'z1', hints: { forZones: [{ name: 'z1' }] } },
      { addresses: ['10.244.2.6', '10.244.2.7'] },
    ],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  }]);
});

test('NetworkPolicyList: selectors of both forms, an empty one kept as {}, named and numbered ports, an ipBlock', () => {
  assert.equal(list('networking.k8s.io/v1', 'NetworkPolicy').items, [{
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '78' },
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{
        ports: [{ protocol: 'TCP', port: 'http' }],
        from: [
          { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] } },
          { namespaceSelector: { matchLabels: { team: 't1' } }, podSelector: {} },
        ],
      }],
      egress: [{ ports: [{ protocol: 'UDP', port: 53, endPort: 60 }], to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }],
      policyTypes: ['Ingress', 'Egress'],
    },
  }]);
});

test('NodeList and NamespaceList: addresses, pod CIDRs, labels', () => {
  assert.equal(list('v1', 'Node').items, [{
    metadata: { name: 'node-a', resourceVersion: '79', labels: { 'kubernetes.io/hostname': 'node-a' } },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }, { type: 'Hostname', address: 'node-a' }] },
  }]);
  assert.equal(list('v1', 'Namespace').items, [{ metadata: { name: 'shop', resourceVersion: '80', labels: { 'kubernetes.io/metadata.name': 'shop' } } }]);
});

test('a watch frame is a bare WatchEvent; its object, enveloped, comes out with its kind and apiVersion', () => {
  assert.equal(decodeWatchEvent(fixture('WatchEvent')), {
    type: 'MODIFIED',
    object: {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'web-2', namespace: 'shop', resourceVersion: '815', labels: { app: 'web' } },
      spec: { containers: [{ ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], nodeName: 'node-b' },
      status: { phase: 'Running', podIP: '10.244.2.9', podIPs: [{ ip: '10.244.2.9' }] },
    },
  });
});

test('a Status error body gives its message; anything else gives none', () => {
  assert.is(statusMessage(enveloped('v1', 'Status', fixture('Status'))), 'too old resource version: 5 (10)');
  assert.is(statusMessage(enveloped('v1', 'Pod', fixture('Status'))), undefined);
  assert.is(statusMessage(Buffer.from('{"message": "json"}')), undefined);
});

test.run();
