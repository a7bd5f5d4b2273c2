// The text exposition format the agent's /metrics serves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from '../../runtime/agent/prometheus.ts';

test('counters, gauges and histograms, labels escaped, collectors run at render', () => {
  const r = new Registry();
  const c = r.counter('x_total', 'Things.\nCounted.');
  const g = r.gauge('y', 'Level.');
  const h = r.histogram('z_seconds', 'Time.', [0.1, 1, 0.01]);
  c.inc({ kind: 'a"b\\c\nd' });
  c.inc({ kind: 'a"b\\c\nd' }, 2);
  c.inc({ kind: 'plain' });
  let level = 0;
  r.collect(() => g.set({}, ++level));
  for (const v of [0.005, 0.05, 0.05, 2]) h.observe(v);
  assert.is(r.render(), [
    '# HELP x_total Things.\\nCounted.', '# TYPE x_total counter', 'x_total{kind="a\\"b\\\\c\\nd"} 3', 'x_total{kind="plain"} 1',
    '# HELP y Level.', '# TYPE y gauge', 'y 1',
    '# HELP z_seconds Time.', '# TYPE z_seconds histogram',
    'z_seconds_bucket{le="0.01"} 1', 'z_seconds_bucket{le="0.1"} 3', 'z_seconds_bucket{le="1"} 3', 'z_seconds_bucket{le="+Inf"} 4',
    'z_seconds_sum 2.105', 'z_seconds_count 4', '',
  ].join('\n'));
  assert.match(r.render(), '\ny 2\n');
  assert.is(c.get({ kind: 'plain' }), 1);
  assert.throws(() => r.gauge('y', 'again'), /registered twice/);
});

test.run();
