// The state file /run/sluice-testbed/<prefix>.json: what a testbed made, so
// `testbed down` can remove it all, also after a crash. Whatever is about to
// be made is written here first; down tolerates things that never came to be.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { STATE_DIR, statePath } from './names.ts';
import type { NodeSpec, PodSpec, Topology } from './topology.ts';

/** A process we started: the pid and its start time (field 22 of /proc/PID/stat), so a reused pid is never taken for it. */
export interface Proc { pid: number; start: string }

export interface PodState extends PodSpec { echo?: Proc }

/** A node's reverse-path filter: the kernel's default (0, off) or systemd's (2, loose). */
export type RpFilter = 0 | 2;

/** How nodes and the external client are joined (wire.ts, makeUnderlay). */
export type Wiring = 'bridged' | 'routed';

export interface TestbedState {
  version: 1;
  prefix: string;
  files: string[]; // the snapshot last made, absolute paths
  sluice: boolean; // sluice apply runs on every node
  applyArgs?: string[]; // more flags for every sluice apply (--no-fast-path, --dsr)
  ttl: number; // echo servers exit by themselves after this many seconds
  clientIps: string[]; // extra addresses of the external client (on its lo)
  rpFilter: RpFilter; // the nodes' net.ipv4.conf.{all,default}.rp_filter
  wiring: Wiring; // one bridge for all, or a router with a link to each
  underlay: Topology['underlay'];
  external: Topology['external'];
  nodes: NodeSpec[];
  pods: PodState[];
  netns: string[]; // every namespace made (or about to be), in order of making
  pinBase?: string; // set once sluice may have pinned under it
}

/** Claims prefix: throws if its state file exists (another testbed of that prefix is up, or was not taken down). */
export function claimState(state: TestbedState): void {
  let fd;
  try {
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    try {
      fd = openSync(statePath(state.prefix), 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 }); // another testbed's down removed it just now
      fd = openSync(statePath(state.prefix), 'wx', 0o600);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`testbed ${state.prefix} is already up (${statePath(state.prefix)}); run \`sluice testbed down --prefix ${state.prefix}\` first`);
    }
    throw e;
  }
  try {
    writeFileSync(fd, JSON.stringify(state, null, 2) + '\n');
  } finally {
    closeSync(fd);
  }
}

/** Replaces the state file whole (write, then rename), so a crash never leaves half of it. */
export function writeState(state: TestbedState): void {
  const path = statePath(state.prefix);
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** The state, or undefined when there is no state file. Throws when it cannot be read. */
export function readState(prefix: string): TestbedState | undefined {
  let text;
  try {
    text = readFileSync(statePath(prefix), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const state = JSON.parse(text) as TestbedState;
  if (state.version !== 1 || state.prefix !== prefix) throw new Error(`${statePath(prefix)} is not a testbed ${prefix} state file`);
  return state;
}

/** Removes prefix's state file, and the state directory once no testbed is left in it. */
export function removeState(prefix: string): void {
  rmSync(statePath(prefix), { force: true });
  rmSync(`${statePath(prefix)}.tmp`, { force: true });
  try {
    rmdirSync(STATE_DIR);
  } catch {
    // another testbed's state is in it (ENOTEMPTY), or it is gone already
  }
}

/** Records a namespace about to be made. */
export function noteNetns(state: TestbedState, netns: string): void {
  if (!state.netns.includes(netns)) state.netns.push(netns);
  writeState(state);
}
