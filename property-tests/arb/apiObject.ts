import fc from 'fast-check';
import type { Resource } from '../../testkit/fakeApiServer.ts';
import { pick } from './pool.ts';

export type ApiObject = { resource: Resource; object: { [k: string]: any } };

const OTHER_PROXY = { 'service.kubernetes.io/service-proxy-name': 'other' }; // not ours: the source's selector hides it
const meta = (name: string, labels: object = {}) => ({ namespace: 'a', name, labels });
const bad = <T>(good: fc.Arbitrary<T>, badValue: T) => fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: fc.constant(badValue) });

const service = fc.record({
  name: pick('s1', 's2', 's3'), type: pick('ClusterIP', 'NodePort', 'LoadBalancer'), ip: bad(pick('10.96.0.1', '10.96.0.2', '10.96.0.3'), 'banana'),
  local: fc.boolean(), port: bad(pick(80, 443), 70000), theirs: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
}).map((s): ApiObject => ({
  resource: 'services',
  object: {
    metadata: meta(s.name, s.theirs ? OTHER_PROXY : {}),
    spec: {
      type: s.type, clusterIP: s.ip, externalTrafficPolicy: s.type === 'ClusterIP' ? undefined : s.local ? 'Local' : 'Cluster',
      ports: [{ name: 'http', port: s.port, protocol: 'TCP', targetPort: 8080, nodePort: s.type === 'ClusterIP' ? undefined : 30000 + Number(s.name[1]) }],
    },
  },
}));

const endpoint = fc.record({ ip: pick(...Array.from({ length: 6 }, (_, i) => `10.244.0.${i + 1}`)), node: pick('n1', 'n2'), ready: fc.boolean() })
  .map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready, serving: true, terminating: !e.ready }, nodeName: e.node }));

const slice = fc.record({ name: pick('e1', 'e2', 'e3'), service: pick('s1', 's2', 's3'), endpoints: fc.array(endpoint, { maxLength: 4 }), v6: bad(fc.constant(false), true) })
  .map((s): ApiObject => ({
    resource: 'endpointslices',
    object: {
      metadata: meta(s.name, { 'kubernetes.io/service-name': s.service }), addressType: s.v6 ? 'IPv6' : 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: s.v6 ? [] : s.endpoints,
    },
  }));

const node = fc.record({ name: pick('n1', 'n2'), ip: bad(pick('192.168.50.10', '192.168.50.11'), '192.168.50.300') })
  .map((n): ApiObject => ({ resource: 'nodes', object: { metadata: { name: n.name }, status: { addresses: [{ type: 'InternalIP', address: n.ip }] } } }));

const pod = fc.record({ name: pick('p1', 'p2'), node: pick('n1', 'n2'), ip: pick('10.244.0.1', '10.244.0.2') })
  .map((p): ApiObject => ({ resource: 'pods', object: { metadata: meta(p.name, { app: 'web' }), spec: { nodeName: p.node }, status: { phase: 'Running', podIP: p.ip } } }));

const namespace = pick('a', 'b').map((name): ApiObject => ({ resource: 'namespaces', object: { metadata: { name, labels: { team: name } } } }));

const policy = pick('np1').map((name): ApiObject => ({ resource: 'networkpolicies', object: { metadata: meta(name), spec: { podSelector: { matchLabels: { app: 'web' } } } } }));

/** A raw API object (as the API server stores it) from a small universe, mostly valid, some with one bad field. */
export const apiObject = (): fc.Arbitrary<ApiObject> => fc.oneof(
  { weight: 4, arbitrary: service }, { weight: 5, arbitrary: slice }, { weight: 1, arbitrary: node },
  { weight: 1, arbitrary: pod }, { weight: 1, arbitrary: namespace }, { weight: 1, arbitrary: policy },
);

/** "ns/name", or "name" for cluster-scoped kinds, as FakeApiServer.delete takes it. */
export const nameOf = (o: ApiObject) => (o.object.metadata.namespace ? `${o.object.metadata.namespace}/${o.object.metadata.name}` : o.object.metadata.name as string);
