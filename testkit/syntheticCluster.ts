// The synthetic cluster of the benchmarks and the tests (issue 12's larger
// one, with Pods, Namespaces and policies, is scaleCluster.ts): Service i is
// svc<i> in namespace ns<i/100>, ClusterIP 10.96.0.1 + i, port p80 (80 to
// 80/TCP), with one EndpointSlice of k ready endpoints on one node, in its
// own block of 16 addresses from 10.245.0.0 (in the cluster CIDR
// 10.244.0.0/14, routed nowhere); a generation g shifts them by g within the
// block, as a rollout would, so one endpoint changes from g to g + 1.
// Everything derives from the index: every run compiles and serves the same
// bytes. Objects are rendered as the API server serves them (uid,
// resourceVersion, managedFields), so what a trimmed event log saves shows.
import { parseU32, textOf } from '../runtime/encode/ipv4.ts';
import type { Upsert } from '../runtime/encode/schema.ts';
import type { KubeObject } from '../runtime/sources/events.ts';
import { snapshotEvents } from '../runtime/sources/snapshot.ts';
import { recordsOf, upserts } from '../runtime/streams/recordsOf.ts';

export interface SyntheticService {
  index: number;
  namespace: string;
  name: string;
  portName: string;
  vip: string;
  port: number;
  targetPort: number;
  endpoints: string[];
  /** The node of the endpoints (the EndpointSlice's nodeName). */
  node: string;
  /** A NodePort Service (externalTrafficPolicy Cluster) when set; else ClusterIP. */
  nodePort?: number;
  /** The slice's generation: its resourceVersion. */
  generation?: number;
}

export interface SyntheticNode { name: string; ip: string; podCIDR?: string }
export interface SyntheticPod { namespace: string; name: string; node: string; ip: string }

export const ENDPOINTS_PER_SERVICE = 5;
const FIRST_VIP = parseU32('10.96.0.1');
const FIRST_ENDPOINT = parseU32('10.245.0.0');
const BLOCK = 16;
const TIME = '2026-01-15T09:00:00Z';

/** Service i with k endpoints (at most 15) on node, in generation g. */
export function syntheticService(i: number, o: { endpoints?: number; generation?: number; node?: string } = {}): SyntheticService {
  const k = o.endpoints ?? ENDPOINTS_PER_SERVICE, g = o.generation ?? 0;
  if (k >= BLOCK) throw new Error(`a synthetic Service has at most ${BLOCK - 1} endpoints, not ${k}`);
  return {
    index: i, namespace: `ns${Math.floor(i / 100)}`, name: `svc${i}`, portName: 'p80', vip: textOf(FIRST_VIP + i), port: 80, targetPort: 80,
    endpoints: Array.from({ length: k }, (_, e) => textOf(FIRST_ENDPOINT + i * BLOCK + ((e + g) % BLOCK) + 1)), node: o.node ?? 'node-1', generation: g,
  };
}

export const syntheticServices = (n: number, o: { endpoints?: number; node?: string } = {}) =>
  Array.from({ length: n }, (_, i) => syntheticService(i, o));

/** node-i, its InternalIP 192.168.200.(10 + i). */
export const syntheticNode = (i: number): SyntheticNode => ({ name: `node-${i}`, ip: `192.168.200.${10 + i}` });

/** A uid that names its kind (a number per generator) and index. */
export const uid = (kind: number, n: number) => `00000000-0000-4000-${String(kind).padStart(4, '0')}-${String(n).padStart(12, '0')}`;
const managedFields = [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: TIME, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:ports': {} } } }];

export function serviceObject(s: SyntheticService): KubeObject {
  const port = { name: s.portName, port: s.port, protocol: 'TCP', targetPort: s.targetPort, ...(s.nodePort ? { nodePort: s.nodePort } : {}) };
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, uid: uid(1, s.index), resourceVersion: String(1000 + s.index), creationTimestamp: TIME, labels: { app: s.name }, managedFields },
    spec: {
      type: s.nodePort ? 'NodePort' : 'ClusterIP', clusterIP: s.vip, clusterIPs: [s.vip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster', ...(s.nodePort ? { externalTrafficPolicy: 'Cluster' } : {}), sessionAffinity: 'None',
      selector: { app: s.name }, ports: [port],
    },
  };
}

export function sliceObject(s: SyntheticService): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${s.name}-abcde`, namespace: s.namespace, uid: uid(2, s.index), resourceVersion: String(100000 + (s.generation ?? 0)),
      labels: { 'kubernetes.io/service-name': s.name }, managedFields,
    },
    addressType: 'IPv4',
    endpoints: s.endpoints.map((ip, e) => ({
      addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: s.node,
      targetRef: { kind: 'Pod', name: `${s.name}-pod-${e}`, namespace: s.namespace },
    })),
    ports: [{ name: s.portName, port: s.targetPort, protocol: 'TCP' }],
  };
}

export function nodeObject(n: SyntheticNode): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name: n.name },
    ...(n.podCIDR ? { spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] } } : {}),
    status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }] },
  };
}

export function podObject(p: SyntheticPod): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name } },
    spec: { nodeName: p.node, containers: [{ name: p.name, image: 'synthetic' }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  };
}

/** Service i's objects: the Service and its slice. */
export const serviceObjects = (s: SyntheticService) => [serviceObject(s), sliceObject(s)];

/** The records the compiler gets for these objects (every one valid: none is rejected). */
export function syntheticRecords(objects: readonly KubeObject[]): Upsert[] {
  const set = recordsOf(snapshotEvents(objects));
  if (set.rejected.length > 0) throw new Error(`synthetic objects rejected: ${JSON.stringify(set.rejected[0])}`);
  return upserts(set.records);
}

/** As `kubectl get nodes,pods,services,endpointslices -A -o json` prints them. */
export function snapshotList(services: readonly SyntheticService[], nodes: readonly SyntheticNode[], pods: readonly SyntheticPod[] = []): object {
  return {
    apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
    items: [...nodes.map(nodeObject), ...pods.map(podObject), ...services.flatMap(serviceObjects)],
  };
}
