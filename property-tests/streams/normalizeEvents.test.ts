// normalizeEvents: KubeEvents -> keyed records, rejections and notes as items.
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import type { KubeEvent, KubeObject } from '../../runtime/sources/events.ts';
import { normalizeEvents, type NormalizedEvent } from '../../runtime/streams/normalizeEvents.ts';
import { svc } from '../model/kube.ts';

const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));
const good = svc('shop/web', { clusterIP: '10.96.0.5', ports: [{ port: 80, protocol: 'TCP' }] }) as KubeObject;
const bad = svc('shop/web', { clusterIP: 'banana', ports: [{ port: 80 }] }) as KubeObject;
const web = { kind: R.KIND_SERVICE, namespace: 'shop', name: 'web' } as const;
const key = `${R.KIND_SERVICE}/shop/web`;

/** What normalizeEvents makes of one event, run alone. */
function itemsOf(e: KubeEvent): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  scheduler().run(({ cold }) => cold('a|', { a: e }).pipe(normalizeEvents()).subscribe((x) => out.push(x)));
  return out;
}
const recordOf = (e: KubeEvent) => itemsOf(e).find((x) => x.type === 'record');

test('upsert, delete and synced, in order, one frame each', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const up = recordOf({ type: 'upsert', object: good })!;
    const events: { [k: string]: KubeEvent } = { u: { type: 'upsert', object: good }, d: { type: 'delete', object: good }, s: { type: 'synced' } };
    expectObservable(cold('u-d-s|', events)
      .pipe(normalizeEvents()))
      .toBe('u-d-s|', { u: up, d: { type: 'record', key, record: { ...web, op: 'delete' } }, s: { type: 'synced' } });
    assert.equal(up.type === 'record' && [up.key, up.record.op, up.record.name], [key, 'upsert', 'web']);
  });
});

test('a rejected update: the rejection names object and field, and the record is a delete of the same key', () => {
  assert.equal(itemsOf({ type: 'upsert', object: bad }).map((x) => (x.type === 'rejected' ? { ...x.rejection, reason: '' } : x)), [
    { object: 'Service shop/web', field: 'spec.clusterIP', reason: '' },
    { type: 'record', key, record: { ...web, op: 'delete' } },
  ]);
});

test('an object without a name: a rejection and no record; the stream goes on', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const noName = { apiVersion: 'v1', kind: 'Service', metadata: {} } as KubeObject;
    const noMeta = { apiVersion: 'v1', kind: 'Pod' } as unknown as KubeObject;
    const up = recordOf({ type: 'upsert', object: good });
    const events: { [k: string]: KubeEvent } = { a: { type: 'upsert', object: noName }, b: { type: 'upsert', object: noMeta }, c: { type: 'upsert', object: good } };
    expectObservable(cold('ab-c|', events)
      .pipe(normalizeEvents()))
      .toBe('ab-c|', {
        a: { type: 'rejected', rejection: { object: 'Service default/?', field: 'metadata.name', reason: 'missing' } },
        b: { type: 'rejected', rejection: { object: 'Pod default/?', field: 'metadata.name', reason: 'missing' } },
        c: up,
      });
  });
});

test('kinds sluice does not read give nothing at all', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'a' } } as KubeObject;
  assert.equal([...itemsOf({ type: 'upsert', object: cm }), ...itemsOf({ type: 'delete', object: cm })], []);
});

test('a delete needs only the identity: a malformed last state still deletes', () => {
  assert.equal(itemsOf({ type: 'delete', object: bad }), [{ type: 'record', key, record: { ...web, op: 'delete' } }]);
});

test('cluster-scoped kinds key with an empty namespace', () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } } as KubeObject;
  const r = recordOf({ type: 'upsert', object: ns });
  assert.equal(r && r.type === 'record' && [r.key, r.record.namespace], [`${R.KIND_NAMESPACE}//shop`, '']);
});

test.run();
