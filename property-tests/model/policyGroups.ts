// One node's policy groups as doc/policy.md defines them, from the Kubernetes
// objects and the reference evaluator's selection (not from the compiler): a
// group per direction is the policies isolating a local pod for it, plus, for
// ingress, how their port names resolve on the pod. For the coverage counts
// of the incremental properties.
import { Evaluator, hostNetwork, onNetwork, type Cluster, type Json } from './netpol.ts';

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const refOf = (o: Json) => `${obj(o.metadata).namespace as string}/${obj(o.metadata).name as string}`;

/** "name/protocol=port" for each port name the policies' ingress rules use that the pod serves. */
function resolution(pod: Json, policies: Json[]): string[] {
  const served = arr(obj(pod.spec).containers).flatMap((c) => arr(c.ports));
  const out = new Set<string>();
  for (const rule of policies.flatMap((np) => arr(obj(np.spec).ingress))) {
    for (const port of arr(rule.ports)) {
      if (typeof port.port !== 'string' || /^[0-9]+$/.test(port.port)) continue;
      const proto = (port.protocol as string | undefined) ?? 'TCP';
      const cp = served.find((x) => x.name === port.port && ((x.protocol as string | undefined) ?? 'TCP') === proto);
      if (cp) out.add(`${port.port}/${proto}=${cp.containerPort as number}`);
    }
  }
  return [...out].sort();
}

/** Each group of the node's pods, by key, with the pods in it. */
export function policyGroups(c: Cluster, node: string): Map<string, Set<string>> {
  const ev = new Evaluator(c);
  const groups = new Map<string, Set<string>>();
  for (const pod of c.pods.filter((p) => obj(p.spec).nodeName === node && onNetwork(p) && !hostNetwork(p))) {
    for (const dir of ['Ingress', 'Egress'] as const) {
      const pols = ev.policiesFor(pod, dir);
      if (pols.length === 0) continue;
      const key = `${dir} ${pols.map(refOf).join(',')}${dir === 'Ingress' ? ` ${resolution(pod, pols).join(',')}` : ''}`;
      if (!groups.has(key)) groups.set(key, new Set());
      groups.get(key)!.add(refOf(pod));
    }
  }
  return groups;
}

/** Whether some group keeps its key across a change while every pod in it is replaced by others. */
export function groupReplaced(before: Map<string, Set<string>>, after: Map<string, Set<string>>): boolean {
  for (const [key, was] of before) {
    const now = after.get(key);
    if (now && ![...now].some((p) => was.has(p))) return true;
  }
  return false;
}
