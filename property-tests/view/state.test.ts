// statsOf and conntrackOf decode sl_stats and sl_ct bytes laid out by hand
// from the comments in bpf/include/sluice_abi.h.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { conntrackOf, isDrop, STAT_NAMES, statsOf } from '../../runtime/view/state.ts';

const u32le = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

test('stats: every enum sl_stat, then every enum sl_drop (at slot -reason), by name in enum order, per-CPU slots summed', () => {
  const twoCpus = new DataView(new ArrayBuffer(32));
  twoCpus.setBigUint64(0, 3n, true); twoCpus.setBigUint64(8, 300n, true);
  twoCpus.setBigUint64(16, 4n, true); twoCpus.setBigUint64(24, 400n, true);
  const one = new DataView(new ArrayBuffer(32));
  one.setBigUint64(0, 1n, true); one.setBigUint64(8, 60n, true);
  const stats = statsOf([[u32le(201), new Uint8Array(twoCpus.buffer)], [u32le(2), new Uint8Array(one.buffer)]]);
  assert.equal(Object.keys(stats), [...STAT_NAMES.values()]);
  assert.equal(Object.keys(stats).slice(0, 3), ['SL_STAT_TRANSLATED', 'SL_STAT_CT_HIT', 'SL_STAT_REJECTED']);
  assert.equal(Object.keys(stats).filter((k) => k.startsWith('SL_DROP_')), [...A.SL_DROP_NAMES.values()], 'the drops after the counters');
  assert.not.ok('SL_STAT_MAX' in stats);
  assert.equal(stats.SL_DROP_SRC_RANGE, { packets: 7, bytes: 700 }, 'SL_DROP_SRC_RANGE is -201: slot 201');
  assert.equal(stats.SL_STAT_REJECTED, { packets: 1, bytes: 60 });
  assert.equal(stats.SL_STAT_TRANSLATED, { packets: 0, bytes: 0 });
  assert.ok(isDrop('SL_DROP_SRC_RANGE') && !isDrop('SL_STAT_REJECTED'));
});

test('conntrack: tuple, rewrite, state, flags (unknown bits in hex), seconds left', () => {
  // ct_key { be32 saddr, daddr; be16 sport, dport; u8 proto; pad[3] }
  const key = Uint8Array.from([10, 244, 1, 11, 10, 96, 0, 10, 0xea, 0x60, 0, 53, 17, 0, 0, 0]);
  // ct_val { u64 expires; be32 saddr, daddr; be16 sport, dport; be32 bset, backend; u8 state, flags; ... }
  const value = new Uint8Array(A.STATE_MAPS.find((m) => m.name === 'sl_ct')!.value.size);
  const v = new DataView(value.buffer);
  v.setBigUint64(0, 50_000_000_000n, true);
  value.set([10, 244, 1, 11, 10, 244, 2, 21, 0xea, 0x60, 0, 53, 0, 0, 0, 9, 0, 0, 0, 4], 8);
  value[28] = A.SL_CT_NEW;
  value[29] = A.SL_CT_SNAT | 0x80;
  assert.equal(conntrackOf([[key, value]], 20_000_000_000n), [{
    protocol: 'UDP', tuple: { saddr: '10.244.1.11', sport: 60000, daddr: '10.96.0.10', dport: 53 },
    rewrite: { saddr: '10.244.1.11', sport: 60000, daddr: '10.244.2.21', dport: 53 },
    state: 'NEW', flags: ['SNAT', '0x80'], bset: 9, backend: 4, secondsLeft: 30,
  }]);
  assert.is(conntrackOf([[key, value]], 60_000_000_000n)[0].secondsLeft, -10, 'expired, not yet evicted');
});

test.run();
