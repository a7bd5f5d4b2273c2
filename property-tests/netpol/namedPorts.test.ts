// Named ports in ingress rules: each rule allows the ports its own names
// resolve to on the destination pod, not every named port the pod's
// policies name. The compiler resolves a group's names once
// (compiler/policy/engine.ts, resolution) and each rule picks its own
// (body.ts, portPrefixes); mutants that let a rule take the other rules'
// ports (any name of the same protocol, or any name at all) survived the
// sampled mutation run: no upstream case and no generated cluster has two
// rules with different named ports towards one pod. Verdicts by hand, and
// the reference evaluator (model/netpol.ts) agrees with them.
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

test('two ingress rules with named ports towards one pod: each allows its own ports, by the maps and by the model', () => {
  const maps = nodeMaps(cluster).get('node-1');
  const model = new Evaluator(cluster);
  const wrong: string[] = [];
  for (const [from, protocol, port, allowed] of PROBES) {
    const flow = { src: IP[from], dst: IP.server, protocol, port };
    const v = mapVerdict(flow, maps, maps);
    if ((v.egress && v.ingress) !== allowed) wrong.push(`${from} -> server ${port}/${protocol}: maps ${!allowed}, expected ${allowed}`);
    if (model.evaluate(flow).allowed !== allowed) wrong.push(`${from} -> server ${port}/${protocol}: the model says ${!allowed}`);
  }
  assert.equal(wrong, []);
});

test.run();
