// A batch that changes NetworkPolicies and nothing else: no pod, namespace
// or identity moves, so the engine drops only the changed policies' peer
// expansions (compiler/policy/engine.ts, invalidateExpansions) instead of
// walking every policy. An edit that changes whom a policy's peers select
// must still take effect: the maps after the diffs are those of a fresh
// compile, and the verdicts are the hand-written ones, which the reference
// evaluator shares. Histories of mixed batches (incremental.prop.ts) rarely
// hold such a batch after the policy's expansions were cached: a fast path
// that kept one changed policy's stale expansion passed them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { recordsFor } from '../model/kube.ts';
import { compileOnce, dump } from '../model/maps.ts';
import { Evaluator, type Cluster, type Json, type Protocol } from '../model/netpol.ts';
import { mapVerdict, NodePolicy } from '../model/policyMaps.ts';
import { namespace, node, pod, policy } from '../oracles/oracles.ts';

const IP = { server: '10.244.1.10', client: '10.244.1.11', monitor: '10.244.1.12', db: '10.244.1.13' };
const pods = (['server', 'client', 'monitor', 'db'] as const).map((name) =>
  pod({ name, namespace: 'shop', ip: IP[name], node: 'node-1', labels: { app: name }, ports: [] }));
/** Who may reach the server (ingress), and whom the client may reach (egress). */
const policies = (from: string, to: string): Json[] => [
  policy({ name: 'server-in', namespace: 'shop', spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: from } } }] }] } }),
  policy({ name: 'client-out', namespace: 'shop', spec: { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'],
    egress: [{ to: [{ podSelector: { matchLabels: { app: to } } }] }] } }),
];
const base = { namespaces: [namespace('shop', {})], nodes: [node('node-1', '192.168.0.1')], pods };

/** [src, dst, allowed] over TCP 80, by hand. */
function wrong(store: MemoryStore, c: Cluster, probes: [keyof typeof IP, keyof typeof IP, boolean][]): string[] {
  const maps = new NodePolicy(store), model = new Evaluator(c), out: string[] = [];
  for (const [src, dst, allowed] of probes) {
    const flow = { src: IP[src], dst: IP[dst], protocol: 'TCP' as Protocol, port: 80 };
    const v = mapVerdict(flow, maps, maps);
    if ((v.egress && v.ingress) !== allowed) out.push(`${src} -> ${dst}: maps ${!allowed}, expected ${allowed}`);
    if (model.evaluate(flow).allowed !== allowed) out.push(`${src} -> ${dst}: the model says ${!allowed}`);
  }
  return out;
}

test('policies edited alone, one batch each and both in one: their new peers take effect, as a fresh compile has them', () => {
  const c = new Compiler({ node: 'node-1' }), store = new MemoryStore();
  const first: Cluster = { ...base, policies: policies('client', 'server') };
  store.apply(c.batch(encodeRecords(recordsFor([...first.namespaces, ...first.nodes, ...first.pods, ...first.policies]))));
  assert.equal(wrong(store, first, [['client', 'server', true], ['monitor', 'server', false], ['client', 'db', false]]), []);

  const [serverIn, clientOut] = policies('monitor', 'db');
  store.apply(c.batch(encodeRecords(recordsFor([serverIn]))));
  const second: Cluster = { ...base, policies: [serverIn, policies('client', 'server')[1]] };
  assert.equal(wrong(store, second, [['monitor', 'server', true], ['client', 'server', false], ['client', 'db', false]]), []);
  assert.equal(dump(store), compileOnce(recordsFor([...base.namespaces, ...base.nodes, ...base.pods, ...second.policies]), { node: 'node-1' }));

  store.apply(c.batch(encodeRecords(recordsFor([clientOut]))));
  const third: Cluster = { ...base, policies: [serverIn, clientOut] };
  assert.equal(wrong(store, third, [['client', 'db', true], ['client', 'server', false], ['monitor', 'server', true]]), []);

  const back = policies('client', 'server');
  store.apply(c.batch(encodeRecords(recordsFor(back))));
  const fourth: Cluster = { ...base, policies: back };
  assert.equal(wrong(store, fourth, [['client', 'server', true], ['monitor', 'server', false], ['client', 'db', false]]), []);
  assert.equal(dump(store), compileOnce(recordsFor([...base.namespaces, ...base.nodes, ...base.pods, ...back]), { node: 'node-1' }));
});

test.run();
