// When the stale socket sweep runs its iterators: with host services on a
// kernel that has them, unless sl_sockrev says no socket was ever
// translated. The iterators here are fds that are not iterator programs, so
// a sweep that runs them fails, and its error shows that it ran.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ITERATORS } from '../../runtime/bpf/staleSockets.ts';
import { sweepStale } from '../../runtime/dataplane/staleSweep.ts';

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

test.run();
