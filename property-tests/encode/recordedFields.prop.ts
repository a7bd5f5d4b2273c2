// What the event log keeps of an object: a replay normalizes it exactly as
// the live agent normalized the whole object (records, rejections, notes and
// identity alike), and nothing the normalizer does not read is kept.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordedObject } from '../../runtime/encode/recordedFields.ts';
import { isIgnored, normalize, refOf } from '../../runtime/encode/records.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import { kubeObject } from '../arb/kubeObject.ts';
import { mutant } from '../arb/mutant.ts';
import { check } from '../seed.ts';

/** As the log stores it, and as replay reads it back. */
const viaJson = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v) ?? 'null'));

function sameForReplay(obj: unknown): void {
  const original = viaJson(obj);
  for (const type of ['upsert', 'delete'] as const) {
    const recorded = viaJson(recordedObject(type, original));
    assert.equal([isIgnored(recorded), refOf(recorded)], [isIgnored(original), refOf(original)], `${type}: the same identity`);
    // normalizeEvents normalizes upserts of the kinds it reads only
    if (type === 'upsert' && !isIgnored(original)) assert.equal(normalize(recorded), normalize(original), 'the same records, rejections and notes');
  }
}

test('any value at all', () => {
  check(fc.property(fc.anything(), sameForReplay));
});

test('Kubernetes-shaped objects with random fields', () => {
  check(fc.property(kubeObject(), sameForReplay), { numRuns: 3000 });
});

const { objects } = loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]);

test('valid objects with one field changed', () => {
  check(fc.property(mutant(objects as object[]), sameForReplay), { numRuns: 5000 });
});

test('a Pod keeps where it runs, its IPs, labels and ports; not its env, annotations, volumes or status conditions', () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', resourceVersion: '42', uid: 'u-1', labels: { app: 'web' }, annotations: { 'vault.io/token': 's3cret' } },
    spec: {
      nodeName: 'node-a', serviceAccountName: 'web', volumes: [{ name: 'creds', secret: { secretName: 'db' } }],
      containers: [{ name: 'web', image: 'web:1', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }], ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    },
    status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], conditions: [{ type: 'Ready', status: 'True', message: 'private' }] },
  };
  assert.equal(recordedObject('upsert', pod), {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', resourceVersion: '42', labels: { app: 'web' } },
    spec: { nodeName: 'node-a', containers: [{ ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIPs: [{ ip: '10.244.1.5' }] },
  });
  assert.equal(recordedObject('delete', pod), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', resourceVersion: '42' } });
  assert.not.match(JSON.stringify(recordedObject('upsert', pod)), /hunter2|s3cret|creds|private|image/);
});

test('a field of the wrong type keeps what its rejection quotes', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n' }, spec: { clusterIP: { secret: 'x' }, ports: 'eighty' } };
  const recorded = recordedObject('upsert', svc);
  assert.equal(normalize(recorded).rejected, [{ object: 'Service n/s', field: 'spec.clusterIP', reason: 'an object is not a string' }].map((r) => ({ ...r, reason: normalize(svc).rejected[0].reason })));
  assert.not.match(JSON.stringify(recorded), /secret/);
});

test.run();
