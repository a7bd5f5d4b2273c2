// An object too big for the record ABI (a list count and a string length are
// u16) is rejected naming the field, like any invalid object; it never makes
// the encoder throw, which stopped `compile` (exit 3) and crash-looped the
// agent. Every list, label map and string of the bundled cluster's objects is
// blown up in turn: normalize must reject the object or give a record that
// encodes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import * as R from '../../compiler/abi/records.ts';
import { decodeRecords, encodeBatch, encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import type { View } from '../../runtime/view/frontends.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const ITEMS = 65_536; // one more than a u16 count
const BIG = 'é'.repeat(40_000); // 80,000 UTF-8 bytes in 40,000 UTF-16 units

type Json = { [key: string]: unknown };

const policy = {
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'shop', name: 'web' },
  spec: {
    podSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80 }] }],
  },
};
const SAMPLES = [...(loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]).objects as Json[]), policy];

/** Every path below obj to an array, a labels map or a string, one per shape (kind and path without indices). */
function targets(): { obj: Json; path: (string | number)[] }[] {
  const out: { obj: Json; path: (string | number)[] }[] = [];
  const seen = new Set<string>();
  const walk = (obj: Json, v: unknown, path: (string | number)[]) => {
    const shape = `${obj.kind} ${path.filter((p) => typeof p === 'string').join('.')}`;
    const labelsMap = path.at(-1) === 'labels' || path.at(-1) === 'matchLabels';
    if ((Array.isArray(v) || typeof v === 'string' || labelsMap) && !seen.has(shape)) {
      seen.add(shape);
      out.push({ obj, path });
    }
    if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(obj, x, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  for (const obj of SAMPLES) walk(obj, obj, []);
  return out;
}

function blownUp(obj: Json, path: (string | number)[]): Json {
  const copy = structuredClone(obj);
  let at: any = copy;
  for (const p of path.slice(0, -1)) at = at[p];
  const last = path.at(-1)!, v = at[last];
  if (Array.isArray(v)) at[last] = Array.from({ length: ITEMS }, (_, i) => structuredClone(v[i % Math.max(v.length, 1)] ?? 'x'));
  else if (typeof v === 'string') at[last] = BIG;
  else at[last] = Object.fromEntries(Array.from({ length: ITEMS }, (_, i) => [`k${i}`, 'v']));
  return copy;
}

test('every list, label map and string blown past the ABI: rejected, or a record that encodes', () => {
  const ts = targets();
  assert.ok(ts.length > 60, `${ts.length} shapes`);
  for (const { obj, path } of ts) {
    const n = normalize(blownUp(obj, path));
    const where = `${obj.kind} ${path.join('.')}`;
    if (n.record) assert.not.throws(() => encodeRecords([n.record!]), where);
    else if (n.rejected.length) assert.is(n.rejected.length, 1, where);
  }
});

const meta = (name: string, more: Json = {}) => ({ namespace: 'shop', name, ...more });
const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v']));
const pod = (name: string, more: Json) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta(name, more), spec: { nodeName: 'n1' }, status: { podIP: '10.244.1.5' } });

test('the fields are named: labels, ports, endpoints, a long string, ports over all containers', () => {
  const rejected = (obj: object) => normalize(obj).rejected.map((r) => [r.field, r.reason]);
  assert.equal(rejected(pod('big', { labels: labels(66_000) })), [['metadata.labels', '66000 labels; a record holds at most 65535']]);
  const ports = Array.from({ length: ITEMS }, (_, i) => ({ name: `p${i}`, port: (i % 65535) + 1 }));
  assert.equal(rejected({ apiVersion: 'v1', kind: 'Service', metadata: meta('web'), spec: { clusterIP: '10.96.0.5', ports } }),
    [['spec.ports', '65536 items; a record holds at most 65535']]);
  assert.equal(rejected({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta('web-1', { labels: { 'kubernetes.io/service-name': 'web' } }),
    addressType: 'IPv4', endpoints: Array.from({ length: ITEMS }, () => ({ addresses: ['10.244.1.5'] })) }),
  [['endpoints', '65536 items; a record holds at most 65535']]);
  assert.equal(rejected(pod('web', { labels: { app: BIG } })), [['metadata.labels["app"]', 'is 80000 bytes of UTF-8; a record holds at most 65535']]);
  const containers = [0, 1].map((c) => ({ name: `c${c}`, ports: Array.from({ length: 40_000 }, (_, i) => ({ containerPort: i + 1 })) }));
  assert.equal(rejected({ ...pod('web', {}), spec: { nodeName: 'n1', containers } }), [['spec.containers', '80000 ports in all; a record holds at most 65535']]);
});

test('sluice compile: a Pod of 66,000 labels and a Service of a 1 MiB name are rejected, the rest compiles (exit 1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-oversized-'));
  try {
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      pod('big', { labels: labels(66_000) }),
      { apiVersion: 'v1', kind: 'Service', metadata: meta('x'.repeat(1 << 20)), spec: { clusterIP: '10.96.0.6', ports: [{ port: 80 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: meta('web'), spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } },
    ] }));
    const r = spawnSync(process.execPath, [MAIN, 'compile', file, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.is(r.status, 1, r.stderr);
    const view = JSON.parse(r.stdout) as View;
    assert.equal(view.rejected.map((x) => [x.object.slice(0, 20), x.field]), [['Pod shop/big', 'metadata.labels'], [`Service shop/${'x'.repeat(7)}`, 'metadata.name']]);
    assert.ok(view.rejected[1].reason.length + view.rejected[1].object.length < 400, 'neither the object nor the reason repeats the megabyte');
    assert.equal(view.frontends.map((f) => `${f.service} ${f.ip}:${f.port}`), ['shop/web 10.96.0.5:80']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encodeBatch, the last resort: a record the ABI cannot hold becomes the delete of its object; the others go through', () => {
  const good = normalize({ apiVersion: 'v1', kind: 'Service', metadata: meta('web'), spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }] } }).record!;
  const big: Record = { kind: R.KIND_POD, namespace: 'shop', name: 'big', op: 'upsert',
    body: { nodeName: 'n1', flags: 0, podIPs: [], labels: Object.entries(labels(66_000)), ports: [] } };
  const { bytes, refused } = encodeBatch([good, big, good]);
  assert.equal(decodeRecords(bytes), [good, { kind: R.KIND_POD, namespace: 'shop', name: 'big', op: 'delete' }, good]);
  assert.equal(refused.map((x) => x.ref), [{ kind: R.KIND_POD, namespace: 'shop', name: 'big' }]);
  assert.match(refused[0].reason, /66000/);
  assert.equal(encodeBatch([good]), { bytes: encodeRecords([good]), refused: [] });
});

test.run();
