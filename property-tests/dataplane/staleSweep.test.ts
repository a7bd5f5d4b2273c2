// When the stale socket sweep runs its iterators: with host services on a
// kernel that has them, unless sl_sockrev says no socket was ever
// translated. The iterators here are fds that are not iterator programs, so
// a sweep that runs them fails, and its error shows that it ran.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ITERATORS } from '../../runtime/bpf/staleSockets.ts';
import { sockRevSince, sweepStale } from '../../runtime/dataplane/staleSweep.ts';
import { check } from '../seed.ts';

const NOT_A_PROGRAM = 0x3fffffff; // far past any open fd
const dp = { iterators: new Map(ITERATORS.map((name) => [name, NOT_A_PROGRAM])) };
const hostServices = { hostServices: true, netns: undefined };
const sockrev = (empty: boolean) => ({ isEmpty: () => empty });

test('an empty sl_sockrev: nothing can be stale, and the iterators are not run', () => {
  assert.equal(sweepStale(dp, hostServices, sockrev(true)), { destroyed: [] });
});

test('a socket in sl_sockrev, or no sl_sockrev to ask: the iterators run', () => {
  for (const s of [sockrev(false), undefined]) {
    const r = sweepStale(dp, hostServices, s);
    assert.ok(r && 'error' in r, JSON.stringify(r));
  }
});

test('without host services nothing is swept; without the iterators the sweep says why, whatever sl_sockrev holds', () => {
  assert.is(sweepStale(dp, { hostServices: false, netns: undefined }, sockrev(false)), undefined);
  assert.equal(sweepStale({ iterators: new Map() }, hostServices, sockrev(true)), { error: 'this kernel has no bpf_sock_destroy (Linux 6.5)' });
});

// sockRevSince against a model of sl_sockrev and its count, as the programs
// write them: connect4 writes an entry and then, as a step of its own that
// may come after anything else, counts it; sock_release deletes entries.
// The programs run while the agent asks: steps come between its read of the
// count and its walk, and after the walk. What it must answer: "not empty"
// only when the map held an entry as it walked, and "empty" without a walk
// only when every entry the map holds is still uncounted (being written as
// the question is asked: a walk could miss it as well), so that the first
// question after its count walks again.
type Program = { op: 'write'; socket: number } | { op: 'count' } | { op: 'close'; socket: number };
const program: fc.Arbitrary<Program> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), socket: fc.nat(3) }),
  fc.constant({ op: 'count' as const }),
  fc.record({ op: fc.constant('close' as const), socket: fc.nat(3) }),
);
const ask = fc.record({ op: fc.constant('ask' as const), before: fc.array(program, { maxLength: 2 }), after: fc.array(program, { maxLength: 2 }) });
const reach = { asks: 0, walks: 0, skipped: 0, emptyWithUncounted: 0, notEmpty: 0, raced: 0 };

test('sockRevSince: walks sl_sockrev only after a record was counted, and never calls a map with a counted entry empty', () => {
  check(fc.property(fc.array(fc.oneof(program, ask, ask), { maxLength: 40 }), (steps) => {
    const entries = new Set<number>(), uncounted: number[] = [];
    let count = 0;
    const run = (p: Program) => {
      if (p.op === 'write') {
        entries.add(p.socket);
        uncounted.push(p.socket);
      } else if (p.op === 'count') {
        if (uncounted.length > 0) (uncounted.shift(), count++);
      } else entries.delete(p.socket);
    };
    let around: { before: Program[]; after: Program[] } = { before: [], after: [] }, walked = false;
    const q = sockRevSince({
      isEmpty: () => {
        around.before.forEach(run); // between the read of the count and the walk
        walked = true;
        const empty = entries.size === 0;
        around.after.forEach(run); // after the walk, before the answer
        return empty;
      },
    }, () => count);
    for (const s of steps) {
      if (s.op !== 'ask') {
        run(s);
        continue;
      }
      reach.asks++;
      around = s;
      walked = false;
      const empty = q.isEmpty();
      if (!empty) {
        reach.notEmpty++;
        assert.ok(walked, 'not empty without a walk');
      } else if (!walked) {
        assert.ok([...entries].every((e) => uncounted.includes(e)), `empty without a walk, but the map holds counted entries (${[...entries]})`);
        if (entries.size > 0) reach.emptyWithUncounted++;
      }
      if (walked) reach.walks++;
      else reach.skipped++;
      reach.raced += walked && s.after.some((p) => p.op === 'count') ? 1 : 0;
      if (!walked) [...s.before, ...s.after].forEach(run); // after the answer
    }
  }), { numRuns: 300 });
  console.log(`# sockRevSince: ${reach.asks} questions, ${reach.walks} walked, ${reach.skipped} answered from the count, ${reach.notEmpty} not empty, ` +
    `${reach.emptyWithUncounted} empty with an uncounted entry, ${reach.raced} with a count during the walk`);
  const { asks, walks, skipped, notEmpty, emptyWithUncounted, raced } = reach;
  assert.ok(skipped > asks / 5 && walks > asks / 5 && notEmpty > asks / 10 && emptyWithUncounted > 3 && raced > asks / 20, JSON.stringify(reach));
});

test.run();
