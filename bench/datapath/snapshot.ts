// The benchmarks' clusters as `kubectl get nodes,pods,services,endpointslices
// -A -o json` would print them (testkit/syntheticCluster.ts renders them),
// for `sluice apply` and the testbed: the same input a user gives them. In
// the one-node benchmark the Node's InternalIP is a documentation address
// that no interface of the lane holds, so sl_from_netdev is attached
// nowhere, as in the baselines, where nothing reaches the node from outside.
// Pure.
import { snapshotList, type SyntheticNode, type SyntheticPod } from '../../testkit/syntheticCluster.ts';
import type { BenchService } from './services.ts';

export const BENCH_NODE = 'bench-node';

export type BenchNode = SyntheticNode;
export type BenchPod = SyntheticPod;

const ONE_NODE: BenchNode[] = [{ name: BENCH_NODE, ip: '192.0.2.1', podCIDR: '10.244.0.0/16' }];

/** The snapshot of services on nodes (default: the one-node benchmark's), with pods when given. */
export const snapshotOf = (services: readonly BenchService[], nodes: readonly BenchNode[] = ONE_NODE, pods: readonly BenchPod[] = []) =>
  snapshotList(services, nodes, pods);
