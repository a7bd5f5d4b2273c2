// An object that reaches the agent as protobuf normalizes exactly as the same
// object reaching it as JSON: the same record, rejections and notes. The
// model of the JSON is Go's: a property holding "" or null is left out
// (omitempty), the rest as it is. Objects whose fields the upstream schema's
// types cannot hold (a number where a string goes, ...) cannot be sent as
// protobuf by any server and are not drawn; what share of draws was sent,
// and how many of those gave a record, is counted and bounded below.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { decodeList, decodeWatchEvent } from '../../runtime/sources/protoDecode.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import { forCache, WATCHED_KINDS } from '../../runtime/sources/watchedKinds.ts';
import { encodeList, encodeWatchFrame, Unencodable } from '../../testkit/protoEncode.ts';
import { ISSUE_12, scaleCluster } from '../../testkit/scaleCluster.ts';
import { kubeObject } from '../arb/kubeObject.ts';
import { mutant } from '../arb/mutant.ts';
import { check } from '../seed.ts';

type Obj = { [k: string]: unknown };

/** The map<string, string> fields: omitempty leaves out a field, never a map's entry. */
const MAPS = new Set(['labels', 'matchLabels']);

/** What Go's JSON of the object holds: no "" and no null as a field's value, at any depth. */
function asGoWrites(v: unknown, map = false): unknown {
  if (Array.isArray(v)) return v.map((x) => asGoWrites(x));
  if (v === null || typeof v !== 'object') return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (map || (x !== '' && x !== null)) Object.defineProperty(out, k, { value: asGoWrites(x, MAPS.has(k)), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const specOf = (kind: unknown) => WATCHED_KINDS.find((k) => k.kind === kind);

/** The object as the agent gets it over protobuf: a list item (kind filled in as the source does) or a watch event's object. */
function overProtobuf(o: Obj, via: 'list' | 'watch'): Obj {
  const spec = specOf(o.kind)!;
  const { apiVersion: _a, kind: _k, ...item } = o;
  if (via === 'list') return forCache(spec, decodeList(encodeList(spec.apiVersion, spec.kind, [item], '1')).items[0]) as Obj;
  return forCache(spec, decodeWatchEvent(encodeWatchFrame('ADDED', spec.apiVersion, spec.kind, o).subarray(4)).object) as Obj;
}

const reach = { drawn: 0, sent: 0, records: 0 };

function sameOverProtobuf(obj: unknown, via: 'list' | 'watch'): void {
  const o = obj as Obj;
  const spec = specOf(o.kind);
  if (!spec) return;
  reach.drawn++;
  let got: Obj;
  try {
    got = overProtobuf({ ...o, apiVersion: spec.apiVersion }, via);
  } catch (e) {
    if (e instanceof Unencodable) return;
    throw e;
  }
  reach.sent++;
  const want = normalize(asGoWrites({ ...o, apiVersion: spec.apiVersion }));
  if (want.record) reach.records++;
  assert.equal(normalize(got), want);
}

const via = fc.constantFrom('list' as const, 'watch' as const);
const { objects } = loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]);
const scale = [...scaleCluster({ ...ISSUE_12, namespaces: 2, nodes: 3 })].map(([, o]) => o);
// Fields the normalizer reads that neither cluster above sets
const rest = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nr', namespace: 'a' }, spec: { clusterIP: '10.96.0.9', publishNotReadyAddresses: true, ports: [{ port: 80 }] } },
  {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'nr-1', namespace: 'a', labels: { 'kubernetes.io/service-name': 'nr' } }, addressType: 'IPv4',
    endpoints: [{ addresses: ['10.1.0.1'], hints: { forZones: [{ name: 'z1' }] }, zone: 'z1' }], ports: [{ port: 80 }],
  },
];
const valid = [...(objects as object[]), ...scale, ...rest];

function reached(what: string, sent: number, records: number): void {
  const share = (n: number) => `${((100 * n) / reach.drawn).toFixed(0)}%`;
  console.log(`# ${what}: ${reach.drawn} drawn, ${share(reach.sent)} sendable as protobuf, ${share(reach.records)} gave a record`);
  assert.ok(reach.sent >= sent * reach.drawn, `at least ${sent * 100}% sendable`);
  assert.ok(reach.records >= records * reach.drawn, `at least ${records * 100}% records`);
  Object.assign(reach, { drawn: 0, sent: 0, records: 0 });
}

test('valid objects (the example cluster, issue 12\'s, the rest) with one field changed', () => {
  check(fc.property(mutant(valid), via, sameOverProtobuf), { numRuns: 4000 });
  reached('mutants', 0.5, 0.3);
});

test('the objects as they are', () => {
  for (const o of valid) for (const v of ['list', 'watch'] as const) sameOverProtobuf(o, v);
  reached('valid objects', 1, 0.9);
});

test('Kubernetes-shaped objects with random fields', () => {
  check(fc.property(kubeObject(), via, sameOverProtobuf), { numRuns: 3000 });
  reached('random objects', 0.05, 0);
});

test.run();
