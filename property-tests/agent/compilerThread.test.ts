// The agent's compiler on its own thread (runtime/wasm/compilerThread.ts): the
// same diffs, image and problems as the compiler in this thread, errors thrown
// here, and this thread's event loop free while a batch compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { CompilerThread } from '../../runtime/wasm/compilerThread.ts';
import { Compiler } from '../../runtime/wasm/host.ts';

const PORTS = 20_000;
const ports = Array.from({ length: PORTS }, (_, i) => ({ name: `p${i}`, proto: R.PROTO_TCP, port: i + 1 }));
const big: Record[] = [
  { kind: R.KIND_SERVICE, namespace: 'a', name: 'big', op: 'upsert', body: {
    type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0,
    clusterIPs: [{ family: 4, bytes: Uint8Array.of(10, 96, 0, 1) }], externalIPs: [{ family: 4, bytes: Uint8Array.of(10, 96, 0, 1) }],
    loadBalancerIPs: [], sourceRanges: [], ports: ports.map((p) => ({ ...p, nodePort: 0, targetPort: p.port, targetPortName: '' })) } },
  { kind: R.KIND_ENDPOINT_SLICE, namespace: 'a', name: 'big-1', op: 'upsert', body: { serviceName: 'big', addressType: R.ADDR_IPV4, ports,
    endpoints: [5, 6].map((a) => ({ address: { family: 4, bytes: Uint8Array.of(10, 244, 0, a) }, conditions: R.COND_READY, nodeName: '', zone: '', forZones: [] })) } },
];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('a batch compiles on the thread: this one runs its timers meanwhile, and the diff, image and problems are the same', async () => {
  const here = new Compiler({ node: 'n1' }), there = new CompilerThread({ node: 'n1' });
  try {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const diff = await there.batch(encodeRecords(big));
    clearInterval(timer);
    assert.ok(ticks > 0, 'no timer ran while the batch compiled');
    assert.is(hex(diff.bytes), hex(here.batch(encodeRecords(big)).bytes));
    assert.is(hex(there.rebuild().bytes), hex(here.rebuild().bytes));
    assert.equal(there.problems(), here.problems());
    assert.ok(there.problems().length > 0, 'the externalIP loses to the ClusterIP on every port: problems to compare');
    assert.is(there.problemsVersion(), here.problemsVersion());
    there.collect();
    assert.ok(there.gc.runs >= 1 && there.memoryBytes() > 0);
  } finally {
    await there.close();
  }
});

test('the heap released on the thread: after the batch under way, and the thread goes on with the same diffs', async () => {
  const here = new Compiler({ node: 'n1' }), there = new CompilerThread({ node: 'n1' });
  try {
    const dropped = () => encodeRecords([{ kind: R.KIND_SERVICE, namespace: 'a', name: 'big', op: 'delete' }]); // a batch's bytes move to the thread
    void there.batch(encodeRecords(big));
    const [diff, r] = await Promise.all([there.batch(dropped()), there.releaseFree()]);
    here.batch(encodeRecords(big));
    assert.is(hex(diff.bytes), hex(here.batch(dropped()).bytes));
    assert.ok(r.free > 0 && r.released > 0 && r.released <= r.free, `released ${JSON.stringify(r)}`);
    assert.is(hex((await there.batch(encodeRecords(big))).bytes), hex(here.batch(encodeRecords(big)).bytes));
    assert.is(hex(there.rebuild().bytes), hex(here.rebuild().bytes));
  } finally {
    await there.close();
  }
});

test('a record the compiler cannot read is an error here, for the batch and after', async () => {
  const there = new CompilerThread({ node: 'n1' });
  try {
    const bad = Uint8Array.of(4, 0, 0, 0); // a record size below the header's
    await there.batch(bad).then(() => assert.unreachable('compiled garbage'), (e: Error) => assert.match(e.message, /compiler\.wasm aborted/));
    assert.is(hex((await there.batch(encodeRecords([]))).bytes).length > 0, true, 'the thread still answers');
  } finally {
    await there.close();
  }
});

test.run();
