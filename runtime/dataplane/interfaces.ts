// Which of the node's interfaces get which tc programs, and attaching them:
// the pod programs on the host side of each local pod's interface, the node
// program on each interface holding one of the node's addresses.
import { readLinks, routesTo } from '../bpf/ifaces.ts';
import { inNetns } from '../bpf/netns.ts';
import type { Datapath, ProgramName } from '../bpf/loader.ts';
import { attachProgram, type AttachResult, type Hook } from '../bpf/tc.ts';
import type { NodeFacts } from '../encode/nodeFacts.ts';
import type { DatapathArgs } from './datapathArgs.ts';
import { pickInterfaces, type Choice, type Chosen } from './pickInterfaces.ts';

export const PROGRAMS_OF: { pod: [ProgramName, Hook][]; node: [ProgramName, Hook][] } = {
  pod: [['sl_from_pod', 'ingress'], ['sl_to_pod', 'egress']],
  node: [['sl_from_netdev', 'ingress']],
};

/** The interfaces to attach to, as the kernel (inside --netns) and the node's records say; runs `ip`. */
export function chooseInterfaces(facts: NodeFacts | undefined, nodeIp: string, a: Pick<DatapathArgs, 'netns' | 'ifaces'>): Choice {
  return inNetns(a.netns, () => {
    const want = { nodeAddresses: facts?.addresses ?? [nodeIp], pods: facts?.pods ?? [] };
    return pickInterfaces(readLinks(), routesTo(want.pods.map((p) => p.ip)), want, a.ifaces);
  });
}

/** Attaches programs to one interface (call inside the netns); says what each hook got. */
export function attachLine(dp: Datapath, i: Chosen, programs: [ProgramName, Hook][]): string {
  const done = programs.map(([p, hook]) => `${p} ${hook} ${attachProgram(i.ifindex, hook, dp.programs.get(p)!) satisfies AttachResult}`);
  return `${i.ifname} (${i.why}): ${done.join(', ')}`;
}
