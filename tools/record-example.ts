// Records examples/recorded.log: a scripted history over the objects of
// examples/cluster.yaml, compiled for node-a the way the agent compiles
// (normalizeEvents, latestByKey, the compiler) and written by the agent's
// EventLogWriter with a fixed clock, so the output is the same on every run.
//   node tools/record-example.ts [OUT]     (default examples/recorded.log)
// A test re-records it and compares: rerun this after a change to the
// compiler's output, and say why the maps changed.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecords } from '../runtime/encode/schema.ts';
import { EventLogWriter } from '../runtime/log/eventLogWriter.ts';
import type { MapDiff } from '../runtime/maps/mapDiff.ts';
import { changesOf } from '../runtime/log/replayState.ts';
import type { KubeEvent, KubeObject } from '../runtime/sources/events.ts';
import { loadSnapshot } from '../runtime/sources/snapshot.ts';
import { Compiler } from '../runtime/wasm/host.ts';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
const NODE = 'node-a';
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0); // batches one second apart

type Obj = KubeObject & { [k: string]: any };

/** The history: each entry is one batch of events, as the agent would have batched them. */
export function history(): KubeEvent[][] {
  const objects = loadSnapshot([join(EXAMPLES, 'cluster.yaml')]).objects as Obj[];
  const find = (kind: string, ns: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name && (x.metadata.namespace ?? '') === ns);
    if (!o) throw new Error(`examples/cluster.yaml has no ${kind} ${ns}/${name}`);
    return structuredClone(o);
  };
  const up = (object: Obj): KubeEvent => ({ type: 'upsert', object });
  const del = (object: Obj): KubeEvent => ({ type: 'delete', object });

  // 2: endpoint churn. One web endpoint stops being ready, a new one appears.
  const web = find('EndpointSlice', 'shop', 'web-8kq2z');
  web.metadata.resourceVersion = '2001';
  web.endpoints[0].conditions = { ready: false, serving: false, terminating: true };
  web.endpoints.push({ ...structuredClone(web.endpoints[1]), addresses: ['10.244.1.14'], targetRef: { kind: 'Pod', name: 'web-7c5d9f8b6-a4', namespace: 'shop' } });
  // 5: the terminating endpoint goes away, after an update the same batch overtakes.
  const webLater = structuredClone(web);
  webLater.metadata.resourceVersion = '2002';
  webLater.endpoints.push({ ...structuredClone(web.endpoints[1]), addresses: ['10.244.2.15'] });
  const webLatest = structuredClone(web);
  webLatest.metadata.resourceVersion = '2003';
  webLatest.endpoints.shift();

  // 3: a Service is added, with its slice.
  const search: Obj = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'search', namespace: 'shop', resourceVersion: '3001' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.90.90', clusterIPs: ['10.96.90.90'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'search' } },
  };
  const searchSlice: Obj = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'search-z81kq', namespace: 'shop', resourceVersion: '3002', labels: { 'kubernetes.io/service-name': 'search' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.90'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-a', zone: 'zone-a' },
      { addresses: ['10.244.2.91'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-b', zone: 'zone-b' },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };

  return [
    [...objects.map(up), { type: 'synced' }], // 1: the initial listing
    [up(web)],
    [up(search), up(searchSlice)],
    [del(find('Service', 'shop', 'reports')), del(find('EndpointSlice', 'shop', 'reports-h2v8r'))], // 4: one deleted
    [up(webLater), up(webLatest)],
  ];
}

export interface RecordOptions {
  maxBytes?: number;
  batches?: KubeEvent[][];
  /** Sees each batch's diff before it is recorded, as the agent's applier would. */
  apply?: (diff: MapDiff) => void;
  /** Sign the log (--record-key). */
  key?: Uint8Array;
}

/** Compiles and records a history (default: the example's) into dir; returns the files written. */
export function record(dir: string, opts: RecordOptions = {}): string[] {
  const compiler = new Compiler({ node: NODE });
  let clock = T0;
  const log = new EventLogWriter(dir, { node: NODE, maxBytes: opts.maxBytes, image: () => compiler.rebuild(), now: () => (clock += 1000), key: opts.key });
  for (const [i, events] of (opts.batches ?? history()).entries()) {
    for (const e of events) log.event(e);
    const diff = compiler.batch(encodeRecords(changesOf(events).changes.map((c) => c.record)));
    opts.apply?.(diff);
    log.batch(i + 1, diff);
  }
  log.close();
  return log.files;
}

if (import.meta.filename === process.argv[1]) {
  const out = process.argv[2] ?? join(EXAMPLES, 'recorded.log');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-record-'));
  try {
    const files = record(dir);
    if (files.length !== 1) throw new Error(`expected one file, the writer made ${files.length}`);
    copyFileSync(files[0], out);
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
