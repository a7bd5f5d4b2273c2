// The pieces replay compares a recording with: which maps' digests differ
// (by name, in order, each map once), and whether a boundary's mac is the
// key's (a mac of another length is a mismatch, not an error).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { macMatches, macOf } from '../../runtime/log/chain.ts';
import { mapsThatDiffer } from '../../runtime/log/digest.ts';
import type { MapDigests } from '../../runtime/log/format.ts';

test('the maps that differ: counts or digest, or held by one side only; sorted by name', () => {
  const a: MapDigests = { sl_svc: [1, 0, 'aa'], sl_be: [2, 0, 'bb'], sl_pol: [0, 1, 'cc'], sl_ct: [1, 1, 'dd'] };
  const b: MapDigests = { sl_pol: [0, 1, 'cc'], sl_svc: [1, 0, 'ab'], sl_be: [2, 1, 'bb'], sl_ipid: [3, 0, 'ee'], sl_ct: [1, 1, 'dd'] };
  assert.equal(mapsThatDiffer(a, b), ['sl_be', 'sl_ipid', 'sl_svc']);
  assert.equal(mapsThatDiffer(b, a), ['sl_be', 'sl_ipid', 'sl_svc']);
  assert.equal(mapsThatDiffer(a, a), []);
});

test('a mac matches only the key\'s HMAC of the chain; a short or foreign one does not, without throwing', () => {
  const key = new TextEncoder().encode('k'.repeat(32)), chain = 'ab'.repeat(32);
  const mac = macOf(key, chain);
  assert.ok(macMatches(key, chain, mac));
  assert.not.ok(macMatches(key, chain, mac.slice(0, 62)));
  assert.not.ok(macMatches(key, chain, ''));
  assert.not.ok(macMatches(new TextEncoder().encode('j'.repeat(32)), chain, mac));
  assert.not.ok(macMatches(key, 'cd'.repeat(32), mac));
});

test.run();
