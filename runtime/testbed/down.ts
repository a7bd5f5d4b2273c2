// Takes a testbed down: sluice detached, echo servers stopped, namespaces
// (and with them every veth, bridge, route and qdisc in them) deleted, pins,
// logs and the state file removed. Works from the state file; without one
// (lost, or never written), from the namespaces named by the prefix.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { deleteNetns, listNetns, netnsExists, pidsIn } from '../exec/namespaces.ts';
import { isEchoServer, processStart, stopEcho } from './echo.ts';
import { isTestbedNetns, nodeNetns, pinBase, runDir } from './names.ts';
import { countPins, removeIfEmpty, removePinTree } from './pins.ts';
import { detachSluice } from './sluice.ts';
import { readState, removeState } from './state.ts';

export interface DownReport {
  fromState: boolean;
  netns: string[]; // deleted
  stopped: number; // echo servers
  pins: number; // pins gone (removed here or by sluice detach)
  warnings: string[];
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
};

/**
 * Empties netns of echo servers (ours: only testbeds start them, and only in
 * their own namespaces), then deletes it. Anything else still inside is named
 * in a warning and left alone: the namespace then lives on until it exits.
 */
function clearAndDelete(netns: string, report: DownReport): void {
  for (const pid of pidsIn(netns)) {
    const start = processStart(pid);
    if (start === undefined) continue;
    if (isEchoServer(pid)) report.stopped += stopEcho({ pid, start }) ? 1 : 0;
    else report.warnings.push(`pid ${pid} (${commandOf(pid)}) still runs in ${netns}; not ours to kill`);
  }
  if (netnsExists(netns)) {
    deleteNetns(netns);
    report.netns.push(netns);
  }
}

/** Pods first, then nodes, the external client and the underlay last: the reverse of making. */
const rank = (prefix: string, n: string) => (n.startsWith(`${prefix}-p-`) ? 0 : n.startsWith(`${prefix}-n-`) ? 1 : 2);

export function down(prefix: string, log: (line: string) => void): DownReport {
  const state = readState(prefix);
  const report: DownReport = { fromState: state !== undefined, netns: [], stopped: 0, pins: 0, warnings: [] };
  const pinsBefore = countPins(pinBase(prefix));
  if (state?.pinBase) {
    for (const node of state.nodes) {
      if (!netnsExists(node.netns)) continue;
      const w = detachSluice(node);
      if (w) report.warnings.push(w);
    }
  }
  for (const pod of state?.pods ?? []) if (pod.echo && stopEcho(pod.echo)) report.stopped++;
  const named = listNetns().filter((n) => isTestbedNetns(prefix, n));
  const all = [...new Set([...(state ? [...state.netns].reverse() : []), ...named])];
  for (const netns of all.sort((a, b) => rank(prefix, a) - rank(prefix, b))) {
    try {
      clearAndDelete(netns, report);
    } catch (e) {
      report.warnings.push((e as Error).message);
    }
  }
  removePins(prefix, state?.pinBase, named, report);
  report.pins = pinsBefore - countPins(pinBase(prefix)); // sluice detach removes most of them
  rmSync(runDir(prefix), { recursive: true, force: true });
  removeState(prefix);
  log(`down: ${report.netns.length} namespaces deleted, ${report.stopped} echo servers stopped, ${report.pins} pins removed` +
    `${report.fromState ? '' : ' (no state file: found by name)'}`);
  for (const w of report.warnings) log(`warning: ${w}`);
  return report;
}

/**
 * With a state file that says sluice ran: all of pinBase (up refused to start
 * if it existed before). Else (no state file, or a testbed made with
 * --no-sluice whose nodes an agent programmed under their pin roots): only
 * the directories of nodes whose namespaces were found, and pinBase once
 * empty; anything else there may be someone else's.
 */
function removePins(prefix: string, recorded: string | undefined, named: readonly string[], report: DownReport): void {
  try {
    if (recorded) {
      removePinTree(recorded);
      return;
    }
    const base = pinBase(prefix);
    for (const dir of listDirs(base)) if (named.includes(nodeNetns(prefix, dir))) removePinTree(`${base}/${dir}`);
    if (!removeIfEmpty(base)) report.warnings.push(`${base} still holds pins of no node of this testbed; left alone`);
  } catch (e) {
    report.warnings.push(`pins: ${(e as Error).message}`);
  }
}

function listDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
}
