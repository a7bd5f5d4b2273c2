// The cluster of the two-node benchmarks (pod2pod, nodeport), as testbed
// lanes make it: node-a and node-b on one underlay subnet, a client pod on
// node-a, a server pod on node-b, and the benchmark's Services. Writes the
// snapshot and kube-proxy's rules for them into the run's scratch folder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { iptablesRules, nftRules } from './kubeProxyRules.ts';
import type { BenchService } from './services.ts';
import { snapshotOf, type BenchNode, type BenchPod } from './snapshot.ts';
import type { LaneInputs } from './testbedLane.ts';

export const NODES: BenchNode[] = [
  { name: 'node-a', ip: '192.168.77.10', podCIDR: '10.244.1.0/24' },
  { name: 'node-b', ip: '192.168.77.11', podCIDR: '10.244.2.0/24' },
];
export const CLIENT_POD: BenchPod = { namespace: 'bench', name: 'client', node: 'node-a', ip: '10.244.1.10' };
export const SERVER_POD: BenchPod = { namespace: 'bench', name: 'server', node: 'node-b', ip: '10.244.2.10' };
export const podKey = (p: BenchPod) => `${p.namespace}/${p.name}`;

export function writeInputs(dir: string, services: readonly BenchService[]): LaneInputs {
  const inputs = { snapshot: join(dir, 'cluster.json'), iptables: join(dir, 'iptables.rules'), nft: join(dir, 'nft.rules') };
  writeFileSync(inputs.snapshot, JSON.stringify(snapshotOf(services, NODES, [CLIENT_POD, SERVER_POD])));
  writeFileSync(inputs.iptables, iptablesRules(services));
  writeFileSync(inputs.nft, nftRules(services));
  return inputs;
}
