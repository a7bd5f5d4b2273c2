// The agent holds the records it does not read as bytes until their batch
// (holdRecords.ts). The model is the pipeline every other command runs, in
// which every record stays an object: over two batches of random clusters,
// the held batches encode to the same bytes, and the agent's readers of a
// batch (LocalNode, HealthCheckTargets) reach the same state and report the
// same changes, as from the objects. What the draws reach (records held as
// bytes, records kept, a record kept in one batch and held in the next,
// records spread over several chunks) is counted and bounded below.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { HealthCheckTargets } from '../../runtime/agent/healthCheckTargets.ts';
import { LocalNode } from '../../runtime/agent/localNode.ts';
import { refKey } from '../../runtime/encode/objectKey.ts';
import { decodeRecords, encodeBatch, encodeRecords, type Held, type Record, type Upsert } from '../../runtime/encode/schema.ts';
import { Observable, type OperatorFunction } from '../../runtime/rx/rx.ts';
import type { KubeEvent, KubeObject } from '../../runtime/sources/events.ts';
import { RecordChunks } from '../../runtime/streams/holdRecords.ts';
import { heldBatches, recordBatches } from '../../runtime/streams/recordBatches.ts';
import { kubeCluster } from '../arb/kubeCluster.ts';
import { policyCluster } from '../arb/policyCluster.ts';
import { record } from '../arb/record.ts';
import { check } from '../seed.ts';

type Json = { [k: string]: any };

test('a record held as bytes encodes as the record itself, in any chunk', () => {
  const reach = { encoded: 0, kept: 0, chunks: 0, overChunk: 0 };
  check(fc.property(fc.array(fc.tuple(record(), fc.boolean()), { maxLength: 40 }), fc.integer({ min: 16, max: 512 }), (drawn, chunkBytes) => {
    const keep = new Set(drawn.filter(([, k]) => k).map(([r]) => r));
    const chunks = new RecordChunks((r) => keep.has(r), chunkBytes);
    const records = drawn.map(([r]) => r);
    const held = records.map((r) => chunks.hold(r));
    assert.equal(encodeRecords(held), encodeRecords(records));
    const arrays = new Set<Uint8Array>();
    held.forEach((h, i) => {
      const r = records[i];
      if (h.op !== 'encoded') {
        assert.ok(h === r, 'a delete or a kept record is the object itself');
        assert.ok(r.op === 'delete' || keep.has(r));
        if (r.op === 'upsert') reach.kept++;
        return;
      }
      assert.not.ok(keep.has(r));
      assert.equal({ kind: h.kind, namespace: h.namespace, name: h.name }, { kind: r.kind, namespace: r.namespace, name: r.name });
      assert.equal(decodeRecords(h.chunk.subarray(h.at, h.at + h.length)), [r]);
      arrays.add(h.chunk);
      reach.encoded++;
      if (h.length > chunkBytes) reach.overChunk++;
    });
    if (arrays.size > 1) reach.chunks++;
  }), { numRuns: 200 });
  console.log(`# reach: ${reach.encoded} records held as bytes, ${reach.kept} upserts kept, ${reach.chunks} runs over several chunks, ${reach.overChunk} records longer than a chunk`);
  assert.ok(reach.encoded > 300 && reach.kept > 300 && reach.chunks > 50 && reach.overChunk > 100, JSON.stringify(reach));
});

test('a record the ABI cannot hold stays an object, and its batch refuses it by name', () => {
  const chunks = new RecordChunks(() => false, 64);
  const ok: Record = { kind: R.KIND_NAMESPACE, op: 'upsert', namespace: '', name: 'a', body: { labels: [['team', 'x']] } };
  const long: Record = { kind: R.KIND_NAMESPACE, op: 'upsert', namespace: '', name: 'b', body: { labels: [['team', 'x'.repeat(70_000)]] } };
  const held = [ok, long, ok].map((r) => chunks.hold(r));
  assert.equal(held.map((h) => h.op), ['encoded', 'upsert', 'encoded']);
  assert.ok(held[1] === long);
  const { bytes, refused } = encodeBatch(held);
  assert.equal(refused.map((r) => [r.ref.name, r.reason]), [['b', 'string of 70000 bytes exceeds the record ABI\'s 65535']]);
  assert.equal(decodeRecords(bytes), [ok, { kind: R.KIND_NAMESPACE, namespace: '', name: 'b', op: 'delete' }, ok]);
});

/** The one batch a source that ends at once gives. */
function batchOf<T>(events: KubeEvent[], pipeline: OperatorFunction<KubeEvent, T[]>): T[] {
  let batch: T[] | undefined;
  new Observable<KubeEvent>((out) => {
    for (const e of events) out.next(e);
    out.complete();
  }).pipe(pipeline).subscribe((b) => (batch = b)).unsubscribe();
  return batch!;
}

/** The API server allocates a healthCheckNodePort to a LoadBalancer of externalTrafficPolicy Local. */
const withCheckPorts = (objects: Json[]) => objects.map((o, i) => (o.kind === 'Service' && o.spec.type === 'LoadBalancer' && o.spec.externalTrafficPolicy === 'Local'
  ? { ...o, spec: { ...o.spec, healthCheckNodePort: 32000 + i } } : o));

const cluster = () => fc.tuple(kubeCluster(), policyCluster())
  .map(([k, p]) => ({ node: k.node, objects: [...withCheckPorts(k.objects), ...p.namespaces, ...p.pods, ...p.policies] as KubeObject[] }));

const identity = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

test('held batches encode, and are read by the agent, as the objects are', () => {
  const reach = { heldBatches: 0, keptBatches: 0, keptThenHeld: 0 };
  const KINDS: { [kind: number]: string } = { [R.KIND_POD]: 'Pod', [R.KIND_SERVICE]: 'Service', [R.KIND_ENDPOINT_SLICE]: 'EndpointSlice' };
  const keptKinds = new Map<string, number>();
  check(fc.property(cluster(), cluster(), (first, second) => {
    const node = first.node;
    const now = new Set(second.objects.map(identity));
    const sources: KubeEvent[][] = [
      [...first.objects.map((object): KubeEvent => ({ type: 'upsert', object })), { type: 'synced' }],
      [...second.objects.map((object): KubeEvent => ({ type: 'upsert', object })),
        ...first.objects.filter((o) => !now.has(identity(o))).map((object): KubeEvent => ({ type: 'delete', object })), { type: 'synced' }],
    ];
    const run = (held: boolean) => {
      const local = new LocalNode(node), targets = new HealthCheckTargets(node);
      const keeps = (r: Upsert) => local.keeps(r) || targets.keeps(r);
      return sources.map((events) => {
        const batch: Held[] = batchOf<Held>(events, held ? heldBatches(0, keeps) : recordBatches(0));
        return {
          batch,
          encoded: encodeBatch(batch),
          localChanged: local.update(batch), facts: local.facts(),
          targetsChanged: targets.update(batch), targets: targets.targets(),
        };
      });
    };
    const want = run(false), got = run(true);
    assert.equal(got.map(({ batch: _, ...rest }) => rest), want.map(({ batch: _, ...rest }) => rest));
    const isHeld = (b: Held[]) => new Set(b.filter((h) => h.op === 'encoded').map((h) => refKey(h)));
    // Nodes are always kept: what else a batch keeps is what the readers asked for.
    const kept = (b: Held[]) => new Set(b.filter((h): h is Record => h.op === 'upsert' && h.kind !== R.KIND_NODE).map((h) => refKey(h)));
    for (const { batch } of got) {
      if (isHeld(batch).size > 0) reach.heldBatches++;
      if (kept(batch).size > 0) reach.keptBatches++;
      for (const h of batch) if (h.op === 'upsert' && KINDS[h.kind]) keptKinds.set(KINDS[h.kind], (keptKinds.get(KINDS[h.kind]) ?? 0) + 1);
    }
    const heldLater = isHeld(got[1].batch);
    if ([...kept(got[0].batch)].some((k) => heldLater.has(k))) reach.keptThenHeld++;
  }), { numRuns: 150 });
  console.log(`# reach: of 300 batches, ${reach.heldBatches} held records as bytes and ${reach.keptBatches} kept some as objects; in ${reach.keptThenHeld} of 150 runs a record kept in the first batch was held in the second; kept: ${[...keptKinds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
  assert.ok(reach.heldBatches > 250 && reach.keptBatches > 150 && reach.keptThenHeld > 15 && ['Pod', 'Service', 'EndpointSlice'].every((k) => (keptKinds.get(k) ?? 0) > 50),
    JSON.stringify({ ...reach, keptKinds: [...keptKinds] }));
});

test.run();
