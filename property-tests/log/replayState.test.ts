// ReplayState, the replay's one node, against what its parts say by
// themselves: the objects it holds are the events' fold, the records before
// the last batch are the previous batch's own records, a snapshot ends with
// exactly its objects (and the image of a fresh compile of them), a reset
// starts from nothing, and the findings come sorted by object.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { changesOf, ReplayState } from '../../runtime/log/replayState.ts';
import { digestOf } from '../../runtime/log/digest.ts';
import type { KubeEvent, KubeObject } from '../../runtime/sources/events.ts';
import { Compiler } from '../../runtime/wasm/host.ts';

const NODE = 'node-a';
const service = (ns: string, name: string, clusterIP: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP, ports: [{ port: 80, protocol: 'TCP' }] },
});
const [a1, a2, b, c] = [service('shop', 'a', '10.96.0.11'), service('shop', 'a', '10.96.0.12'), service('shop', 'b', '10.96.0.13'), service('shop', 'c', '10.96.0.14')];
const up = (object: KubeObject): KubeEvent => ({ type: 'upsert', object });
const del = (object: KubeObject): KubeEvent => ({ type: 'delete', object });
const names = (objects: KubeObject[]) => objects.map((o) => `${o.metadata.name} ${(o.spec as { clusterIP: string }).clusterIP}`).sort();
/** The records a batch of events gives by itself, by key. */
const recordsOf = (events: KubeEvent[]) => new Map(changesOf(events).changes.map((ch) => [ch.key, ch.record]));

test('the objects held are the fold of the events; a synced event in a batch is no object', () => {
  const s = new ReplayState(NODE);
  s.batch([up(a1), up(b), { type: 'synced' }]);
  assert.equal(names(s.currentObjects()), ['a 10.96.0.11', 'b 10.96.0.13']);
  s.batch([up(a2), del(b), up(c)]);
  assert.equal(names(s.currentObjects()), ['a 10.96.0.12', 'c 10.96.0.14']);
});

test('the records before the last batch: changed ones as they were, deleted ones back, new ones absent', () => {
  const s = new ReplayState(NODE);
  const first = [up(a1), up(b)];
  s.batch(first);
  s.batch([up(a2), del(b), up(c)]);
  assert.equal(s.recordsBeforeLastBatch(), recordsOf(first));
  s.batch([up(b)]);
  assert.equal(s.recordsBeforeLastBatch(), recordsOf([up(a2), up(c)]), 'b deleted in the batch before');
});

test('a snapshot ends with exactly its objects, deleting the rest; its digest is the image of a fresh compile of them', () => {
  const s = new ReplayState(NODE);
  s.batch([up(a1), up(b), up(c)]);
  const snap = s.snapshot([up(a2), up(b), up({ apiVersion: 'v1', kind: 'Service', metadata: {} } as KubeObject)]);
  assert.equal(names(s.currentObjects()), ['a 10.96.0.12', 'b 10.96.0.13']);
  assert.ok(snap.changes.some((ch) => ch.label === 'Service shop/c' && ch.record.op === 'delete'), 'c deleted');
  const fresh = new Compiler({ node: NODE });
  fresh.batch(encodeRecords(changesOf([up(a2), up(b)]).changes.map((ch) => ch.record)));
  assert.equal(snap.digest, digestOf(fresh.rebuild()));
});

test('a reset starts from nothing: no objects, no records, and the next batch compiles as a fresh one', () => {
  const s = new ReplayState(NODE);
  s.batch([up(a1)]);
  s.batch([up(a2), up(b)]);
  s.reset();
  assert.equal(s.currentObjects(), []);
  assert.equal(s.recordsBeforeLastBatch(), new Map());
  assert.equal(s.batch([up(c)]).digest, new ReplayState(NODE).batch([up(c)]).digest);
});

test('findings: the normalizer\'s rejections and the compiler\'s problems, sorted by object', () => {
  const s = new ReplayState(NODE);
  s.batch([up(service('zzz', 'bad', 'not-an-ip')), up(service('shop', 'a', '10.96.0.20')), up(service('shop', 'b', '10.96.0.20'))]);
  assert.equal(s.findings().rejected.map((r) => r.object), ['Service shop/b', 'Service zzz/bad']);
});

test.run();
