// The compiled view of random clusters equals the kube-proxy reference model
// (model/kubeProxy.ts): every frontend, its traffic policy, backends,
// affinity and source ranges; what pods get through an
// externalTrafficPolicy=Local frontend (its in-cluster twin, read from
// sl_svc with a decoder of its own); and which Services lose a contested
// frontend. kubeproxy.test.ts holds the named cases of the same rules.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { compileObjects } from '../../runtime/cli/compile.ts';
import { layoutOf, type MapStore } from '../../runtime/maps/store.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import { textOf as ipText } from '../../runtime/encode/ipv4.ts';
import { uintReader } from '../../runtime/abi/fieldReader.ts';
import { kubeCluster } from '../arb/kubeCluster.ts';
import { Coverage } from '../coverage.ts';
import { frontendId, kubeProxyModel, MODEL_CLASSES, type ModelBackend, type ModelClass } from '../model/kubeProxy.ts';
import type { Json } from '../model/kube.ts';
import { check } from '../seed.ts';

/** The least share of runs that must reach each class: 10%, or about 3.5 standard deviations under the
 * share measured over 600 runs for the rarer ones, so that a moving seed does not make it flaky. */
const SHARES: { [C in ModelClass]: number } = {
  ...Object.fromEntries(MODEL_CLASSES.map((c) => [c, 0.1])) as { [C in ModelClass]: number },
  'over 128 backends': 0.02, 'older Service keeps an external IP': 0.02, 'ClusterIP beats externalIP/ingress IP': 0.03,
  'Local frontend without local endpoint': 0.05, 'no Node object': 0.08,
};

/** sl_svc's SCOPE_INTERNAL entries as "ip:port/protocol" -> backends, decoded from the map layouts. */
function internalTwins(store: MapStore): Map<string, ModelBackend[]> {
  const svc = layoutOf('sl_svc'), be = layoutOf('sl_be');
  const [vip, port, proto, scope] = ['vip', 'port', 'proto', 'scope'].map((f) => uintReader(svc.key, f));
  const bset = uintReader(svc.value, 'bset');
  const [beSet, beIp, bePort] = [uintReader(be.key, 'bset'), uintReader(be.value, 'ip'), uintReader(be.value, 'port')];
  const backends = Map.groupBy(store.entries('sl_be'), ([k]) => beSet(k));
  const protocols: { [p: number]: string } = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };
  return new Map(store.entries('sl_svc').filter(([k]) => scope(k) === A.SL_SCOPE_INTERNAL).map(([k, v]) => [
    `${ipText(vip(k))}:${port(k)}/${protocols[proto(k)]}`,
    (backends.get(bset(v)) ?? []).map(([, bv]) => ({ ip: beIp(bv), port: bePort(bv) }))
      .sort((a, b) => a.ip - b.ip || a.port - b.port).map((b) => ({ ip: ipText(b.ip), port: b.port })),
  ]));
}

/** The view, model and twins of one cluster, shaped alike for assert.equal. */
function compare(objects: Json[], node: string): Set<ModelClass> {
  const model = kubeProxyModel(objects, node);
  const [{ view, store }] = compileObjects(objects, node);
  const byId = <T extends { ip: string; port: number; protocol: string }>(fs: T[]) =>
    Object.fromEntries(fs.map((f) => [frontendId(f), f]).sort(([a], [b]) => (a < b ? -1 : 1)));
  assert.equal(byId(view.frontends), byId(model.frontends), 'frontends');
  // A twin is read only through a frontend whose flags say it has one: external, trafficPolicy Local.
  const twins = internalTwins(store);
  const read = Object.fromEntries(view.frontends.filter((f) => f.type !== 'ClusterIP' && f.trafficPolicy === 'Local')
    .map((f) => [frontendId(f), twins.get(frontendId(f)) ?? 'none']));
  assert.equal(read, Object.fromEntries(model.inCluster), 'in-cluster twins of externalTrafficPolicy=Local frontends');
  const conflicts = view.rejected.filter((r) => /frontend/.test(r.reason));
  assert.equal([...new Set(conflicts.map((r) => r.object))].sort(), [...model.lost].map((s) => `Service ${s}`).sort(), 'Services that lost a frontend');
  assert.equal(view.rejected.filter((r) => !conflicts.includes(r)), [], 'nothing else rejected: the objects are valid');
  return model.reached;
}

test('the compiled view equals the kube-proxy model for random clusters', () => {
  const coverage = new Coverage('kube-proxy model', SHARES);
  check(fc.property(kubeCluster(), ({ objects, node }) => coverage.run(compare(objects, node))), { numRuns: 300 });
  coverage.check();
});

test('examples/cluster.yaml: each node\'s view equals the model', () => {
  const { objects } = loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]);
  const nodes = (objects as Json[]).filter((o) => o.kind === 'Node').map((o) => (o.metadata as Json).name as string);
  assert.equal(nodes.length, 2);
  for (const n of nodes) compare(objects as Json[], n);
});

test.run();
