// Durations as kube-proxy's --min-sync-period takes them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDuration } from '../../runtime/agent/duration.ts';

test('the forms kube-proxy writes, and Go\'s others', () => {
  for (const [text, ms] of [
    ['200ms', 200], ['1s', 1000], ['1m', 60_000], ['0', 0], ['0s', 0], ['1.5s', 1500], ['1m30s', 90_000], ['2h', 7_200_000],
    ['1h2m3s4ms', 3_723_004], ['500us', 0.5], ['500µs', 0.5], ['250000ns', 0.25], ['.5s', 500], ['1.s', 1000], ['10s10s', 20_000],
  ] as [string, number][]) {
    assert.is(parseDuration(text), ms, text);
  }
});

test('refused, with the text and the reason', () => {
  for (const [text, why] of [
    ['', 'empty'], ['1', 'missing unit after "1"'], ['1.5', 'missing unit'], ['s', 'unexpected "s"'], ['1x', 'unexpected "1x"'],
    ['-1s', 'a sign is not allowed'], ['+1s', 'a sign is not allowed'], ['1 s', 'unexpected "1 s"'], ['1s ', 'unexpected " "'],
    ['1S', 'unexpected "1S"'], ['1d', 'unexpected "1d"'], ['1e3s', 'unexpected "1e3s"'],
  ]) {
    assert.throws(() => parseDuration(text), (e: Error) => e.message.startsWith(`invalid duration "${text}": ${why}`), JSON.stringify(text));
  }
});

test.run();
