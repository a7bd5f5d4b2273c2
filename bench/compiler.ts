// The compiler benchmark: full compile of a generated cluster against the
// incremental diff when one Service's endpoints churn, in the same run.
// Goals (issue 2): full compile of 5,000 Services under 200 ms; one Service's
// churn under 1/1000 of a full compile.
import { availableParallelism, loadavg } from 'node:os';
import { encodeRecords } from '../runtime/encode/schema.ts';
import { opCount } from '../runtime/maps/mapDiff.ts';
import { Compiler } from '../runtime/wasm/host.ts';
import { serviceObjects, sliceObject, syntheticRecords, syntheticService, syntheticServices } from '../testkit/syntheticCluster.ts';
import { mean, median, ms, table } from './stats.ts';

const REPEAT = 5; // fresh compilers per size
const CHURN = 2000; // churn batches per compiler

interface Result { services: number; full: number[]; fullGc: number; churn: number[]; churnGc: number; ops: number; bytes: number; memFull: number; memChurn: number }

function run(n: number, k: number): Result {
  const snapshot = encodeRecords(syntheticRecords(syntheticServices(n, { endpoints: k }).flatMap(serviceObjects)));
  const churn = [1, 0].map((g) => encodeRecords(syntheticRecords([sliceObject(syntheticService(n >> 1, { endpoints: k, generation: g }))])));
  const r: Result = { services: n, full: [], fullGc: 0, churn: [], churnGc: 0, ops: 0, bytes: 0, memFull: 0, memChurn: 0 };
  for (let rep = 0; rep < REPEAT; rep++) {
    const c = new Compiler({ node: 'node-0' });
    let t = process.hrtime.bigint();
    c.batch(snapshot);
    r.full.push(ms(t));
    c.collect(); // the collection a full sync leaves for the next batch, timed apart
    r.fullGc += c.gc.ms / REPEAT;
    r.memFull = c.memoryBytes();
    const gc0 = c.gc.ms;
    for (let i = 0; i < CHURN; i++) {
      t = process.hrtime.bigint();
      const d = c.batch(churn[i & 1]);
      r.churn.push(ms(t));
      r.ops = opCount(d);
      r.bytes = d.bytes.length;
    }
    r.churnGc += (c.gc.ms - gc0) / REPEAT;
    r.memChurn = c.memoryBytes();
  }
  return r;
}

export function benchCompiler(sizes = [5000, 10000], k = 5): void {
  const load = loadavg()[0];
  const rows: (string | number)[][] = [['services x endpoints', 'full p50 ms', 'full min ms', 'then gc ms',
    'churn p50 ms', 'churn mean ms', 'churn / full', 'churn diff ops', 'churn diff bytes', 'wasm MiB']];
  for (const n of sizes) {
    const r = run(n, k);
    const full = median(r.full), churn = mean(r.churn); // the mean carries the amortized collections
    rows.push([`${n} x ${k}`, full.toFixed(1), Math.min(...r.full).toFixed(1), r.fullGc.toFixed(1),
      median(r.churn).toFixed(3), churn.toFixed(3), `1/${Math.round(full / churn)}`, r.ops, r.bytes,
      (r.memChurn / 2 ** 20).toFixed(0)]);
  }
  console.log(table(rows));
  console.log(`(${REPEAT} fresh compilers per size, ${CHURN} churn batches each: one Service's slice alternating between two endpoint sets;`);
  console.log(` 1-minute load average ${load.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after, on ${availableParallelism()} CPUs: other work skews the figures)`);
}
