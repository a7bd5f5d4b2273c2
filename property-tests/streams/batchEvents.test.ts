// batchEvents in virtual time: the sync gate, the minimum sync interval,
// coalescing of bursts, and (fast-check) that no change is ever lost.
import fc from 'fast-check';
import { concat, map, mergeMap, of, range, take, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batchEvents, type Synced } from '../../runtime/streams/batchEvents.ts';
import { latestByKey } from '../../runtime/streams/latestByKey.ts';
import { check } from '../seed.ts';

const S: Synced = { type: 'synced' };
const V = { S, a: 'a', b: 'b', c: 'c', d: 'd' };
const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));

test('nothing before synced; the first batch, at synced, is everything before it', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('-a-b-S--|', V).pipe(batchEvents(3))).toBe('-----x--|', { x: ['a', 'b'] });
  });
});

test('any value but { type: "synced" } is a change, null and undefined too', () => {
  scheduler().run(({ hot, expectObservable }) => {
    const values = { S, n: null, u: undefined, t: { type: 'upsert' } };
    expectObservable(hot('-n-u-t-S--|', values).pipe(batchEvents<unknown>(3))).toBe('-------x--|', { x: [null, undefined, { type: 'upsert' }] });
  });
});

test('an empty cluster still gives its (empty) first batch', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('--S---|', V).pipe(batchEvents(3))).toBe('--x---|', { x: [] });
  });
});

test('a source that ends before synced gives nothing', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('-a-b-|', V).pipe(batchEvents(3))).toBe('-----|');
  });
});

test('first change after a quiet period at once; changes within the interval wait for its end', () => {
  scheduler().run(({ hot, expectObservable }) => {
    // S opens an interval (0-3): a waits until 3, which opens 3-6. b, after a
    // quiet spell, goes at once (8, opening 8-11); c waits for 11, d for 14.
    expectObservable(hot('S-a-----b-c-d------|', V).pipe(batchEvents(3)))
      .toBe('x--y----z--u--v----|', { x: [], y: ['a'], z: ['b'], u: ['c'], v: ['d'] });
  });
});

test('changes in the same tick go together, even after a quiet period', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('S-----(abc)-----|', V).pipe(batchEvents(3))).toBe('x-----y---------|', { x: [], y: ['a', 'b', 'c'] });
  });
});

test('pending changes go at the end of their interval when the source completes', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('S-a-b|', V).pipe(batchEvents(10))).toBe('x---------(y|)', { x: [], y: ['a', 'b'] });
  });
});

test('a repeated synced is no change; errors pass through', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('S--S-----a-#', V).pipe(batchEvents(3))).toBe('x--------y-#', { x: [], y: ['a'] });
  });
});

test('10,000 changes in one interval: the first at once, all others in one batch', () => {
  scheduler().run(({ expectObservable }) => {
    // 10 changes a millisecond for 1 s after synced at 0 (min sync 1 s).
    const burst = timer(0, 1).pipe(take(1000), mergeMap((ms) => range(0, 10).pipe(map((i) => `${ms}.${i}`))));
    const source = concat(of(S), timer(2000).pipe(mergeMap(() => burst)));
    const sizes = source.pipe(batchEvents(1000), map((b) => b.length));
    expectObservable(sizes).toBe('x 1999ms y 999ms (z|)', { x: 0, y: 10, z: 9990 });
  });
});

test('a synchronous burst of 10,000 after a quiet period is one batch', () => {
  scheduler().run(({ hot, expectObservable }) => {
    const source = hot('S 5s x', { S, x: 'x' }).pipe(mergeMap((e) => (e === 'x' ? range(0, 10_000).pipe(map(String)) : of(e))));
    expectObservable(source.pipe(batchEvents(1000), map((b) => b.length))).toBe('x 5s y', { x: 0, y: 10_000 });
  });
});

// One change to object `key`, or the sync marker, `delay` ms after the previous item.
const item = fc.record({
  delay: fc.constantFrom(0, 0, 1, 2, 5, 10, 30),
  change: fc.record({ key: fc.constantFrom('p', 'q', 'r', 's'), value: fc.nat(99) }),
});
type Change = { key: string; value: number };

test('property: batches lose nothing, keep order, and respect the gate and the interval', () => {
  const scenario = fc.record({ items: fc.array(item, { maxLength: 60 }), syncAt: fc.option(fc.nat(60)), minSync: fc.integer({ min: 1, max: 20 }) });
  check(fc.property(scenario, ({ items, syncAt, minSync }) => {
    const events: { delay: number; event: Change | Synced }[] = items.map((i) => ({ delay: i.delay, event: i.change }));
    if (syncAt !== null) events.splice(Math.min(syncAt, events.length), 0, { delay: 1, event: S });
    const out: { at: number; batch: Change[] }[] = [];
    const arrived: number[] = []; // arrival time of each change, in order
    const ts = scheduler();
    ts.run(({ flush }) => {
      const source: Observable<Change | Synced> = concat(...events.map(({ delay, event }) => timer(delay).pipe(map(() => {
        if (event !== S) arrived.push(ts.now());
        return event;
      }))));
      source.pipe(batchEvents<Change>(minSync)).subscribe((batch) => out.push({ at: ts.now(), batch }));
      flush();
    });
    const changes = events.flatMap((e): Change[] => ('key' in e.event ? [e.event] : []));
    if (syncAt === null) return assert.equal(out, [], 'no sync, no batch');
    assert.equal(out.flatMap((o) => o.batch), changes, 'every change once, in order');
    const final = new Map(changes.map((c) => [c.key, c]));
    let merged: Change[] = [];
    latestByKey((c: Change) => c.key)(of(out.flatMap((o) => o.batch))).subscribe((b) => (merged = b));
    assert.equal(merged, [...final.keys()].sort().map((k) => final.get(k)), 'latestByKey of all batches is the final state');
    out.slice(1).forEach((o, i) => {
      assert.ok(o.batch.length > 0, 'only the first batch may be empty');
      assert.ok(o.at - out[i].at >= minSync, `batches ${i} and ${i + 1} at least minSync apart`);
    });
    // Bounded latency: a change after the sync waits at most minSync.
    let n = out[0].batch.length;
    for (const o of out.slice(1)) for (const _ of o.batch) assert.ok(o.at - arrived[n++] <= minSync, 'a change waits at most minSync');
  }), { numRuns: 300 });
});

test.run();
