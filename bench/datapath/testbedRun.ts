// The frame of a benchmark run over testbed lanes (pod2pod, nodeport): the
// run's footprint (BenchRun), signals that stop it cleanly, every lane made
// and loaded before the first sample, the servers the caller starts in them,
// then rep by rep every lane in rotating order until the reps or the time
// bound are done, and everything taken down, whatever happened.
import { BenchRun } from './benchRun.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeTestbedLane, openTestbedLane, testbedPrefix, type LaneInputs, type TestbedLane, type TestbedLaneSpec } from './testbedLane.ts';

export interface TestbedRunOptions<T extends object> {
  what: string;
  tools: T;
  reps: number;
  deadline: number; // Date.now() after which no sample starts
  specs: readonly TestbedLaneSpec[];
  inputs: (scratch: string) => LaneInputs;
  /** Adds to a lane that loaded, before the servers start (what it makes inside the lane's namespaces goes down with them). */
  prepare?: (lane: TestbedLane) => void;
  /** Starts the lane's servers (run.servers) in the lanes that loaded. */
  servers: (run: BenchRun<T>, lanes: readonly TestbedLane[]) => void;
  visit: (run: BenchRun<T>, lane: TestbedLane, rep: number, slot: number) => Promise<void>;
  /** Reads what it wants from the lanes after the last rep, before they are taken down. */
  after?: (lanes: readonly TestbedLane[]) => void;
  log: (line: string) => void;
}

function prepareLane<T extends object>(lane: TestbedLane, o: TestbedRunOptions<T>): void {
  try {
    o.prepare?.(lane);
  } catch (e) {
    lane.error = (e as Error).message.split('\n')[0].slice(0, 200);
    o.log(`${lane.spec.label}, MTU ${lane.spec.mtu}: failed: ${lane.error}`);
  }
}

/** Runs it all; returns the lanes (their load times and errors). */
export async function testbedRun<T extends object>(o: TestbedRunOptions<T>): Promise<TestbedLane[]> {
  const run = new BenchRun(o.tools, o.deadline);
  const onSignal = (sig: NodeJS.Signals) => {
    const problems = run.close();
    console.error(`bench ${o.what}: stopped by ${sig}; cleaned up${problems.length ? ` except: ${problems.join('; ')}` : ''}`);
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  const opened: TestbedLane[] = [];
  try {
    const inputs = o.inputs(run.scratch);
    for (const [i, spec] of o.specs.entries()) {
      const prefix = testbedPrefix(process.pid, i);
      run.noteTestbed(prefix);
      const lane = await openTestbedLane(spec, prefix, inputs, run.serverLimitSeconds(), o.log);
      opened.push(lane);
      if (!lane.error) prepareLane(lane, o);
    }
    o.servers(run, opened.filter((l) => !l.error));
    await sleep(500);
    await run.eachRep(o.what, o.reps, opened, o.log, (l, rep, slot) => o.visit(run, l, rep, slot));
    o.after?.(opened);
  } finally {
    run.servers.stopAll();
    for (const l of opened) {
      const warnings = await closeTestbedLane(l.prefix, l.state?.pods.map((p) => p.netns) ?? []);
      if (warnings.length === 0) run.forgetTestbed(l.prefix);
    }
    const problems = run.close();
    for (const s of signals) process.off(s, onSignal);
    if (problems.length) console.error(`bench ${o.what}: cleanup left: ${problems.join('; ')}`);
  }
  return opened;
}
