// An object that reaches the agent as protobuf normalizes exactly as the same
// object reaching it as JSON: the same record, rejections and notes. The
// model of the JSON is Go's: a property holding "" or null is left out
// (omitempty), the rest as it is. Objects whose fields the upstream schema's
// types cannot hold (a number where a string goes, ...) cannot be sent as
// protobuf by any server and are not drawn; what share of draws was sent,
// and how many of those gave a record, is counted and bounded below.
import fc from 'fast-check';
import pb from 'protobufjs/minimal.js';
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
  if (via === 'list') return forCache(spec, [...decodeList(encodeList(spec.apiVersion, spec.kind, [item], '1')).items][0]) as Obj;
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

test('a damaged body throws an Error or decodes; it never hangs, and a watch frame cut anywhere is no event', () => {
  const body = encodeList('v1', 'Pod', scale.filter((o) => o.kind === 'Pod').slice(0, 3).map(({ apiVersion: _a, kind: _k, ...o }) => o), '1');
  const damage = fc.tuple(fc.nat({ max: body.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: body.length }));
  check(fc.property(damage, ([at, byte, cut]) => {
    const b = body.slice(0, Math.max(cut, at + 1));
    b[at] = byte;
    try {
      for (const _ of decodeList(b).items); // an item is decoded as it is read
    } catch (e) {
      assert.instance(e, Error);
    }
  }), { numRuns: 3000 });
});

test('a list\'s items are decoded as they are read: the ones before a damaged item come out, then it throws, naming its field', () => {
  const pod = (name: string) => ({ metadata: { namespace: 'shop', name }, spec: { nodeName: 'n1' } });
  const body = encodeList('v1', 'Pod', [pod('first'), pod('second'), pod('third')], '7');
  body[Buffer.from(body).indexOf('\x0a\x06second')] = 0x08; // ObjectMeta.name's tag, as a varint's
  const list = decodeList(body);
  assert.equal([list.resourceVersion, list.items.length], ['7', 3]);
  const items = list.items[Symbol.iterator]();
  assert.equal(items.next().value, pod('first'));
  assert.throws(() => items.next(), (e: Error) => e.message === 'ObjectMeta.name: wire type 0, not 2');
});

test('a creationTimestamp no Date can hold rejects that Service, naming the field; the list goes on', () => {
  // ServiceList { items (2): Service { metadata (1): { name (1), namespace (3), creationTimestamp (8): { seconds (1) } },
  // spec (2): { clusterIP (3), ports (1): { port (3) } } } }, in its envelope: written field by field here
  const w = pb.Writer.create();
  w.uint32(0x0a).fork().uint32(0x0a).string('v1').uint32(0x12).string('ServiceList').ldelim();
  w.uint32(0x12).fork().uint32(0x12).fork();
  w.uint32(0x0a).fork().uint32(0x0a).string('old').uint32(0x1a).string('a').uint32(0x42).fork().uint32(0x08).int64(2 ** 50).ldelim().ldelim();
  w.uint32(0x12).fork().uint32(0x1a).string('10.96.0.9').uint32(0x0a).fork().uint32(0x18).int32(80).ldelim().ldelim();
  w.ldelim().ldelim();
  const list = decodeList(Buffer.concat([Buffer.from('k8s\0'), w.finish()]));
  const n = normalize(forCache(specOf('Service')!, [...list.items][0]));
  assert.equal([n.record, n.rejected.map((r) => r.field)], [undefined, ['metadata.creationTimestamp']]);
});

test('an int64 of any length decodes as its number: 1 to 10 bytes, negative ones included', () => {
  // ServiceList { items (2): Service { metadata (1): { name (1) }, spec (2): { ports (1): { port (3) } } } }
  const portOf = (v: number) => {
    const w = pb.Writer.create();
    w.uint32(0x0a).fork().uint32(0x0a).string('v1').uint32(0x12).string('ServiceList').ldelim();
    w.uint32(0x12).fork().uint32(0x12).fork();
    w.uint32(0x0a).fork().uint32(0x0a).string('s').ldelim();
    w.uint32(0x12).fork().uint32(0x0a).fork().uint32(0x18).int64(v).ldelim().ldelim();
    w.ldelim().ldelim();
    const [svc] = decodeList(Buffer.concat([Buffer.from('k8s\0'), w.finish()])).items as Iterable<{ spec: { ports: { port: number }[] } }>;
    return svc.spec.ports[0].port;
  };
  const edges = [0, 127, 128, 2 ** 28 - 1, 2 ** 28, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER, -1, -(2 ** 31)];
  check(fc.property(fc.oneof(fc.constantFrom(...edges), fc.integer(), fc.maxSafeInteger()), (v) => assert.is(portOf(v), v)));
});

test.run();
