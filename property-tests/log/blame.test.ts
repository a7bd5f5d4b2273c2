// blame(), the search replay runs when a batch's diff differs from the
// recording, on batches made for it: the recorded diff is that of the batch
// without one extra change, compiled after the example cluster, and blame
// must name that change, exactly while the batch is small enough to try each
// change left out (64), by its effect on the maps that differ past that, and
// give up naming past 20,000 changes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blame } from '../../runtime/log/blame.ts';
import type { BatchBoundary } from '../../runtime/log/format.ts';
import { ReplayState, type Compiled } from '../../runtime/log/replayState.ts';
import type { KubeEvent, KubeObject } from '../../runtime/sources/events.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';

const NODE = 'node-a';
const example = () => loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]).objects as KubeObject[];
const upsert = (object: KubeObject): KubeEvent => ({ type: 'upsert', object });

const service = (name: string, ip: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: ip, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
});
const namespace = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team: 'x' } } });

/** The example's web slice with one endpoint moved to another address: its diff depends on what the slice held before. */
function webMoved(): KubeObject {
  const slice = structuredClone(example().find((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'web-8kq2z')!) as { endpoints: { addresses: string[] }[] } & KubeObject;
  slice.endpoints[0].addresses = ['10.244.1.99'];
  return slice;
}

/** The batch replayed after the example, and what the recording holds: the same batch without `extra`. */
function diverging(events: KubeEvent[], extra: KubeEvent): { replay: ReplayState; compiled: Compiled; recorded: BatchBoundary } {
  const compile = (batch: KubeEvent[]) => {
    const state = new ReplayState(NODE);
    state.batch(example().map(upsert));
    return { state, compiled: state.batch(batch) };
  };
  const truth = compile(events).compiled.digest;
  const { state, compiled } = compile([...events, extra]);
  const recorded: BatchBoundary = { type: 'batch', batch: 2, events: events.length, ops: truth.ops, sha256: truth.sha256, maps: truth.maps, chain: '' };
  return { replay: state, compiled, recorded };
}

const blameOf = ({ replay, compiled, recorded }: ReturnType<typeof diverging>) => blame(NODE, replay.recordsBeforeLastBatch(), compiled.changes, recorded, compiled.digest);

test('a small batch: the change whose absence gives the recorded diff, exactly, after changes new and old were tried and undone', () => {
  // Tried in the compiler's order: the new Service's try before the extra's, undone (the extra,
  // new too, deleted; the slice put back as it was) so that the extra's try starts from the state before the batch.
  const d = diverging([upsert(service('aaa-new', '10.96.50.1')), upsert(webMoved())], upsert(service('zzz-extra', '10.96.50.2')));
  assert.equal(d.compiled.changes.map((c) => c.label), ['Service shop/aaa-new', 'Service shop/zzz-extra', 'EndpointSlice shop/web-8kq2z']);
  const r = blameOf(d);
  assert.equal(r, { maps: ['sl_svc', 'sl_svcname'], objects: ['Service shop/zzz-extra'], exact: true });
});

const namespaces = (n: number) => Array.from({ length: n }, (_, i) => upsert(namespace(`ns-${String(i).padStart(5, '0')}`)));

/** A slice of two ready endpoints for Service shop/name. */
const sliceOf = (name: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: `${name}-abcde`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ['10.244.1.60', '10.244.2.61'].map((a) => ({ addresses: [a], conditions: { ready: true } })),
});

test('64 changes are each tried left out; 65 are judged by their effect alone on the maps that differ', () => {
  // The extra Service's slice is in the batch: its effect alone touches no map, and does only
  // while the extra, tried before it, is still there (each effect's try is undone).
  const extra = upsert(service('zzz-extra', '10.96.50.2'));
  assert.equal(blameOf(diverging([upsert(sliceOf('zzz-extra')), ...namespaces(62)], extra)).exact, true, '64 changes');
  const r = blameOf(diverging([upsert(sliceOf('zzz-extra')), ...namespaces(63)], extra));
  assert.equal(r, { maps: ['sl_be', 'sl_maglev', 'sl_svc', 'sl_svcname'], objects: ['Service shop/zzz-extra'], exact: false }, '65 changes');
});

test('no change touches the maps that differ: every change is named', () => {
  const d = diverging(namespaces(2), upsert(service('zzz-extra', '10.96.50.2')));
  d.recorded = { ...d.recorded, sha256: '0'.repeat(64), maps: { ...d.compiled.digest.maps, sl_pol: [1, 0, '0123456789abcdef'] } };
  assert.equal(blameOf(d), { maps: ['sl_pol'], objects: ['Service shop/zzz-extra', 'Namespace ns-00000', 'Namespace ns-00001'], exact: false });
});

test('20,000 changes are still judged one by one; past that none is named', () => {
  const extra = upsert(service('zzz-extra', '10.96.50.2'));
  assert.equal(blameOf(diverging(namespaces(19_999), extra)).objects, ['Service shop/zzz-extra']);
  assert.equal(blameOf(diverging(namespaces(20_000), extra)), { maps: ['sl_svc', 'sl_svcname'], objects: [], exact: false });
});

test.run();
