// Small clusters for NetworkPolicy properties, as Kubernetes objects: few
// label keys and values, so selectors often match; addresses from one /28,
// so ipBlocks, excepts and pods overlap; two nodes.
import fc from 'fast-check';
import type { Json, Protocol } from '../model/netpol.ts';
import { namespace, node, pod, policy } from '../oracles/oracles.ts';
import { inSubnet, parseU32 } from '../../runtime/encode/ipv4.ts';

export const NAMESPACES = ['x', 'y', 'z'];
export const NODES = [node('n1', '10.1.0.1'), node('n2', '10.1.0.2')];
export const EXTERNAL = '10.0.0.14';
const VALUES = ['a', 'b', 'c'];
const KEYS = ['app', 'tier'];

const labels = () => fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 });

const expr = () => fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS, 'ns'), operator: fc.constantFrom('In', 'NotIn'), values: fc.uniqueArray(fc.constantFrom(...VALUES, 'x', 'y'), { minLength: 1, maxLength: 2 }) }),
  fc.record({ key: fc.constantFrom(...KEYS, 'ns'), operator: fc.constantFrom('Exists', 'DoesNotExist') }),
);

export const selector = () => fc.record({ matchLabels: labels(), matchExpressions: fc.array(expr(), { maxLength: 1 }) }, { requiredKeys: [] });

const CIDRS = ['10.0.0.0/28', '10.0.0.0/29', '10.0.0.8/29', '10.0.0.0/30', '10.0.0.4/30', '10.0.0.2/31', '10.0.0.5/32', '10.1.0.0/30', '0.0.0.0/0'];

function inside(inner: string, outer: string): boolean {
  const [ia, il] = inner.split('/'), [oa, ol] = outer.split('/');
  return Number(il) > Number(ol) && inSubnet(parseU32(ia), parseU32(oa), Number(ol));
}

const ipBlock = () => fc.constantFrom(...CIDRS).chain((cidr) =>
  fc.subarray(CIDRS.filter((c) => inside(c, cidr)), { maxLength: Math.min(2, CIDRS.filter((c) => inside(c, cidr)).length) }).map((except) => (except.length ? { cidr, except } : { cidr })));

const peer = () => fc.oneof(
  fc.record({ podSelector: selector() }),
  fc.record({ namespaceSelector: selector() }),
  fc.record({ podSelector: selector(), namespaceSelector: selector() }),
  fc.record({ ipBlock: ipBlock() }),
);

const port = () => fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP', 'SCTP') }, { requiredKeys: [] }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(53, 80, 81) }, { requiredKeys: ['port'] }),
  fc.record({ port: fc.constantFrom('http', 'dns', 'metrics'), protocol: fc.constantFrom('TCP', 'UDP') }, { requiredKeys: ['port'] }),
  fc.record({ port: fc.constantFrom(79, 80), endPort: fc.constantFrom(80, 81, 82, 1024) }),
);

export const rule = (peers: 'from' | 'to') => fc.record({ [peers]: fc.array(peer(), { maxLength: 2 }), ports: fc.array(port(), { maxLength: 2 }) }, { requiredKeys: [] });

export const policySpec = () => fc.record({
  podSelector: selector(),
  policyTypes: fc.constantFrom(undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']),
  ingress: fc.array(rule('from'), { maxLength: 2 }),
  egress: fc.array(rule('to'), { maxLength: 2 }),
}).map(({ policyTypes, ...rest }) => (policyTypes ? { policyTypes, ...rest } : rest));

const PORTS: [string, number, string][][] = [[], [['http', 80, 'TCP']], [['http', 81, 'TCP'], ['dns', 53, 'UDP']], [['metrics', 80, 'TCP'], ['dns', 53, 'TCP']]];

interface PodFields { ns: string; labels: Record<string, string>; node: string; ports: [string, number, string][] }

const podFields = (node = fc.constantFrom('n1', 'n2')): fc.Arbitrary<PodFields> =>
  fc.record({ ns: fc.constantFrom(...NAMESPACES), labels: labels(), node, ports: fc.constantFrom(...PORTS) });

const podAt = (i: number, p: PodFields) => pod({ name: `p${i}`, namespace: p.ns, ip: `10.0.0.${i + 1}`, node: p.node, labels: p.labels, ports: p.ports });

export const podObject = (i: number) => podFields().map((p) => podAt(i, p));

/** A pod of node n1 and the one that replaces it, alike but for name and address, as a rollout makes. */
export const replacement = (): fc.Arbitrary<[Json, Json]> => fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 5 }), podFields(fc.constant('n1')))
  .map(([i, step, p]) => [podAt(i, p), podAt((i + step) % 6, p)]);

export const namespaceObject = (name: string) => labels().map((l) => namespace(name, { ...l, ns: name }));

export const policyObject = (name: string) => fc.record({ ns: fc.constantFrom(...NAMESPACES), spec: policySpec() })
  .map((p) => policy({ name, namespace: p.ns, spec: p.spec }));

export interface PolicyCluster { namespaces: Json[]; pods: Json[]; policies: Json[]; nodes: Json[] }

export const policyCluster = (): fc.Arbitrary<PolicyCluster> => fc.record({
  namespaces: fc.subarray(NAMESPACES).chain((ns) => fc.tuple(...ns.map(namespaceObject))),
  pods: fc.integer({ min: 0, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => podObject(i)))),
  policies: fc.integer({ min: 0, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyObject(`np${i}`)))),
}).map((c) => ({ ...c, nodes: NODES }));

export interface TestFlow { src: string; dst: string; protocol: Protocol; port: number }

/** Every ordered pair of addresses the cluster knows (pods, nodes, one outsider) on a few ports. */
export function flows(c: PolicyCluster): TestFlow[] {
  const ips = [...c.pods.map((p) => ((p.status as Json).podIP as string)), '10.1.0.1', '10.1.0.2', EXTERNAL];
  const out: TestFlow[] = [];
  for (const src of ips) {
    for (const dst of ips) {
      for (const [protocol, port] of [['TCP', 80], ['TCP', 81], ['UDP', 53], ['SCTP', 80]] as [Protocol, number][]) out.push({ src, dst, protocol, port });
    }
  }
  return out;
}
