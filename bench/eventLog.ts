// The event log benchmark: what recording costs the agent per event, in time
// and bytes, for an initial sync and for one Service's endpoint churn; what a
// rotation costs; and how fast a log reads and replays. Raw objects carry
// managedFields, as the API serves them, so the trimming shows in the bytes.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecords } from '../runtime/encode/schema.ts';
import { EventLogWriter } from '../runtime/log/eventLogWriter.ts';
import { readLog } from '../runtime/log/readLog.ts';
import { Replay } from '../runtime/log/replay.ts';
import { changesOf } from '../runtime/log/replayState.ts';
import type { KubeEvent } from '../runtime/sources/events.ts';
import { Compiler } from '../runtime/wasm/host.ts';
import { serviceObjects, sliceObject, syntheticService, syntheticServices } from '../testkit/syntheticCluster.ts';
import { mean, median, ms, table } from './stats.ts';

const CHURN = 2000;
const compile = (c: Compiler, events: KubeEvent[]) => c.batch(encodeRecords(changesOf(events).changes.map((x) => x.record)));

export function benchEventLog(n = 5000, k = 5): void {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-log-'));
  try {
    const compiler = new Compiler({ node: 'node-0' });
    const log = new EventLogWriter(dir, { node: 'node-0', image: () => compiler.rebuild() });
    const file = () => statSync(log.files.at(-1)!).size;
    const rows: (string | number)[][] = [['phase', 'events', 'event() µs/event', 'batch() ms', 'bytes/event', 'raw JSON bytes/event']];
    const rawBytes = (events: KubeEvent[]) => events.reduce((s, e) => s + JSON.stringify(e).length, 0) / events.length;

    const sync: KubeEvent[] = [...syntheticServices(n, { endpoints: k }).flatMap(serviceObjects).map((object): KubeEvent => ({ type: 'upsert', object })), { type: 'synced' }];
    const diff = compile(compiler, sync);
    let t = process.hrtime.bigint();
    for (const e of sync) log.event(e);
    const eventMs = ms(t);
    t = process.hrtime.bigint();
    log.batch(1, diff); // hashes the whole image's diff, writes every line
    const batchMs = ms(t), syncBytes = file();
    rows.push([`initial sync (${n} x ${k})`, sync.length, (eventMs * 1000 / sync.length).toFixed(1), batchMs.toFixed(1), (syncBytes / sync.length).toFixed(0), rawBytes(sync).toFixed(0)]);

    const events: number[] = [], batches: number[] = [];
    const churn = [1, 0].map((g) => [{ type: 'upsert', object: sliceObject(syntheticService(n >> 1, { endpoints: k, generation: g })) } as KubeEvent]);
    for (let b = 0; b < CHURN; b++) {
      const d = compile(compiler, churn[b & 1]);
      t = process.hrtime.bigint();
      for (const e of churn[b & 1]) log.event(e);
      events.push(ms(t));
      t = process.hrtime.bigint();
      log.batch(b + 2, d);
      batches.push(ms(t));
    }
    const churnBytes = file() - syncBytes;
    rows.push([`churn: 1 slice a batch, ${CHURN} batches`, CHURN, `${(median(events) * 1000).toFixed(1)} (mean ${(mean(events) * 1000).toFixed(1)})`,
      `${median(batches).toFixed(3)} (mean ${mean(batches).toFixed(3)})`, (churnBytes / CHURN).toFixed(0), rawBytes(churn[0]).toFixed(0)]);
    console.log(table(rows));
    console.log('(bytes/event: the log\'s bytes, boundaries included, over the events; raw: JSON.stringify of the event as the API served it)');

    // A rotation: the snapshot of every live object, and the image hashed.
    const rot = new EventLogWriter(join(dir, 'rot'), { node: 'node-0', maxBytes: 1, image: () => compiler.rebuild() });
    for (const e of sync) rot.event(e);
    t = process.hrtime.bigint();
    rot.batch(1, diff);
    const rotMs = ms(t);
    rot.close();
    log.close();
    console.log(`rotation (write batch 1, then a new file with a ${n * 2}-object snapshot): ${rotMs.toFixed(0)} ms, snapshot file ${(statSync(rot.files[1]).size / 2 ** 20).toFixed(1)} MiB`);

    t = process.hrtime.bigint();
    let items = 0;
    for (const _ of readLog(log.files)) items++;
    const readMs = ms(t);
    t = process.hrtime.bigint();
    const replay = new Replay({ verify: true });
    let verified = 0;
    for (const item of readLog(log.files)) for (const s of replay.push(item)) if (s.type === 'batch' && s.verified) verified++;
    const replayMs = ms(t);
    const mib = statSync(log.files[0]).size / 2 ** 20;
    console.log(`read: ${items} records, ${mib.toFixed(1)} MiB in ${readMs.toFixed(0)} ms (${(mib / readMs * 1000).toFixed(0)} MiB/s); ` +
      `replay --verify: ${verified} of ${CHURN + 1} batches verified in ${replayMs.toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
