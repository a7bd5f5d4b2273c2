// The pieces of prom-client the agent uses, each from its own module. Its
// index loads Summary (with tdigest), Pushgateway and the cluster aggregator
// too: 56 ms of CPU at every start, against 27 ms for these (warm compile
// cache, three runs each). The version is pinned; a piece that moves in an
// upgrade fails to load here, at the agent's first test.
import { createRequire } from 'node:module';
import type * as P from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof P.Registry;
export const Counter = require('prom-client/lib/counter') as typeof P.Counter;
export type Counter = P.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof P.Gauge;
export type Gauge = P.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof P.Histogram;

/**
 * prom-client's default metrics (its defaultMetrics.js's list), less
 * processCpuTotal: that one loads @opentelemetry/api, 51 modules and 13 ms of
 * CPU at every start, for exemplars the agent does not take. Its three
 * counters are kept below as it keeps them.
 */
const DEFAULT_METRICS = [
  'processStartTime', 'osMemoryHeap', 'processOpenFileDescriptors', 'processMaxFileDescriptors', 'eventLoopLag',
  'processResources', 'processHandles', 'processRequests', 'heapSizeAndUsed', 'heapSpacesSizeAndUsed', 'version', 'gc',
];

type DefaultMetric = (register: P.Registry, config: { eventLoopMonitoringPrecision: number }) => void;

export function collectDefaultMetrics(config: { register: P.Registry; eventLoopMonitoringPrecision: number }): void {
  for (const name of DEFAULT_METRICS) (require(`prom-client/lib/metrics/${name}`) as DefaultMetric)(config.register, config);
  processCpu(config.register);
}

/** process_cpu_user_seconds_total, _system_ and the sum, set at each scrape from process.cpuUsage(). */
function processCpu(register: P.Registry): void {
  const registers = [register];
  let last = process.cpuUsage();
  const user: P.Counter = new Counter({
    name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', registers,
    collect() {
      const now = process.cpuUsage(), u = (now.user - last.user) / 1e6, s = (now.system - last.system) / 1e6;
      last = now;
      user.inc(u);
      system.inc(s);
      total.inc(u + s);
    },
  });
  const system = new Counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers });
  const total = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers });
}
