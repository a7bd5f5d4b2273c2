// The benchmarks' clusters as `kubectl get nodes,pods,services,endpointslices
// -A -o json` would print them, for `sluice apply` and the testbed: the same
// input a user gives them. In the one-node benchmark the Node's InternalIP is
// a documentation address that no interface of the lane holds, so
// sl_from_netdev is attached nowhere, as in the baselines, where nothing
// reaches the node from outside. Pure.
import type { BenchService } from './services.ts';

export const BENCH_NODE = 'bench-node';
const NODE_IP = '192.0.2.1';

/** A Node of the snapshot: its InternalIP and pod CIDR. */
export interface BenchNode { name: string; ip: string; podCIDR: string }
/** A Pod of the snapshot, running on a node, serving nothing the testbed needs to start. */
export interface BenchPod { namespace: string; name: string; node: string; ip: string }

const ONE_NODE: BenchNode[] = [{ name: BENCH_NODE, ip: NODE_IP, podCIDR: '10.244.0.0/16' }];

function service(s: BenchService): object {
  const port = { name: s.portName, port: s.port, protocol: 'TCP', targetPort: s.targetPort, ...(s.nodePort ? { nodePort: s.nodePort } : {}) };
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace },
    spec: {
      type: s.nodePort ? 'NodePort' : 'ClusterIP', clusterIP: s.vip, clusterIPs: [s.vip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster', ...(s.nodePort ? { externalTrafficPolicy: 'Cluster' } : {}), sessionAffinity: 'None',
      selector: { app: s.name }, ports: [port],
    },
  };
}

function slice(s: BenchService): object {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${s.name}-bench`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name } },
    addressType: 'IPv4',
    endpoints: s.endpoints.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: s.node ?? BENCH_NODE })),
    ports: [{ name: s.portName, port: s.targetPort, protocol: 'TCP' }],
  };
}

function node(n: BenchNode): object {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name: n.name },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }] },
  };
}

function pod(p: BenchPod): object {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name } },
    spec: { nodeName: p.node, containers: [{ name: p.name, image: 'bench' }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  };
}

/** The snapshot of services on nodes (default: the one-node benchmark's), with pods when given. */
export function snapshotOf(services: readonly BenchService[], nodes: readonly BenchNode[] = ONE_NODE, pods: readonly BenchPod[] = []): object {
  return {
    apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
    items: [...nodes.map(node), ...pods.map(pod), ...services.flatMap((s) => [service(s), slice(s)])],
  };
}
