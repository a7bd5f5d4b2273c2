// The compiler's problems read in virtual time: at once when due, at most
// every intervalMs, by a timer minSync past the due time when no batch comes,
// not at all when their version did not move; each new problem reported once.
import { Observable, type Observable as Obs } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProblemsWatch } from '../../runtime/agent/problemsWatch.ts';
import type { Rejection } from '../../runtime/encode/records.ts';

const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));
const problem = (name: string): Rejection => ({ object: `Service default/${name}`, field: 'spec.ports[0]', reason: 'frontend claimed' });
/** The compiler's problems after a change event (a letter; upper case: the change, then a batch). */
const STATES: { [e: string]: string[] } = { p: ['a'], q: ['a', 'b'], z: [], r: ['b'] };

/**
 * Each read as "new problems|how many", driven by events: b a batch; a
 * lower-case letter the problems changing to STATES[letter] (the version
 * moves); its upper case that change, then a batch. Timer reads go through
 * run, which notes when.
 */
const reads = (events: Obs<string>, s: TestScheduler, timerReads: number[] = []) => new Observable<string>((out) => {
  let version = 0, now: Rejection[] = [], fresh: string[] = [];
  const watch = new ProblemsWatch({
    compiler: { problemsVersion: () => version, problems: () => now },
    intervalMs: 5, minSyncMs: 2, clock: s,
    run: (read) => {
      timerReads.push(s.now());
      read();
    },
    onNew: (p) => fresh.push(p.object.split('/')[1]),
    onCount: (n) => {
      out.next(`${fresh.join(',')}|${n}`);
      fresh = [];
    },
  });
  const sub = events.subscribe((e) => {
    const change = e.toLowerCase();
    if (change !== 'b') {
      version++;
      now = STATES[change].map(problem);
    }
    if (e !== change || e === 'b') watch.afterBatch();
  });
  return () => {
    sub.unsubscribe();
    watch.stop();
  };
});

test('the first batch reads them at once; a later change waits out the interval, then minSync more, when no batch comes', () => {
  const s = scheduler(), timerReads: number[] = [];
  s.run(({ hot, expectObservable }) => {
    // read at 0; Q at 1 is due at 0 + 5, so the timer reads at 5 + 2
    expectObservable(reads(hot('PQ------------'), s, timerReads), '^-------------!').toBe('x------y------', { x: 'a|1', y: 'b|2' });
  });
  assert.equal(timerReads, [7], 'the timer read goes through run (the agent queue)');
});

test('a batch that finds them due reads them at once, and the timer is not needed', () => {
  const s = scheduler(), timerReads: number[] = [];
  s.run(({ hot, expectObservable }) => {
    // Q at 1 arms the timer for 7; the batch at 6 is past the interval (0 + 5) and reads; no read at 7
    expectObservable(reads(hot('PQ----b-------'), s, timerReads), '^-------------!').toBe('x-----y-------', { x: 'a|1', y: 'b|2' });
  });
  assert.equal(timerReads, []);
});

test('batches that leave the version alone read nothing; a steady stream of changes reads at most every interval', () => {
  const s = scheduler();
  s.run(({ hot, expectObservable }) => {
    // P at 0 reads; b b b: no change, no read; Q at 5 is due (0 + 5) and reads; R at 6 and Q at 8
    // wait for 10, then minSync: the read at 12 finds Q's state, nothing new in it.
    expectObservable(reads(hot('Pbbb-QR-Q------'), s), '^--------------!')
      .toBe('x----y------z--', { x: 'a|1', y: 'b|2', z: '|2' });
  });
});

test('a problem is reported once while it lasts, and again when it comes back', () => {
  const s = scheduler();
  s.run(({ hot, expectObservable }) => {
    // reads at 0 (a), 5 (a, b: b is new), 10 (none), 15 (b again: new)
    expectObservable(reads(hot('P----Q----Z----R--'), s), '^-----------------!')
      .toBe('x----y----z----u---', { x: 'a|1', y: 'b|2', z: '|0', u: 'b|1' });
  });
});

test('stop disarms the timer', () => {
  const s = scheduler(), timerReads: number[] = [];
  s.run(({ hot, expectObservable }) => {
    expectObservable(reads(hot('PQ----------'), s, timerReads), '^---!').toBe('x-----', { x: 'a|1' });
  });
  assert.equal(timerReads, []);
});

test.run();
