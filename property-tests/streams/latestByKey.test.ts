// latestByKey: last write per key wins; keys come out sorted.
import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { latestByKey } from '../../runtime/streams/latestByKey.ts';
import { check } from '../seed.ts';

type KV = { k: string; v: number };
const byK = latestByKey((x: KV) => x.k);
const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));

test('each batch: last write per key, in key order; batches stay apart', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const batches = {
      a: [{ k: 'q', v: 1 }, { k: 'p', v: 2 }, { k: 'q', v: 3 }],
      b: [],
      c: [{ k: 'p', v: 4 }],
    };
    expectObservable(cold('a-b-c|', batches).pipe(byK)).toBe('a-b-c|', {
      a: [{ k: 'p', v: 2 }, { k: 'q', v: 3 }], b: [], c: [{ k: 'p', v: 4 }],
    });
  });
});

test('property: the result is the final state of a replay, sorted, whatever the arrival order', () => {
  const kv = fc.record({ k: fc.constantFrom('a', 'b', 'c', 'B', 'é', ''), v: fc.nat(9) });
  check(fc.property(fc.array(kv, { maxLength: 30 }), (batch) => {
    let out: KV[] = [];
    scheduler().run(({ cold }) => cold('a|', { a: batch }).pipe(byK).subscribe((b) => (out = b)));
    const state: { [k: string]: number } = {};
    for (const { k, v } of batch) state[k] = v;
    assert.equal(out.map((x) => x.k), Object.keys(state).sort());
    assert.equal(out.map((x) => x.v), Object.keys(state).sort().map((k) => state[k]));
  }));
});

test.run();
