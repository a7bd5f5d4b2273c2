// Verdicts for every flow of a small cluster, two ways: the reference
// evaluator, and the compiled maps of each node read as the datapath will.
import { compileObjects } from '../../runtime/cli/compile.ts';
import { flows, type PolicyCluster } from '../arb/policyCluster.ts';
import { Evaluator, type Cluster, type Json } from '../model/netpol.ts';
import { mapVerdict, NodePolicy } from '../model/policyMaps.ts';

export const objectsOf = (c: PolicyCluster) => [...c.namespaces, ...c.pods, ...c.policies, ...c.nodes];

/** The maps of each node that runs one of the cluster's pods, read as the datapath will. */
export function nodeMaps(cluster: Cluster): Map<string, NodePolicy> {
  const objects = [...cluster.namespaces, ...cluster.pods, ...cluster.policies, ...cluster.nodes];
  const nodes = new Set(cluster.pods.map((p) => (p.spec as Json).nodeName as string));
  const out = new Map<string, NodePolicy>();
  for (const n of [...nodes].sort()) {
    const [r] = compileObjects(objects, n);
    if (r.view.rejected.length > 0) throw new Error(`${n}: rejected: ${JSON.stringify(r.view.rejected)}`);
    out.set(n, new NodePolicy(r.store));
  }
  return out;
}

/** "src dst proto/port" for each allowed flow, by the compiled maps. */
export function mapAllowed(c: PolicyCluster): string[] {
  const maps = new Map<string, NodePolicy>();
  for (const n of ['n1', 'n2']) {
    const [r] = compileObjects(objectsOf(c), n);
    if (r.view.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(r.view.rejected)}`);
    maps.set(n, new NodePolicy(r.store));
  }
  const nodeOf = new Map(c.pods.map((p) => [(p.status as Json).podIP as string, (p.spec as Json).nodeName as string]));
  return flows(c).filter((f) => {
    const v = mapVerdict(f, maps.get(nodeOf.get(f.src) ?? ''), maps.get(nodeOf.get(f.dst) ?? ''));
    return v.egress && v.ingress;
  }).map(show);
}

export function modelAllowed(c: PolicyCluster): string[] {
  const ev = new Evaluator(c);
  return flows(c).filter((f) => ev.evaluate(f).allowed).map(show);
}

const show = (f: { src: string; dst: string; protocol: string; port: number }) => `${f.src} ${f.dst} ${f.protocol}/${f.port}`;
