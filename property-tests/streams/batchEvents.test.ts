// batchEvents in virtual time: the sync gate, the minimum sync interval and
// its burst of two (kube-proxy's token bucket), coalescing of bursts, and
// (fast-check) that no change is ever lost and each batch goes when the
// bucket says.
import fc from 'fast-check';
import { concat, map, mergeMap, of, range, take, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batchEvents, type Synced } from '../../runtime/streams/batchEvents.ts';
import { latestByKey } from '../../runtime/streams/latestByKey.ts';
import { Coverage } from '../coverage.ts';
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

test('at once while the bucket holds a token: two after a quiet spell, then one per interval', () => {
  scheduler().run(({ hot, expectObservable }) => {
    // minSync 3, two tokens. S takes one (left: 1 token at 0); a at 2 finds
    // 1 2/3 and takes one; b at 3 finds exactly one and takes it; c at 4 finds
    // 1/3 and waits for the token at 6; d, after a quiet spell, goes at once.
    expectObservable(hot('S-abc-----d---|', V).pipe(batchEvents(3)))
      .toBe('x-yz--u---v---|', { x: [], y: ['a'], z: ['b'], u: ['c'], v: ['d'] });
  });
});

test('a change each interval goes at once, a little early or late: the burst absorbs the drift', () => {
  scheduler().run(({ hot, expectObservable }) => {
    // minSync 4: changes 4, 3, 5, 3 apart. Without the burst, b and d would wait a tick.
    expectObservable(hot('S---a--b----c--d--|', V).pipe(batchEvents(4)))
      .toBe('x---y--z----u--v--|', { x: [], y: ['a'], z: ['b'], u: ['c'], v: ['d'] });
  });
});

test('changes in the same tick go together, even after a quiet period', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('S-----(abc)-----|', V).pipe(batchEvents(3))).toBe('x-----y---------|', { x: [], y: ['a', 'b', 'c'] });
  });
});

test('a change waiting for its token still goes when the source completes first, then the output completes', () => {
  scheduler().run(({ hot, expectObservable }) => {
    // minSync 10: a at 2 takes the second token; b at 4 waits for the next, at 10.
    expectObservable(hot('S-a-b|', V).pipe(batchEvents(10))).toBe('x-y-------(z|)', { x: [], y: ['a'], z: ['b'] });
  });
});

test('a repeated synced is no change; errors pass through', () => {
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('S--S-----a-#', V).pipe(batchEvents(3))).toBe('x--------y-#', { x: [], y: ['a'] });
  });
});

test('10,000 changes in one interval: the first two milliseconds at once (the burst), all others in one batch', () => {
  scheduler().run(({ expectObservable }) => {
    // 10 changes a millisecond for 1 s after synced at 0 (min sync 1 s): the
    // bucket is full at 2000; the batch at 2001 leaves it empty, and the next
    // token comes at 3000.
    const burst = timer(0, 1).pipe(take(1000), mergeMap((ms) => range(0, 10).pipe(map((i) => `${ms}.${i}`))));
    const source = concat(of(S), timer(2000).pipe(mergeMap(() => burst)));
    const sizes = source.pipe(batchEvents(1000), map((b) => b.length));
    expectObservable(sizes).toBe('x 1999ms y z 998ms (w|)', { x: 0, y: 10, z: 10, w: 9980 });
  });
});

test('a synchronous burst of 10,000 after a quiet period is one batch', () => {
  scheduler().run(({ hot, expectObservable }) => {
    const source = hot('S 5s x', { S, x: 'x' }).pipe(mergeMap((e) => (e === 'x' ? range(0, 10_000).pipe(map(String)) : of(e))));
    expectObservable(source.pipe(batchEvents(1000), map((b) => b.length))).toBe('x 5s y', { x: 0, y: 10_000 });
  });
});

test('an urgent change goes at once, with what waits, though the bucket is empty; the next change waits for a token', () => {
  scheduler().run(({ hot, expectObservable }) => {
    // minSync 5. a at 2 takes the second token; b at 3 waits for the next (at 5);
    // U (urgent) at 4 takes b with it at once and empties the bucket; c at 5 waits until 9.
    const urgent = (e: string) => e === 'U';
    expectObservable(hot('S-abUc------|', { ...V, U: 'U' }).pipe(batchEvents(5, undefined, urgent)))
      .toBe('x-y-z----u--|', { x: [], y: ['a'], z: ['b', 'U'], u: ['c'] });
  });
});

test('urgent is asked of every change in order, before synced too; before synced nothing goes out early', () => {
  const asked: string[] = [];
  scheduler().run(({ hot, expectObservable }) => {
    expectObservable(hot('-Ua-S--|', { ...V, U: 'U' }).pipe(batchEvents(3, undefined, (e: string) => (asked.push(e), e === 'U'))))
      .toBe('----x--|', { x: ['U', 'a'] });
  });
  assert.equal(asked, ['U', 'a']);
});

// One change to object `key`, or the sync marker, `delay` ms after the previous item.
const item = fc.record({
  delay: fc.constantFrom(0, 0, 1, 2, 5, 10, 30),
  change: fc.record({ key: fc.constantFrom('p', 'q', 'r', 's'), value: fc.nat(99) }),
});
type Change = { key: string; value: number };

/** kube-proxy's burstSyncs: its BoundedFrequencyRunner's token bucket holds two. */
const BURST_SYNCS = 2;

/**
 * When each batch after the first should go, from kube-proxy's token bucket
 * (BURST_SYNCS tokens, one more each minSync, each batch takes one): at once
 * if its first change found a token, else when the next token comes.
 */
function bucketTimes(first: number, firstChanges: number[], minSync: number): number[] {
  let tokens = BURST_SYNCS - 1, at = first; // the sync took one of a full bucket
  return firstChanges.map((arrival) => {
    const found = Math.min(BURST_SYNCS, tokens + (arrival - at) / minSync);
    const go = found >= 1 ? arrival : arrival + (1 - found) * minSync;
    tokens = Math.min(BURST_SYNCS, tokens + (go - at) / minSync) - 1;
    at = go;
    return go;
  });
}

test('property: batches lose nothing, keep order, respect the gate, and go when the bucket says', () => {
  const cover = new Coverage('batchEvents', { 'a batch within minSync of the one before (the burst)': 0.5, 'a change waited for a token': 0.5 });
  const scenario = fc.record({ items: fc.array(item, { maxLength: 60, size: 'medium' }), syncAt: fc.option(fc.nat(20)), minSync: fc.integer({ min: 2, max: 12 }) });
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
    assert.ok(out.slice(1).every((o) => o.batch.length > 0), 'only the first batch may be empty');
    // Bounded latency: a change after the sync waits at most minSync.
    let n = out[0].batch.length;
    const firsts: number[] = [];
    for (const o of out.slice(1)) {
      firsts.push(arrived[n]);
      for (const _ of o.batch) assert.ok(o.at - arrived[n++] <= minSync, 'a change waits at most minSync');
    }
    const expected = bucketTimes(out[0].at, firsts, minSync);
    assert.equal(out.slice(1).map((o) => o.at), expected.map((t) => Math.round(t)), 'each batch when the bucket says');
    cover.run([
      ...(out.some((o, i) => i > 1 && o.at - out[i - 1].at < minSync) ? ['a batch within minSync of the one before (the burst)' as const] : []),
      ...(out.slice(1).some((o, i) => o.at > firsts[i]) ? ['a change waited for a token' as const] : []),
    ]);
  }), { numRuns: 300 });
  cover.check();
});

test.run();
