// The argument parsers of the testbed's load clients (rate.ts, hold.ts,
// timed.ts), without root or traffic: defaults, and every bound that keeps
// a run finite refused when exceeded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_SECONDS as HOLD_MAX_SECONDS, parseHoldArgs } from '../../runtime/testbed/hold.ts';
import { MAX_CONCURRENCY, MAX_CONNECTIONS, MAX_SECONDS as RATE_MAX_SECONDS, parseRateArgs } from '../../runtime/testbed/rate.ts';
import { MAX_COUNT, parseTimedArgs } from '../../runtime/testbed/timed.ts';
import { number, parseClientArgs } from '../../runtime/testbed/clientArgs.ts';

test('rate.ts: defaults, and its bounds', () => {
  assert.equal(parseRateArgs(['10.0.0.1', '30080']), {
    ip: '10.0.0.1', port: 30080, seconds: 3, concurrency: 8, rate: undefined, timeoutMs: 2000, max: MAX_CONNECTIONS,
  });
  assert.equal(parseRateArgs(['10.0.0.1', '80', '--seconds', '0.5', '--rate', '1500', '--max', '100', '--concurrency', '2']), {
    ip: '10.0.0.1', port: 80, seconds: 0.5, concurrency: 2, rate: 1500, timeoutMs: 2000, max: 100,
  });
  for (const bad of [
    ['10.0.0.1'], ['nowhere', '80'], ['10.0.0.1', '0'], ['10.0.0.1', '80', 'x'], ['10.0.0.1', '80', '--seconds', String(RATE_MAX_SECONDS + 1)],
    ['10.0.0.1', '80', '--concurrency', String(MAX_CONCURRENCY + 1)], ['10.0.0.1', '80', '--concurrency', '1.5'],
    ['10.0.0.1', '80', '--max', String(MAX_CONNECTIONS + 1)], ['10.0.0.1', '80', '--rate', '0'], ['10.0.0.1', '80', '--bogus'],
  ]) assert.type(parseRateArgs(bad), 'string', bad.join(' '));
});

test('hold.ts: defaults, and its bounds', () => {
  assert.equal(parseHoldArgs(['udp', '10.0.0.1', '53']), { proto: 'udp', ip: '10.0.0.1', port: 53, seconds: 10, intervalMs: 100, timeoutMs: 1000 });
  for (const bad of [
    ['sctp', '10.0.0.1', '80'], ['tcp', '10.0.0.1'], ['tcp', '10.0.0.1', '80', '--seconds', String(HOLD_MAX_SECONDS + 1)],
    ['tcp', '10.0.0.1', '80', '--seconds', '0'], ['tcp', '10.0.0.1', '80', '--interval', '1'], ['tcp', '10.0.0.1', '80', '--timeout', '20000'],
  ]) assert.type(parseHoldArgs(bad), 'string', bad.join(' '));
});

test('timed.ts: defaults, and its bounds', () => {
  assert.equal(parseTimedArgs(['tcp', '10.0.0.1', '80', '-n', '5']), { proto: 'tcp', ip: '10.0.0.1', port: 80, count: 5, timeoutMs: 1000 });
  for (const bad of [
    ['udp', '10.0.0.1', '80', '-n', String(MAX_COUNT + 1)], ['udp', '10.0.0.1', '80', '--timeout', '0'], ['icmp', '10.0.0.1', '80'],
  ]) assert.type(parseTimedArgs(bad), 'string', bad.join(' '));
});

test('one parser words every client\'s errors alike: the flag, its range and unit', () => {
  const spec = { proto: true, flags: { wait: number(1, 50, { default: 5, unit: 'ms' }), frac: number(0.5, 2, { real: true }), from: { kind: 'ipv4' as const }, on: { kind: 'switch' as const } } };
  assert.equal(parseClientArgs(['udp', '10.0.0.1', '53'], spec), { proto: 'udp', ip: '10.0.0.1', port: 53, flags: { wait: 5, frac: undefined, from: undefined, on: undefined } });
  assert.equal(parseClientArgs(['tcp', '10.0.0.1', '80', '--frac', '1.5', '--from', '10.0.0.2', '--on'], spec),
    { proto: 'tcp', ip: '10.0.0.1', port: 80, flags: { wait: 5, frac: 1.5, from: '10.0.0.2', on: true } });
  assert.is(parseClientArgs(['tcp', '10.0.0.1', '80', '--wait', '51'], spec), '--wait must be 1-50 ms');
  assert.is(parseClientArgs(['tcp', '10.0.0.1', '80', '--wait', '2.5'], spec), '--wait must be 1-50 ms', 'whole numbers unless real');
  assert.is(parseClientArgs(['tcp', '10.0.0.1', '80', '--frac', '3'], spec), '--frac must be 0.5-2');
  assert.is(parseClientArgs(['tcp', '10.0.0.1', '80', '--from', 'x'], spec), '--from must be an IPv4 address');
  assert.is(parseClientArgs(['10.0.0.1', '80'], { proto: false, flags: {} }).toString(), '[object Object]', 'no protocol when the client takes none');
});

test.run();
