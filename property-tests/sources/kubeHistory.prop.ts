// Random histories against the fake API server, with watches dropped, reset,
// failed and expired along the way: whatever happens, the client converges on
// the server's state, and the full pipeline (normalizeEvents, batchEvents,
// latestByKey) ends with exactly the records a snapshot of that state gives.
// The pauses between steps are part of the generated schedule (they let the
// client act in between), not waits for a result: those wait on conditions.
import fc from 'fast-check';
import { share, type Subscription } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf, upserts } from '../../runtime/streams/recordsOf.ts';
import type { Record } from '../../runtime/encode/schema.ts';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { kubeEvents } from '../../runtime/sources/kube.ts';
import { kubeStats } from '../../runtime/sources/kubeStats.ts';
import { WATCHED_KINDS } from '../../runtime/sources/watchedKinds.ts';
import { batchEvents } from '../../runtime/streams/batchEvents.ts';
import { latestByKey } from '../../runtime/streams/latestByKey.ts';
import { normalizeEvents, type NormalizedEvent } from '../../runtime/streams/normalizeEvents.ts';
import { FakeApiServer, RESOURCES, type Resource } from '../../testkit/fakeApiServer.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';
import { FAST, kubeConfigFor } from './kubeHarness.ts';

type Json = { [k: string]: unknown };
const OTHER_PROXY = { 'service.kubernetes.io/service-proxy-name': 'x' };
const HEADLESS = { 'service.kubernetes.io/headless': '' };

/** An object of resource number i; variant picks labels or a bad field. */
function object(resource: Resource, i: number, variant: number): Json {
  const meta = (labels: Json = {}) => ({ namespace: 'a', name: `o${i}`, labels: { v: String(variant), ...labels } });
  switch (resource) {
    case 'services': return { metadata: meta(variant === 3 ? OTHER_PROXY : {}), spec: { clusterIP: variant === 2 ? 'banana' : `10.96.0.${i}`, ports: [{ port: 80 + variant, protocol: 'TCP' }] } };
    case 'endpointslices': return {
      metadata: meta({ 'kubernetes.io/service-name': `o${i}`, ...(variant === 3 ? HEADLESS : {}) }), addressType: 'IPv4',
      ports: [{ port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: [`10.0.${variant}.${i}`], conditions: { ready: true } }],
    };
    case 'pods': return { metadata: meta(), spec: { nodeName: 'n1' }, status: { phase: 'Running', podIP: `10.0.9.${i + variant}` } };
    case 'namespaces': return { metadata: { name: `ns${i}`, labels: { v: String(variant) } } };
    case 'networkpolicies': return { metadata: meta(), spec: { podSelector: { matchLabels: { v: String(variant) } } } };
    case 'nodes': return { metadata: { name: `n${i}`, labels: { v: String(variant) } }, status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${i}` }] } };
  }
}

const resource = fc.constantFrom<Resource>('services', 'services', 'endpointslices', 'pods', 'namespaces', 'networkpolicies', 'nodes');
type Step =
  | { op: 'apply'; resource: Resource; i: number; variant: number }
  | { op: 'delete'; resource: Resource; i: number }
  | { op: 'drop'; resource: Resource; how: 'end' | 'reset' }
  | { op: 'stall'; resource: Resource; i: number; variant: number } // a change the stream misses, then it ends
  | { op: 'expire'; as: 'event' | 'http' }
  | { op: 'fail'; resource: Resource };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('apply' as const), resource, i: fc.integer({ min: 1, max: 3 }), variant: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), resource, i: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), resource, how: fc.constantFrom('end' as const, 'reset' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stall' as const), resource, i: fc.integer({ min: 1, max: 3 }), variant: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), as: fc.constantFrom('event' as const, 'http' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), resource }) },
);
const schedule = fc.array(fc.record({ step, pauseMs: fc.constantFrom(0, 0, 1, 5) }), { minLength: 1, maxLength: 25 });

const nameOf = (r: Resource, i: number) => (r === 'namespaces' ? `ns${i}` : r === 'nodes' ? `n${i}` : `a/o${i}`);

function run(server: FakeApiServer, s: Step): void {
  switch (s.op) {
    case 'apply': server.apply(s.resource, object(s.resource, s.i, s.variant)); break;
    case 'delete': try { server.delete(s.resource, nameOf(s.resource, s.i)); } catch { /* not there: nothing to delete */ } break;
    case 'drop': server.dropWatches(s.resource, s.how); break;
    case 'stall': server.unseen(() => server.apply(s.resource, object(s.resource, s.i, s.variant))); server.dropWatches(s.resource); break;
    case 'expire': server.expire(s.as); break;
    case 'fail': server.fail(s.resource, 'watch', 500); break;
  }
}

const keyOf = (r: Record) => `${r.kind}/${r.namespace}/${r.name}`;
const selectorOf = (r: Resource) => WATCHED_KINDS.find((k) => k.kind === RESOURCES[r].kind)!.labelSelector;

// Each breakage in a quarter of the schedules or more; the floor, at 25 runs per seed, is well under that.
const BREAKS = ['drop', 'stall', 'expire', 'fail'] as const;
const coverage = new Coverage<(typeof BREAKS)[number]>('watch breakages', { drop: 0.05, stall: 0.05, expire: 0.05, fail: 0.05 });

test('property: any history, any breakage: the client converges, and the batches add up to a snapshot of the end state', async () => {
  await check(fc.asyncProperty(fc.array(step, { maxLength: 6 }), schedule, async (before, after) => {
    coverage.run(after.flatMap(({ step: s }) => ((BREAKS as readonly string[]).includes(s.op) ? [s.op as (typeof BREAKS)[number]] : [])));
    const server = await FakeApiServer.start();
    const subs: Subscription[] = [];
    try {
      for (const s of before) if (s.op === 'apply' || s.op === 'delete') run(server, s);
      const stats = kubeStats();
      const events$ = kubeEvents(kubeConfigFor(server.url), { ...FAST, restartBackoff: { initialMs: 5, maxMs: 40 }, stats }).pipe(share());
      const seen = new Map<string, unknown>(); // the client's view: kind/ns/name -> last state
      let synced = 0;
      subs.push(events$.subscribe((e: KubeEvent) => {
        if (e.type === 'synced') return void synced++;
        const m = e.object.metadata;
        if (e.type === 'upsert') seen.set(`${e.object.kind}/${m.namespace ?? ''}/${m.name}`, e.object);
        else seen.delete(`${e.object.kind}/${m.namespace ?? ''}/${m.name}`);
      }));
      const compiled = new Map<string, Record>(); // the compiler's view: what the batches add up to
      let batches = 0;
      subs.push(events$.pipe(normalizeEvents(), (n$) => n$.pipe(
        batchEvents<NormalizedEvent>(10),
        latestByKey((e) => (e.type === 'record' ? e.key : '')),
      )).subscribe((batch) => {
        batches++;
        for (const e of batch) {
          if (e.type !== 'record') continue;
          if (e.record.op === 'upsert') compiled.set(e.key, e.record);
          else compiled.delete(e.key);
        }
      }));
      for (const { step: s, pauseMs } of after) {
        run(server, s);
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      const visible = () => (Object.keys(RESOURCES) as Resource[]).flatMap((r) => server.current(r, selectorOf(r)));
      const serverView = () => new Map(visible().map((o) => {
        const x = o as { kind: string; metadata: { namespace?: string; name: string } };
        return [`${x.kind}/${x.metadata.namespace ?? ''}/${x.metadata.name}`, o];
      }));
      const expected = () => new Map(upserts(recordsOf(snapshotEvents(visible())).records).map((r) => [keyOf(r), r]));
      const deadline = performance.now() + 5000;
      while (!(synced === 1 && batches >= 1 && same(seen, serverView()) && same(compiled, expected()))) {
        if (performance.now() > deadline) {
          assert.equal([...seen.keys()].sort(), [...serverView().keys()].sort(), 'the client converges on the server');
          assert.equal([...compiled.keys()].sort(), [...expected().keys()].sort(), 'the batches add up to the snapshot');
          assert.ok(false, `no convergence (synced ${synced} times, ${batches} batches; stats ${JSON.stringify(stats)})`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      subs.forEach((s) => s.unsubscribe());
      await server.close();
    }
  }), { numRuns: 25 });
  coverage.check();
});

/** Same keys, and the same resourceVersion (objects) or the same content (records) under each. */
function same(a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  const version = (v: unknown) => (v as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? JSON.stringify(v);
  return a.size === b.size && [...a].every(([k, v]) => b.has(k) && version(v) === version(b.get(k)));
}

test.run();
