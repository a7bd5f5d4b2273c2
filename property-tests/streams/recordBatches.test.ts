// The one pipeline in virtual time: the raw events handed to onEvent
// since the last batch are exactly the ones the next batch holds (what the
// event log records as one batch, and replay recomputes), rejections are
// reported as they arrive and ride with the next batch, and a batch is the
// latest record per object in key order.
import { tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordBatches } from '../../runtime/streams/recordBatches.ts';
import type { KubeEvent, KubeObject } from '../../runtime/sources/events.ts';

const svc = (name: string, ip: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a', name }, spec: { clusterIP: ip, ports: [{ port: 80 }] } });
const V: { [k: string]: KubeEvent } = {
  a: { type: 'upsert', object: svc('a', '10.96.0.1') },
  A: { type: 'upsert', object: svc('a', '10.96.0.2') },
  b: { type: 'upsert', object: svc('b', '10.96.0.3') },
  x: { type: 'upsert', object: { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a' } } }, // no name: rejected, no record
  d: { type: 'delete', object: svc('b', '10.96.0.3') },
  S: { type: 'synced' },
};
const label = (e: KubeEvent) => Object.entries(V).find(([, v]) => v === e)![0];

test('events since the last batch are the batch; rejections ride along; latest per object, in key order', () => {
  const trace: string[] = [];
  new TestScheduler((actual, expected) => assert.equal(actual, expected)).run(({ hot, flush }) => {
    hot('-b-a-A-S--x---bd-aA------x--|', V).pipe(
      recordBatches(5, { onEvent: (e) => trace.push(label(e)), onRejected: (r) => trace.push(`rejected ${r.object} ${r.field}`) }),
      tap((records) => trace.push(`batch ${records.map((r) => `${r.op} ${r.name}`).join(', ')}`)),
    ).subscribe();
    flush();
  });
  assert.equal(trace, [
    'b', 'a', 'A', 'S', 'batch upsert a, upsert b', // the sync: a's later state only; key order
    'x', 'rejected Service a/? metadata.name', // no record: nothing to batch yet
    'b', 'batch upsert b', // the first change after a quiet spell goes at once, x with it
    'd', 'batch delete b', // the bucket's second token: at once too
    'a', 'A', 'batch upsert a', // the bucket empty: a waits for the next token, and A joins it
    'x', 'rejected Service a/? metadata.name', // nothing follows: never batched (the log drops it at close)
  ]);
});

const pod = (name: string, ip: string, app: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'a', name, labels: { app } },
  spec: { nodeName: 'n1', containers: [] }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});
const P: { [k: string]: KubeEvent } = {
  S: { type: 'synced' },
  n: { type: 'upsert', object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'a', name: 'deny' }, spec: { podSelector: {} } } },
  N: { type: 'delete', object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'a', name: 'deny' }, spec: { podSelector: {} } } },
  p: { type: 'upsert', object: pod('p', '10.244.1.5', 'web') }, // a new pod's address
  r: { type: 'upsert', object: pod('p', '10.244.1.5', 'api') }, // relabelled: same address
  q: { type: 'upsert', object: pod('q', '10.244.1.6', 'web') },
  a: V.a,
};

test('a Pod\'s new address goes at once while the cluster has a NetworkPolicy; a relabel, or a new pod without one, waits for minSync', () => {
  const batches: string[] = [];
  new TestScheduler((actual, expected) => assert.equal(actual, expected)).run(({ hot, flush }) => {
    hot('-n-S-aa-p-r---------N-a--q--------|', P).pipe(recordBatches(10, { onEvent: () => {}, onRejected: () => {} })).subscribe((records) => {
      batches.push(records.map((r) => `${r.op} ${r.name}`).join(', '));
    });
    flush();
  });
  assert.equal(batches, [
    'upsert deny', // the sync
    'upsert a', // the bucket's second token
    'upsert a, upsert p', // a waits for the next token; p's new address goes at once, and takes a along
    'upsert p', // the relabel waits for a token
    'upsert a, upsert q, delete deny', // without a policy a new pod's address waits too
  ]);
});

test.run();
