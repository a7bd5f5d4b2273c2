// The benchmark's services as `kubectl get nodes,services,endpointslices -A
// -o json` would print them, for `sluice apply`: the same input a user gives
// it. The Node's InternalIP is a documentation address that no interface of
// the lane holds, so sl_from_netdev is attached nowhere, as in the
// baselines, where nothing reaches the node from outside. Pure.
import type { BenchService } from './services.ts';

export const BENCH_NODE = 'bench-node';
const NODE_IP = '192.0.2.1';

function service(s: BenchService): object {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace },
    spec: {
      type: 'ClusterIP', clusterIP: s.vip, clusterIPs: [s.vip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster', sessionAffinity: 'None', selector: { app: s.name },
      ports: [{ name: s.portName, port: s.port, protocol: 'TCP', targetPort: s.targetPort }],
    },
  };
}

function slice(s: BenchService): object {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${s.name}-bench`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name } },
    addressType: 'IPv4',
    endpoints: s.endpoints.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: BENCH_NODE })),
    ports: [{ name: s.portName, port: s.targetPort, protocol: 'TCP' }],
  };
}

export function snapshotOf(services: readonly BenchService[]): object {
  const node = {
    apiVersion: 'v1', kind: 'Node', metadata: { name: BENCH_NODE },
    spec: { podCIDR: '10.244.0.0/16', podCIDRs: ['10.244.0.0/16'] },
    status: { addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: BENCH_NODE }] },
  };
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [node, ...services.flatMap((s) => [service(s), slice(s)])] };
}
