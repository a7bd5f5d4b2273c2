// Generated API objects for benchmarks, raw as the API server serves them
// (managedFields included): n ClusterIP Services, each with one EndpointSlice
// of k ready endpoints over three nodes, and the Nodes. Addresses derive from
// the index (the same as cluster.ts's records), so every run serves the same bytes.
import type { KubeObject } from '../runtime/sources/events.ts';

const ipOf = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
const managedFields = [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-01-15T09:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:ports': {} } } }];

export function service(i: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'bench', uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, resourceVersion: String(1000 + i), labels: { app: `svc-${i}` }, managedFields },
    spec: { type: 'ClusterIP', clusterIP: ipOf(0x0a600000 + i), clusterIPs: [ipOf(0x0a600000 + i)], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: `svc-${i}` } },
  };
}

/** Service i's slice; generation g shifts its endpoints, as a rollout would. */
export function slice(i: number, k: number, g = 0): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-abcde`, namespace: 'bench', resourceVersion: String(100000 + g), labels: { 'kubernetes.io/service-name': `svc-${i}` }, managedFields },
    addressType: 'IPv4',
    endpoints: Array.from({ length: k }, (_, e) => ({
      addresses: [ipOf(0x0af40000 + i * 16 + ((e + g) % 16))], conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${e % 3}`, targetRef: { kind: 'Pod', name: `svc-${i}-pod-${(e + g) % 16}`, namespace: 'bench' },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** node-i, its InternalIP 192.168.200.(10 + i). */
export function node(i: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` }, status: { addresses: [{ type: 'InternalIP', address: `192.168.200.${10 + i}` }] } };
}
