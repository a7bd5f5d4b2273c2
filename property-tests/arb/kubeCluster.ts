import fc from 'fast-check';
import type { Json } from '../model/kube.ts';
import { weighted } from './pool.ts';

// A random cluster as `kubectl get -o json` shows it: valid objects (as the
// API server would accept them) from small pools, so that they collide:
// endpoints repeat across slices with other conditions, named ports resolve
// differently per slice, externalIPs and ingress IPs land on ClusterIPs and
// on each other. One cluster in ten has a Service with 129-200 endpoints,
// past the 128 where selection tables are Maglev-filled.

const NAMES = ['s1', 's2', 's3', 's4', 's5', 's6'];
const NAMESPACES = ['a', 'b'];
const clusterIP = (i: number) => `10.96.0.${i + 1}`;
// The first two externalIPs and one ingress IP are ClusterIPs of the first Services.
const EXTERNAL_IPS = ['198.51.100.1', '198.51.100.2', '203.0.113.9', clusterIP(0), clusterIP(1)];
const INGRESS_IPS = ['203.0.113.1', '203.0.113.2', '203.0.113.9', clusterIP(0)];
const ENDPOINT_IPS = Array.from({ length: 12 }, (_, i) => `10.244.0.${i + 1}`);
const PORT_NAMES = ['http', 'https', 'dns', 'metrics'];
const CREATED = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'];


/** ready, serving, terminating: each true, false or unset; ready false is common, so fallbacks happen. */
const conditions = (draining: boolean) => fc.record({
  ready: draining ? fc.constant(false) : weighted<boolean | undefined>([4, true], [4, false], [1, undefined]),
  serving: weighted<boolean | undefined>([3, true], [1, false], [2, undefined]),
  terminating: weighted<boolean | undefined>([3, true], [2, false], [2, undefined]),
}).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));

const endpoint = (draining: boolean) => fc.record({
  ip: fc.constantFrom(...ENDPOINT_IPS),
  conditions: conditions(draining),
  nodeName: weighted<string | undefined>([3, 'n1'], [2, 'n2'], [1, 'n3'], [1, undefined]),
});

interface PortSpec { name: string; protocol: string; port: number; nodePort?: number; targetPort: number | string }

const servicePorts = (index: number) => fc.uniqueArray(fc.record({
  name: fc.constantFrom(...PORT_NAMES),
  protocol: weighted([4, 'TCP'], [2, 'UDP'], [1, 'SCTP']),
  port: fc.constantFrom(53, 80, 443, 8080),
  targetPort: fc.oneof(fc.constantFrom(8080, 9090), fc.constant('web')),
  nodePort: fc.boolean(),
}), { minLength: 1, maxLength: 3, selector: (p) => `${p.port}/${p.protocol}` })
  .filter((ps) => new Set(ps.map((p) => p.name)).size === ps.length)
  .chain((ps) => (ps.length === 1 ? fc.constantFrom('', ps[0].name) : fc.constant(undefined)).map((only) => ps.map((p, i): PortSpec => ({
    name: only ?? p.name, protocol: p.protocol, port: p.port, targetPort: p.targetPort,
    ...(p.nodePort ? { nodePort: 30000 + index * 4 + i } : {}),
  }))));

const serviceSpec = (index: number) => fc.record({
  type: weighted([3, 'ClusterIP'], [2, 'NodePort'], [3, 'LoadBalancer'], [1, 'ExternalName'], [1, 'headless']),
  dualStack: fc.boolean(),
  ports: servicePorts(index),
  externalIPs: fc.subarray(EXTERNAL_IPS, { maxLength: 2 }),
  ingress: fc.array(fc.record({ ip: fc.constantFrom(...INGRESS_IPS, undefined), ipMode: fc.constantFrom('VIP', 'Proxy', undefined) }), { maxLength: 2 }),
  etp: weighted([2, 'Cluster'], [2, 'Local'], [1, undefined]),
  itp: weighted([3, 'Cluster'], [1, 'Local'], [1, undefined]),
  affinity: weighted<number | null | undefined>([3, null], [1, undefined], [1, 600]),
  ranges: fc.subarray(['10.0.0.0/8', '192.0.2.0/24', ' 198.51.100.0/24 ', '2001:db8::/32'], { maxLength: 2 }),
  created: fc.constantFrom(...CREATED),
});

type ServiceSpec = ReturnType<typeof serviceSpec> extends fc.Arbitrary<infer T> ? T : never;

function service(ns: string, name: string, index: number, s: ServiceSpec): Json {
  const headless = s.type === 'headless';
  const type = headless ? 'ClusterIP' : s.type;
  const ip = headless ? 'None' : type === 'ExternalName' ? undefined : clusterIP(index);
  const spec: Json = {
    type, ports: s.ports,
    ...(ip ? { clusterIP: ip, clusterIPs: s.dualStack && !headless ? [ip, `fd00::${index + 1}`] : [ip] } : { externalName: 'docs.example.com' }),
    ...(s.externalIPs.length ? { externalIPs: s.externalIPs } : {}),
    ...(s.etp ? { externalTrafficPolicy: s.etp } : {}),
    ...(s.itp ? { internalTrafficPolicy: s.itp } : {}),
    ...(s.affinity !== null ? { sessionAffinity: 'ClientIP', ...(s.affinity ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinity } } } : {}) } : {}),
    ...(s.ranges.length ? { loadBalancerSourceRanges: s.ranges } : {}),
  };
  // An ingress IP that is also the Service's own externalIP would be one frontend claimed twice by one Service.
  const ingress = s.ingress.filter((i) => i.ip === undefined || !s.externalIPs.includes(i.ip))
    .map((i) => ({ ...(i.ip ? { ip: i.ip } : { hostname: 'lb.example.com' }), ...(i.ipMode && i.ip ? { ipMode: i.ipMode } : {}) }));
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { namespace: ns, name, creationTimestamp: s.created },
    spec, ...(ingress.length ? { status: { loadBalancer: { ingress } } } : {}),
  };
}

/** Slices of one Service: each lists some of its ports, with its own target port numbers. */
const slicesFor = (ns: string, name: string, ports: PortSpec[]) => fc.array(fc.record({
  ipv6: weighted([12, false], [1, true]),
  draining: weighted([3, false], [1, true]),
  ports: fc.subarray(ports, { minLength: ports.length > 1 ? 0 : 1 }).chain((ps) => fc.tuple(...ps.map((p) => fc.record({
    name: fc.constant(p.name), port: fc.constantFrom(8080, 9090), protocol: weighted([9, p.protocol], [1, p.protocol === 'TCP' ? 'UDP' : 'TCP']),
  })))),
}).chain((s) => fc.uniqueArray(endpoint(s.draining), { maxLength: 6, selector: (e) => e.ip }).map((eps) => ({ ...s, eps }))),
{ maxLength: 3 }).map((ss) => ss.map((s, k): Json => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { namespace: ns, name: `${name}-${k}`, labels: { 'kubernetes.io/service-name': name } },
  addressType: s.ipv6 ? 'IPv6' : 'IPv4',
  ports: s.ports,
  endpoints: s.eps.map((e) => ({
    addresses: [s.ipv6 ? `fd00:244::${e.ip.split('.')[3]}` : e.ip], conditions: e.conditions, ...(e.nodeName ? { nodeName: e.nodeName } : {}),
  })),
})));

/** One slice of 129-200 ready endpoints for a Service's first port. */
const bigSlice = (ns: string, name: string, port: PortSpec) => fc.integer({ min: 129, max: 200 }).map((n): Json => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { namespace: ns, name: `${name}-big`, labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', ports: [{ name: port.name, port: 8080, protocol: port.protocol }],
  endpoints: Array.from({ length: n }, (_, i) => ({ addresses: [`10.245.${i >> 8}.${i & 255}`], conditions: {}, nodeName: i % 2 ? 'n1' : 'n2' })),
}));

const NODES: Json[] = [
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [
    { type: 'InternalIP', address: '192.168.1.10' }, { type: 'ExternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'n1' }] } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.11' }] } },
];

export interface KubeCluster { objects: Json[]; node: string }

/** A cluster of 1-6 Services with their slices, and the node to compile for (n3 has no Node object). */
export const kubeCluster = (): fc.Arbitrary<KubeCluster> => fc.record({
  names: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMESPACES), fc.constantFrom(...NAMES)), { minLength: 1, maxLength: 6, selector: ([n, s]) => `${n}/${s}` }),
  node: weighted([4, 'n1'], [2, 'n2'], [1, 'n3']),
  big: weighted([9, false], [1, true]),
  stray: fc.boolean(),
}).chain(({ names, node, big, stray }) => fc.tuple(...names.map(([ns, name], i) => serviceSpec(i).chain((spec) => {
  const svc = service(ns, name, i, spec);
  const ports = spec.ports;
  return fc.tuple(fc.constant(svc), slicesFor(ns, name, ports), big && i === 0 ? bigSlice(ns, name, ports[0]).map((s) => [s]) : fc.constant([]));
}))).map((parts) => ({
  node,
  objects: [
    ...NODES,
    ...parts.flatMap(([svc, slices, bigOnes]) => [svc, ...slices, ...bigOnes]),
    ...(stray ? [{ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: 'a', name: 'gone-1', labels: { 'kubernetes.io/service-name': 'gone' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.0.1'] }] }] : []),
  ],
})));
