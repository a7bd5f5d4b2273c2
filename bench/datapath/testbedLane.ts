// A lane made as a testbed (runtime/testbed): two nodes on an underlay bridge,
// their pods on veths, an external client, made from a generated snapshot
// exactly as `sluice testbed up --no-sluice` makes it (nodes on one bridge,
// systemd's rp_filter 2, every other sysctl the kernel's default), so the
// benchmarks measure the wiring the end-to-end tests run on. Every link gets the lane's
// MTU; then the node namespaces get the dataplane: nothing (the floor),
// kube-proxy's rules (one plain restore, or nft -f, per node), or `sluice
// apply` on each node with the lane's flags. Each lane is a testbed of its
// own prefix, "b<pid in base 36><letter>", whose snapshot lies in the run's
// scratch folder (how leftovers.ts tells a dead run's testbeds).
import { down } from '../../runtime/testbed/down.ts';
import { pinBase } from '../../runtime/testbed/names.ts';
import { ipBatch, pidsIn } from '../../runtime/exec/namespaces.ts';
import { applySluice } from '../../runtime/testbed/sluice.ts';
import { writeState, type TestbedState } from '../../runtime/testbed/state.ts';
import { up } from '../../runtime/testbed/testbed.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { nsenter, run, runAsync, tryRun } from '../../runtime/exec/command.ts';

/** What a lane's nodes run: nothing, kube-proxy's rules (files per kind), or sluice with these `apply` flags. */
export type LaneLoad = { kind: 'none' } | { kind: 'iptables'; backend: 'legacy' | 'nft' } | { kind: 'nft' } | { kind: 'sluice'; args: string[] };

export interface TestbedLaneSpec { id: string; label: string; mtu: number; load: LaneLoad }

export interface TestbedLane {
  spec: TestbedLaneSpec;
  prefix: string;
  state?: TestbedState;
  loadSeconds: number;
  error?: string;
}

/** Input files of a run: the snapshot and kube-proxy's rules for it. */
export interface LaneInputs { snapshot: string; iptables: string; nft: string }

/** Upper bound of one node's load (kube-proxy's nftables mode is the slow one: minutes at 10,000 services). */
const LOAD_TIMEOUT_MS = 300_000;

export const testbedPrefix = (pid: number, lane: number) => `b${pid.toString(36)}${String.fromCharCode(97 + lane)}`;

/** Every link of every namespace of the testbed at mtu: veths first, then the bridge (which may not exceed its ports). */
function setMtu(state: TestbedState, mtu: number): void {
  const links = state.netns.map((ns) => ({
    ns, links: (JSON.parse(run(['ip', '-n', ns, '-j', '-d', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[])
      .filter((l) => l.ifname !== 'lo'),
  }));
  for (const bridges of [false, true]) {
    for (const { ns, links: ls } of links) {
      ipBatch(ns, ls.filter((l) => (l.linkinfo?.info_kind === 'bridge') === bridges).map((l) => `link set dev ${l.ifname} mtu ${mtu}`));
    }
  }
}

async function load(state: TestbedState, l: LaneLoad, inputs: LaneInputs): Promise<void> {
  for (const node of state.nodes) {
    switch (l.kind) {
      case 'none':
        break;
      case 'iptables':
        await runAsync(nsenter(node.netns, [l.backend === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore']), { timeoutMs: LOAD_TIMEOUT_MS, stdinFile: inputs.iptables });
        break;
      case 'nft':
        await runAsync(nsenter(node.netns, ['nft', '-f', inputs.nft]), { timeoutMs: LOAD_TIMEOUT_MS });
        break;
      case 'sluice':
        if (!state.pinBase) {
          state.pinBase = pinBase(state.prefix); // so that down detaches sluice and removes the pins
          writeState(state);
        }
        applySluice(node, state.files, l.args);
        break;
    }
  }
}

/** Makes and loads a lane; a failure is kept in .error (what was made stays for closeTestbedLane). */
export async function openTestbedLane(spec: TestbedLaneSpec, prefix: string, inputs: LaneInputs, ttl: number, log: (line: string) => void): Promise<TestbedLane> {
  const lane: TestbedLane = { spec, prefix, loadSeconds: 0 };
  try {
    lane.state = up({ files: [inputs.snapshot], prefix, sluice: false, ttl, clientIps: [], rpFilter: 2, wiring: 'bridged' }, () => {});
    setMtu(lane.state, spec.mtu);
    const t0 = performance.now();
    await load(lane.state, spec.load, inputs);
    lane.loadSeconds = (performance.now() - t0) / 1000;
    log(`${spec.label}, MTU ${spec.mtu}: testbed ${prefix} up, loaded in ${lane.loadSeconds.toFixed(1)} s`);
  } catch (e) {
    lane.error = (e as Error).message.split('\n').filter((x) => x.trim()).slice(-1)[0]?.slice(0, 200) ?? 'failed';
    log(`${spec.label}, MTU ${spec.mtu}: failed: ${lane.error}`);
  }
  return lane;
}

/** The netns of a lane's pod ("namespace/name"). */
export function podNetns(lane: TestbedLane, key: string): string {
  const p = lane.state?.pods.find((x) => x.key === key);
  if (!p) throw new Error(`lane ${lane.prefix}: no pod ${key}`);
  return p.netns;
}

/**
 * Takes the lane's testbed down, once the servers started in its pods (which
 * the caller has stopped) are gone: down leaves alone what it did not start.
 * Returns its warnings.
 */
export async function closeTestbedLane(prefix: string, pods: readonly string[]): Promise<string[]> {
  for (let i = 0; i < 30 && pods.some((ns) => pidsIn(ns).length > 0); i++) await sleep(100);
  return down(prefix, () => {}).warnings;
}

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;

/** A node's sl_stats packet counters by name (`sluice maps`), or undefined when they cannot be read (no sluice there). */
export function laneStats(lane: TestbedLane, node: string): { [name: string]: number } | undefined {
  const n = lane.state?.nodes.find((x) => x.name === node);
  if (!n) return undefined;
  const r = tryRun(['node', MAIN, 'maps', '--pin-root', n.pinRoot, '--format', 'json'], { timeoutMs: 60_000 });
  if (r.status !== 0) return undefined;
  const stats = JSON.parse(r.stdout).stats as { [name: string]: { packets: number } };
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v.packets]));
}
