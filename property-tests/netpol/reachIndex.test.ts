// A batch drops only the peer expansions of the policies that may name what
// it moved (compiler/policy/reach.ts): for a pod's identity, those of the
// pod's own namespace and those whose namespace selector requires a label
// the namespace carries now; for a relabelled namespace, those whose
// selector requires a label it carried before or carries now. Here a
// namespace's labels, or a policy's namespace selector, change between two
// pod batches, and a namespace leaves the team a policy names: each time the
// client is let in or shut out as a fresh compile has it. The mixed
// histories of incremental.prop.ts missed a lookup that kept a namespace's
// matches across such changes (but with a moving seed), and one that looked
// a relabelled namespace up by its new labels alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { recordsFor } from '../model/kube.ts';
import { compileOnce, dump } from '../model/maps.ts';
import { Evaluator, type Cluster, type Json } from '../model/netpol.ts';
import { mapVerdict, NodePolicy } from '../model/policyMaps.ts';
import { namespace, node, pod, policy } from '../oracles/oracles.ts';

const SERVER = '10.244.1.10', CLIENT = '10.244.1.11';
const server = pod({ name: 'server', namespace: 'shop', ip: SERVER, node: 'node-1', labels: { app: 'server' }, ports: [] });
const client = (app: string) => pod({ name: 'client', namespace: 'tools', ip: CLIENT, node: 'node-1', labels: { app }, ports: [] });
/** The server lets in pods labelled app=client of namespaces labelled with team. */
const serverIn = (team: string) => policy({ name: 'server-in', namespace: 'shop', spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { team } }, podSelector: { matchLabels: { app: 'client' } } }] }] } });

/** The client's TCP 80 to the server: the maps' verdict, after checking it against the reference evaluator's. */
function clientIn(store: MemoryStore, c: Cluster): boolean {
  const flow = { src: CLIENT, dst: SERVER, protocol: 'TCP' as const, port: 80 };
  const maps = new NodePolicy(store), v = mapVerdict(flow, maps, maps);
  assert.is(v.egress && v.ingress, new Evaluator(c).evaluate(flow).allowed, 'the maps and the reference evaluator differ');
  return v.egress && v.ingress;
}

/** tools labelled team, the client app, the policy's team. */
const cluster = (team: string, app: string, allowed = 'a'): Cluster => ({
  namespaces: [namespace('shop', {}), namespace('tools', { team })], nodes: [node('node-1', '192.168.0.1')], pods: [server, client(app)],
  policies: [serverIn(allowed)],
});
const objects = (c: Cluster): Json[] => [...c.namespaces, ...c.nodes, ...c.pods, ...c.policies];
/** What a fresh compile of cluster c holds. */
const fresh = (c: Cluster) => compileOnce(recordsFor(objects(c)), { node: 'node-1' });

/** A compiler for node-1, and the maps its batches' diffs are applied to. */
function compiler(): { store: MemoryStore; batch: (objs: Json[]) => void } {
  const c = new Compiler({ node: 'node-1' }), store = new MemoryStore();
  return { store, batch: (objs) => store.apply(c.batch(encodeRecords(recordsFor(objs)))) };
}

test('a namespace relabelled between pod batches: the policy its new labels match takes the next pod change', () => {
  const { store, batch } = compiler();
  batch(objects(cluster('b', 'client')));
  assert.is(clientIn(store, cluster('b', 'client')), false, 'team b: not let in');
  batch([client('other')]); // matched against tools while it is team b
  assert.is(clientIn(store, cluster('b', 'other')), false);
  batch([namespace('tools', { team: 'a' })]);
  assert.is(clientIn(store, cluster('a', 'other')), false, 'team a, but app=other');
  batch([client('client')]);
  assert.is(clientIn(store, cluster('a', 'client')), true, 'team a and app=client: let in');
  assert.equal(dump(store), fresh(cluster('a', 'client')));
});

test('a policy\'s namespace selector edited between pod batches: the next pod change meets it', () => {
  const { store, batch } = compiler();
  batch(objects(cluster('a', 'other', 'c')));
  batch([client('another')]); // matched against the policy while it names team c
  assert.is(clientIn(store, cluster('a', 'another', 'c')), false, 'the policy names team c');
  batch([serverIn('a')]);
  assert.is(clientIn(store, cluster('a', 'another')), false, 'team a, but app=another');
  batch([client('client')]);
  assert.is(clientIn(store, cluster('a', 'client')), true, 'team a and app=client: let in');
  assert.equal(dump(store), fresh(cluster('a', 'client')));
});

test('a namespace relabelled out of the team a policy names: found by its old labels, the client shut out', () => {
  const { store, batch } = compiler();
  batch(objects(cluster('a', 'client')));
  assert.is(clientIn(store, cluster('a', 'client')), true, 'team a and app=client: let in');
  batch([namespace('tools', { team: 'b' })]);
  assert.is(clientIn(store, cluster('b', 'client')), false, 'team b: shut out');
  assert.equal(dump(store), fresh(cluster('b', 'client')));
});

test.run();
