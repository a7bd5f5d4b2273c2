// The selection's promise (issue 2): removing one backend moves the flows
// that were on it plus at most 1% of the rest, while the table stays on its
// ladder step, and no backend owns more than 1.1 x its share of slots. A set
// of at most SL_RENDEZVOUS_MAX backends has no table: each flow picks by
// rendezvous hashing, so a removal moves none of the other backends' flows,
// and every backend gets about its share of flows.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { encodeRecords, type Record, type SliceBody } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { maglevTable } from '../model/maglevTable.ts';
import { frontendOf, maglevPick, type Tuple } from '../model/datapath.ts';
import { SL_RENDEZVOUS_MAX } from '../../runtime/abi/layouts.generated.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

const SERVICE = { namespace: 'bench', name: 'svc-0', portName: 'http', targetPort: 8080 };
const FRONTEND = Uint8Array.of(10, 96, 0, 0, 0, 80, R.PROTO_TCP, 0); // 10.96.0.0:80/TCP

/** One ClusterIP Service, port 80 to 8080: the frontend whose table the properties watch. */
function service(): Record {
  return {
    kind: R.KIND_SERVICE, namespace: SERVICE.namespace, name: SERVICE.name, op: 'upsert',
    body: {
      type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0,
      clusterIPs: [{ family: 4, bytes: Uint8Array.of(10, 96, 0, 0) }], externalIPs: [], loadBalancerIPs: [], sourceRanges: [],
      ports: [{ name: SERVICE.portName, proto: R.PROTO_TCP, port: 80, nodePort: 0, targetPort: SERVICE.targetPort, targetPortName: '' }],
    },
  };
}

function slice(addrs: number[]): Record {
  const body: SliceBody = {
    serviceName: SERVICE.name, addressType: R.ADDR_IPV4, ports: [{ name: SERVICE.portName, proto: R.PROTO_TCP, port: SERVICE.targetPort }],
    endpoints: addrs.map((a) => ({
      address: { family: 4, bytes: Uint8Array.of(10, 244, a >> 8, a & 255) }, conditions: R.COND_READY, nodeName: '', zone: '', forZones: [],
    })),
  };
  return { kind: R.KIND_ENDPOINT_SLICE, namespace: SERVICE.namespace, name: `${SERVICE.name}-abcde`, op: 'upsert', body };
}

const isPowerOfTwo = (x: number) => (x & (x - 1)) === 0;

/** n distinct backend addresses (their last two bytes). */
const uniqueAddrs = (n: number) => fc.uniqueArray(fc.integer({ min: 1, max: 65000 }), { minLength: n, maxLength: n });
// A length drawn first: fast-check's default size would keep arrays under a dozen or so.
const addrsOf = (sizes: fc.Arbitrary<number>) => sizes.chain(uniqueAddrs);
/** Addresses, their count drawn from sizes, and the index of one to remove. */
const removalOf = (sizes: fc.Arbitrary<number>) => sizes.chain((n) => fc.tuple(uniqueAddrs(n), fc.nat(n - 1)));
const SMALL = fc.integer({ min: 1, max: SL_RENDEZVOUS_MAX });
/** Tables, with n - 1 on the same ladder step. */
const removal = removalOf(fc.integer({ min: SL_RENDEZVOUS_MAX + 1, max: 200 }).filter((n) => !isPowerOfTwo(n - 1)));

/** The backend at address a, as the model and maglevTable name it. */
const backendText = (a: number) => `10.244.${a >> 8}.${a & 255}:${SERVICE.targetPort}`;

/** Tables up to 128 backends are filled by bounded-load rendezvous hashing, above that by Maglev's fill. */
const fills = (n: number) => [n > 128 ? 'over 128 backends (Maglev fill)' : 'up to 128 backends (rendezvous fill)'] as const;
const FILL_SHARES = { 'up to 128 backends (rendezvous fill)': 0.25, 'over 128 backends (Maglev fill)': 0.2 };

/** A frontend's maps, compiled for these backends. */
function compiled(c: Compiler, store: MemoryStore, addrs: number[], first: boolean): void {
  store.apply(c.batch(encodeRecords(first ? [service(), slice(addrs)] : [slice(addrs)])));
}

const FLOWS = 4000;
/** FLOWS clients of the frontend, the same each call. */
const flows: Tuple[] = Array.from({ length: FLOWS }, (_, i) => ({
  saddr: `10.${1 + (i % 200)}.${(i * 7) % 256}.${(i * 13) % 251}`, daddr: '10.96.0.0', sport: 1024 + ((i * 7919) % 60000), dport: 80, proto: R.PROTO_TCP,
}));

/** The backend ("ip:port") the model's datapath picks for each flow. */
function picks(store: MemoryStore): string[] {
  const lookup = store.lookup.bind(store);
  return flows.map((t) => {
    const be = maglevPick(lookup, frontendOf(lookup, t, true)!, t);
    return be ? `${be.ip}:${be.port}` : 'none';
  });
}

test('a small set: removing a backend moves its flows and no other', () => {
  const coverage = new Coverage('rendezvous removal', { '1 to 4 backends': 0.2, '5 to 32 backends': 0.5 });
  check(fc.property(removalOf(SMALL), ([addrs, gone]) => {
    coverage.run([addrs.length <= 4 ? '1 to 4 backends' : '5 to 32 backends']);
    const c = new Compiler({ node: 'node-0' });
    const store = new MemoryStore();
    compiled(c, store, addrs, true);
    const before = picks(store);
    compiled(c, store, addrs.filter((_, i) => i !== gone), false);
    const after = picks(store);
    const removed = backendText(addrs[gone]);
    assert.not.ok(after.includes(removed), 'removed backend still picked');
    const moved = before.filter((b, f) => b !== removed && after[f] !== b).length;
    assert.is(moved, 0, `${moved} of ${FLOWS} flows of other backends moved`);
    if (addrs.length === 1) assert.ok(after.every((b) => b === 'none'), 'no backend left, no pick');
    else assert.ok(after.every((b) => b !== 'none'), 'every flow still has a backend');
  }), { numRuns: 40 });
  coverage.check();
});

test('a small set: each backend gets its share of flows', () => {
  check(fc.property(addrsOf(SMALL), (addrs) => {
    const store = new MemoryStore();
    compiled(new Compiler({ node: 'node-0' }), store, addrs, true);
    const got = new Map<string, number>();
    for (const b of picks(store)) got.set(b, (got.get(b) ?? 0) + 1);
    assert.is(got.size, addrs.length, 'every backend gets flows');
    // FLOWS / n flows expected; at 32 backends (125) the bounds are 5.6 standard deviations off
    const share = FLOWS / addrs.length;
    for (const [b, k] of got) assert.ok(k >= 0.5 * share && k <= 1.5 * share, `${b} got ${k} of ${FLOWS} flows among ${addrs.length}`);
  }), { numRuns: 30 });
});

test('removing a backend moves its flows plus at most 1% of the others', () => {
  const coverage = new Coverage('backend removal', FILL_SHARES);
  check(fc.property(removal, ([addrs, gone]) => {
    coverage.run(fills(addrs.length));
    const c = new Compiler({ node: 'node-0' });
    const store = new MemoryStore();
    compiled(c, store, addrs, true);
    const before = maglevTable(store, FRONTEND);
    compiled(c, store, addrs.filter((_, i) => i !== gone), false);
    const after = maglevTable(store, FRONTEND);
    assert.is(after.length, before.length, 'table stayed on its ladder step');
    const removed = backendText(addrs[gone]);
    assert.not.ok(after.includes(removed), 'removed backend still in the table');
    const moved = before.filter((b, s) => b !== removed && after[s] !== b).length;
    assert.ok(moved <= before.length * 0.01, `${moved} of ${before.length} slots of other backends moved`);
  }), { numRuns: 60 });
  coverage.check();
});

const backends = addrsOf(fc.integer({ min: SL_RENDEZVOUS_MAX + 1, max: 300 }));

test('no backend owns more than 1.1 x its share of slots', () => {
  const coverage = new Coverage('slot shares', FILL_SHARES);
  check(fc.property(backends, (addrs) => {
    coverage.run(fills(addrs.length));
    const store = new MemoryStore();
    compiled(new Compiler({ node: 'node-0' }), store, addrs, true);
    const table = maglevTable(store, FRONTEND);
    const owned = new Map<string, number>();
    for (const b of table) owned.set(b, (owned.get(b) ?? 0) + 1);
    assert.is(owned.size, addrs.length, 'every backend owns slots');
    assert.ok(table.length >= 100 * addrs.length, `${table.length} slots for ${addrs.length} backends`);
    for (const [b, k] of owned) assert.ok(k <= Math.ceil((1.1 * table.length) / addrs.length), `${b} owns ${k} of ${table.length}`);
  }), { numRuns: 60 });
  coverage.check();
});

test.run();
