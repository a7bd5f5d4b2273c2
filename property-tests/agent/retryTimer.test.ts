// The retry timer of a failed apply (and of a failed attach) in virtual time:
// the first wait, the doubling to its cap, a success starting over, a second
// failure replacing the armed retry, and stop.
import { Observable, type Observable as Obs } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RETRY_MS, RetryTimer } from '../../runtime/agent/retryTimer.ts';

const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));
const MS = { first: 2, max: 8 };

/**
 * The retries (r) of a timer driven by events: f a failure, s a success. A
 * retry itself fails (arms the next) while fewer than failingRetries retries
 * have run: a map that stays full, say.
 */
const retries = (events: Obs<string>, scheduler: TestScheduler, failingRetries = 0) => new Observable<string>((out) => {
  let ran = 0;
  const timer: RetryTimer = new RetryTimer(() => {
    out.next('r');
    if (++ran <= failingRetries) timer.failed();
    else timer.succeeded();
  }, scheduler, MS);
  const sub = events.subscribe((e) => (e === 'f' ? timer.failed() : timer.succeeded()));
  return () => {
    sub.unsubscribe();
    timer.stop();
  };
});

test('a failure is retried after the first wait; nothing more once the retry succeeds', () => {
  const s = scheduler();
  s.run(({ hot, expectObservable }) => {
    expectObservable(retries(hot('-f-------------'), s), '^-------------!').toBe('---r----------');
  });
});

test('retries that keep failing wait twice as long each time, up to the cap', () => {
  const s = scheduler();
  s.run(({ hot, expectObservable }) => {
    // fails at 0; retries at 2, 2+4=6, 6+8=14, 14+8=22 (capped), the last succeeds
    expectObservable(retries(hot('f'), s, 3), '^-------------------------------!')
      .toBe('--r---r-------r-------r---------');
  });
});

test('a success in between (a batch applied) cancels the retry and starts the waits over', () => {
  const s = scheduler();
  s.run(({ hot, expectObservable }) => {
    // f at 0 arms 2, which fails and arms 2+4=6; s at 4 cancels it; f at 9 waits the first 2 again
    expectObservable(retries(hot('f---s----f-------'), s, 1), '^---------------!').toBe('--r--------r-----');
  });
});

test('a second failure before the retry replaces it (one retry armed, never two)', () => {
  const s = scheduler();
  s.run(({ hot, expectObservable }) => {
    // f at 0 arms 2; f at 1 replaces it with 1+4=5
    expectObservable(retries(hot('ff--------'), s), '^---------!').toBe('-----r----');
  });
});

test('stop disarms it', () => {
  const s = scheduler();
  s.run(({ flush }) => {
    let ran = 0;
    const t = new RetryTimer(() => ran++, s, MS);
    t.failed();
    assert.ok(t.armed);
    t.stop();
    flush();
    assert.is(ran, 0);
    assert.ok(!t.armed);
  });
});

test("the agent's waits: 1 s first, 30 s at most", () => {
  assert.equal(RETRY_MS, { first: 1000, max: 30_000 });
  const t = new RetryTimer(() => {}, scheduler());
  const waits = Array.from({ length: 7 }, () => {
    const w = t.nextMs;
    t.failed();
    return w;
  });
  t.stop();
  assert.equal(waits, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
});

test.run();
