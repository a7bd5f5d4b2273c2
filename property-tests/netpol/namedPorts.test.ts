// Named ports in ingress rules: each rule allows the ports its own names
// resolve to on the destination pod, not every named port the pod's
// policies name. The compiler resolves a group's names once
// (compiler/policy/engine.ts, resolution) and each rule picks its own
// (body.ts, portPrefixes); mutants that let a rule take the other rules'
// ports (any name of the same protocol, or any name at all) survived the
// sampled mutation run: no upstream case and no generated cluster has two
// rules with different named ports towards one pod. Likewise an egress
// named port through an ipBlock, which reaches the pods in the block that
// have the name (body.ts, blockPods): mutants that gave it no pods survived.
// Verdicts by hand, and the reference evaluator (model/netpol.ts) agrees
// with them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Evaluator, type Cluster, type Protocol } from '../model/netpol.ts';
import { mapVerdict } from '../model/policyMaps.ts';
import { namespace, node, pod, policy } from '../oracles/oracles.ts';
import { nodeMaps } from './verdicts.ts';

const cluster: Cluster = {
  namespaces: [namespace('shop', {})],
  nodes: [node('node-1', '192.168.0.1')],
  pods: [
    pod({ name: 'server', namespace: 'shop', ip: '10.244.1.10', node: 'node-1', labels: { app: 'server' },
      ports: [['http', 8080, 'TCP'], ['metrics', 9090, 'TCP'], ['dns', 5353, 'UDP']] }),
    pod({ name: 'client', namespace: 'shop', ip: '10.244.1.11', node: 'node-1', labels: { app: 'client' }, ports: [] }),
    pod({ name: 'monitor', namespace: 'shop', ip: '10.244.1.12', node: 'node-1', labels: { app: 'monitor' }, ports: [] }),
  ],
  policies: [policy({
    name: 'server', namespace: 'shop', spec: {
      podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] },
        { from: [{ podSelector: { matchLabels: { app: 'monitor' } } }], ports: [{ port: 'metrics' }, { port: 'dns', protocol: 'UDP' }] },
      ],
    },
  })],
};

const IP = { client: '10.244.1.11', monitor: '10.244.1.12', server: '10.244.1.10' };

/** [from, protocol, port, allowed]: each client reaches only the ports its own rule names. */
const PROBES: [from: 'client' | 'monitor', protocol: Protocol, port: number, allowed: boolean][] = [
  ['client', 'TCP', 8080, true],
  ['client', 'TCP', 9090, false], // the monitor's named port, of the same protocol
  ['client', 'UDP', 5353, false],
  ['client', 'UDP', 8080, false], // http is a TCP port
  ['monitor', 'TCP', 9090, true],
  ['monitor', 'UDP', 5353, true],
  ['monitor', 'TCP', 8080, false],
  ['monitor', 'TCP', 5353, false], // dns, named as UDP, lent to metrics' protocol
  ['monitor', 'UDP', 9090, false],
];

/** The probes' verdicts that the maps (or the model) get wrong. */
function wrongVerdicts(c: Cluster, probes: [src: string, dst: string, protocol: Protocol, port: number, allowed: boolean][]): string[] {
  const maps = nodeMaps(c).get('node-1');
  const model = new Evaluator(c);
  const wrong: string[] = [];
  for (const [src, dst, protocol, port, allowed] of probes) {
    const flow = { src, dst, protocol, port };
    const v = mapVerdict(flow, maps, maps);
    if ((v.egress && v.ingress) !== allowed) wrong.push(`${src} -> ${dst} ${port}/${protocol}: maps ${!allowed}, expected ${allowed}`);
    if (model.evaluate(flow).allowed !== allowed) wrong.push(`${src} -> ${dst} ${port}/${protocol}: the model says ${!allowed}`);
  }
  return wrong;
}

test('two ingress rules with named ports towards one pod: each allows its own ports, by the maps and by the model', () => {
  assert.equal(wrongVerdicts(cluster, PROBES.map(([from, protocol, port, allowed]) => [IP[from], IP.server, protocol, port, allowed])), []);
});

test('an egress named port through an ipBlock: the pods in the block with that name, on its port; no other pod, port or address', () => {
  const egress = policy({
    name: 'client-out', namespace: 'shop', spec: {
      podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.244.1.0/28' } }], ports: [{ port: 'http' }] }],
    },
  });
  const other = pod({ name: 'other', namespace: 'shop', ip: '10.244.1.20', node: 'node-1', labels: { app: 'other' }, ports: [['http', 8080, 'TCP']] });
  const c: Cluster = { ...cluster, pods: [...cluster.pods, other], policies: [egress] };
  assert.equal(wrongVerdicts(c, [
    [IP.client, IP.server, 'TCP', 8080, true],
    [IP.client, IP.server, 'TCP', 9090, false], // the server's other named port
    [IP.client, IP.monitor, 'TCP', 8080, false], // in the block, but no port named http
    [IP.client, '10.244.1.20', 'TCP', 8080, false], // named http on 8080, but outside the block
    [IP.client, '10.244.1.13', 'TCP', 8080, false], // in the block, no pod: a name resolves on pods only
  ]), []);
});

test.run();
