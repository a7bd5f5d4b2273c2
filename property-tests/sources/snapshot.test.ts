// loadSnapshot, and a snapshot through the one pipeline (recordsOf): files,
// documents, Lists, bad files, duplicates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { loadSnapshot, snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf, upserts } from '../../runtime/streams/recordsOf.ts';

const normalized = (objects: unknown[]) => recordsOf(snapshotEvents(objects));

const dir = mkdtempSync(join(tmpdir(), 'sluice-snapshot-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const example = (name: string) => new URL(`../../examples/${name}`, import.meta.url).pathname;
const names = (objects: unknown[]) => objects.map((o) => {
  const x = o as { kind: string; metadata: { name: string } };
  return `${x.kind} ${x.metadata.name}`;
});

test('YAML documents split by ---, empty ones dropped', () => {
  const path = file('multi.yaml', [
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n',
    '\n',
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n  creationTimestamp: 2024-01-01T00:00:00Z\n',
  ].join('---\n') + '---\n');
  const s = loadSnapshot([path]);
  assert.equal([names(s.objects), s.rejected, s.ignored], [['Namespace a', 'Namespace b'], [], 0]);
  assert.is((s.objects[1] as { metadata: { creationTimestamp: unknown } }).metadata.creationTimestamp, '2024-01-01T00:00:00Z', 'timestamps stay strings');
});

test('a List expands its items; a typed List lends its kind to items without one', () => {
  const list = file('list.yaml', `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: v1
  kind: ServiceList
  items:
  - metadata: {name: web, namespace: shop}
    spec: {clusterIP: 10.96.0.5}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
`);
  const json = file('svc.json', JSON.stringify({ apiVersion: 'v1', kind: 'NodeList', items: [{ metadata: { name: 'n1' } }] }, null, 2));
  const s = loadSnapshot([list, json]);
  assert.equal(names(s.objects), ['Namespace a', 'Service web', 'Node n1']);
  assert.is((s.objects[1] as { apiVersion: string }).apiVersion, 'v1');
  assert.equal([s.rejected, s.ignored], [[], 1], 'the Deployment is counted, not loaded');
});

test('a file that cannot be parsed is one rejection; the other files still load', () => {
  const bad = file('bad.yaml', 'kind: Service\nmetadata:\n  name: [unclosed\n');
  const badJson = file('bad.json', '{\n  "kind": "Service",\n}\n');
  const good = file('good.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n');
  const missing = join(dir, 'missing.yaml');
  const s = loadSnapshot([bad, good, badJson, missing]);
  assert.equal(names(s.objects), ['Namespace a']);
  assert.equal(s.rejected.map((r) => [r.object, r.field]), [[`File ${bad}`, ''], [`File ${badJson}`, ''], [`File ${missing}`, '']]);
  assert.match(s.rejected[0].reason, /line 4, column 1$/);
  assert.match(s.rejected[1].reason, /line 3 column 1/);
  assert.match(s.rejected[2].reason, /ENOENT/);
});

test('documents that are not objects, or have no kind, are rejected by position', () => {
  const path = file('odd.yaml', 'just text\n---\nmetadata:\n  name: x\n---\nkind: List\nitems:\n- 42\n');
  const s = loadSnapshot([path]);
  assert.equal(s.objects, []);
  assert.equal(s.rejected.map((r) => r.reason), [
    'document 1 is not a Kubernetes object',
    'document 2 has no kind',
    'document 3: List items[0] is not a Kubernetes object',
  ]);
});

test('a snapshot: upserts in key order (kind, namespace, name), a delete for each rejected object, rejections by object', () => {
  const set = normalized([
    { kind: 'Service', metadata: { name: 'b', namespace: 'shop' }, spec: {} },
    { kind: 'Namespace', metadata: { name: 'shop' } },
    { kind: 'Service', metadata: { name: 'a', namespace: 'shop' }, spec: {} },
    { kind: 'Service', metadata: { name: 'z', namespace: 'edge' }, spec: { type: 'Nope' } },
    { kind: 'Service', metadata: { name: 'c', namespace: 'aaa' }, spec: { clusterIP: '1.2.3' } },
    { kind: 'Node', metadata: { name: 'n1' } },
    { kind: 'Deployment', metadata: { name: 'a', namespace: 'shop' } },
  ]);
  assert.equal(upserts(set.records).map((r) => [r.kind, r.namespace, r.name]), [
    [R.KIND_SERVICE, 'shop', 'a'], [R.KIND_SERVICE, 'shop', 'b'], [R.KIND_NODE, '', 'n1'], [R.KIND_NAMESPACE, '', 'shop'],
  ]);
  assert.equal(set.records.filter((r) => r.op === 'delete').map((r) => `${r.namespace}/${r.name}`), ['aaa/c', 'edge/z']);
  assert.equal(set.rejected.map((r) => r.object), ['Service aaa/c', 'Service edge/z']);
  assert.equal(set.notes, []);
});

test('of two copies of one object the later wins, with a note', () => {
  const svc = (name: string, clusterIP: string) => `---\napiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {clusterIP: "${clusterIP}"}\n`;
  const s = loadSnapshot([file('twice.yaml', svc('web', '10.96.0.1') + svc('web', '10.96.0.2') + svc('api', 'bad') + svc('api', '10.96.0.3'))]);
  const set = normalized(s.objects);
  assert.equal(upserts(set.records).map((r) => [r.name, Array.from((r.body as { clusterIPs: { bytes: Uint8Array }[] }).clusterIPs[0].bytes)]),
    [['api', [10, 96, 0, 3]], ['web', [10, 96, 0, 2]]]);
  assert.equal(set.rejected, [], 'the earlier, rejected copy of api was replaced');
  assert.equal(s.notes.sort((a, b) => (a.object < b.object ? -1 : 1)), [
    { object: 'Service shop/api', field: '', note: 'appears more than once in the input; the last copy is used' },
    { object: 'Service shop/web', field: '', note: 'appears more than once in the input; the last copy is used' },
  ]);
});

test('the bundled examples: cluster.yaml loads clean, bad.yaml rejects exactly its bad objects', () => {
  const cluster = loadSnapshot([example('cluster.yaml')]);
  const set = normalized(cluster.objects);
  assert.equal([cluster.rejected, set.rejected, set.notes, cluster.notes, cluster.ignored], [[], [], [], [], 1]);
  assert.equal(set.records.filter((r) => r.kind === R.KIND_NODE).map((r) => r.name), ['node-a', 'node-b']);
  const bad = normalized(loadSnapshot([example('bad.yaml')]).objects);
  assert.equal(bad.rejected.map((r) => `${r.object} ${r.field}`), [
    'EndpointSlice default/orphan-slice metadata.labels["kubernetes.io/service-name"]',
    'Service default/? metadata.name',
    'Service default/bad-cluster-ip spec.clusterIP',
    'Service default/port-out-of-range spec.ports[1].port',
    'Service default/unknown-protocol spec.ports[0].protocol',
  ]);
  assert.equal(upserts(bad.records).map((r) => r.name), ['fine', 'fine-abcde']);
});

test.run();
