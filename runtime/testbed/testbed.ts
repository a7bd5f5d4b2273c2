// The testbed's life: up (make it all from a snapshot), update (move to
// another snapshot, pods only, by difference) and the sluice runs after each.
// Takedown is in down.ts. Progress goes to log, one line per step.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { listNetns } from '../exec/namespaces.ts';
import { loadSnapshot, snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf, upserts } from '../streams/recordsOf.ts';
import { down } from './down.ts';
import { isAlive, startEcho, stopEcho, waitReady } from './echo.ts';
import { isTestbedNetns, pinBase } from './names.ts';
import { applySluice } from './sluice.ts';
import { claimState, readState, writeState, type PodState, type RpFilter, type TestbedState, type Wiring } from './state.ts';
import { topologyOf, type PodSpec, type Topology } from './topology.ts';
import { makeExternal, makeNode, makePod, makeUnderlay, removePod, syncExternalRoutes } from './wire.ts';

export type Log = (line: string) => void;

export interface UpOptions {
  files: string[];
  prefix: string;
  sluice: boolean;
  ttl: number;
  clientIps: string[];
  rpFilter: RpFilter;
  wiring: Wiring;
  /** More flags for every sluice apply, at up and at each update. */
  applyArgs?: string[];
}

/** The snapshot's topology; rejected objects and skipped pods are logged, not fatal. */
export function plan(files: readonly string[], prefix: string, log: Log): Topology {
  const snapshot = loadSnapshot(files);
  const set = recordsOf(snapshotEvents(snapshot.objects));
  for (const r of [...snapshot.rejected, ...set.rejected]) log(`rejected ${r.object}${r.field ? ` ${r.field}` : ''}: ${r.reason}`);
  const t = topologyOf(upserts(set.records), prefix);
  for (const s of t.skipped) log(`skipped ${s}`);
  return t;
}

function requireRoot(): void {
  if (process.geteuid?.() !== 0) throw new Error('the testbed needs root: it makes network namespaces and veths');
}

/** Makes the testbed; on any failure takes down whatever was made, then throws. */
export function up(o: UpOptions, log: Log): TestbedState {
  requireRoot();
  const files = o.files.map((f) => resolve(f));
  const t = plan(files, o.prefix, log);
  const leftovers = listNetns().filter((n) => isTestbedNetns(o.prefix, n));
  if (leftovers.length > 0 && !readState(o.prefix)) {
    throw new Error(`namespaces of testbed ${o.prefix} are left over (${leftovers.slice(0, 3).join(', ')}...): run \`sluice testbed down --prefix ${o.prefix}\``);
  }
  if (o.sluice && existsSync(pinBase(o.prefix)) && !readState(o.prefix)) {
    throw new Error(`${pinBase(o.prefix)} exists and is not this testbed's: remove it or choose another --prefix`);
  }
  const state: TestbedState = {
    version: 1, prefix: o.prefix, files, sluice: o.sluice, ttl: o.ttl, clientIps: o.clientIps, rpFilter: o.rpFilter, wiring: o.wiring,
    applyArgs: o.applyArgs,
    underlay: t.underlay, external: { ...t.external, routes: [] }, nodes: t.nodes, pods: [], netns: [],
  };
  claimState(state);
  try {
    makeUnderlay(state);
    makeExternal(state);
    for (const node of t.nodes) makeNode(state, t, node);
    syncExternalRoutes(state, t.external.routes);
    log(`made ${o.wiring} underlay ${t.underlay.subnet}, external ${t.external.ip}, nodes ${t.nodes.map((n) => n.name).join(', ')} (rp_filter ${o.rpFilter})`);
    addPods(state, t.pods, log);
    if (o.sluice) applyAll(state, log);
    return state;
  } catch (e) {
    log(`failed: ${(e as Error).message}; taking down what was made`);
    down(o.prefix, log);
    throw e;
  }
}

/** Makes pods, then starts their echo servers and waits until all serve. */
function addPods(state: TestbedState, pods: readonly PodSpec[], log: Log): void {
  for (const pod of pods) {
    const s: PodState = { ...pod };
    state.pods.push(s);
    makePod(state, s);
  }
  startEchoes(state, state.pods.filter((p) => pods.some((q) => q.key === p.key)));
  if (pods.length > 0) log(`made ${pods.length} pod${pods.length === 1 ? '' : 's'}: ${pods.map((p) => p.key).join(', ')}`);
}

function startEchoes(state: TestbedState, pods: PodState[]): void {
  const started = pods.filter((p) => p.ports.length > 0).map((pod) => {
    pod.echo = startEcho(state.prefix, pod, state.ttl);
    writeState(state);
    return { pod, proc: pod.echo };
  });
  waitReady(state.prefix, started);
}

function applyAll(state: TestbedState, log: Log): void {
  if (!state.pinBase) {
    state.pinBase = pinBase(state.prefix);
    writeState(state);
  }
  for (const node of state.nodes) {
    for (const line of applySluice(node, state.files, state.applyArgs).split('\n')) log(`sluice apply: ${line}`);
  }
}

const sameSpec = (a: PodSpec, b: PodSpec) =>
  a.key === b.key && a.node === b.node && a.ip === b.ip && a.netns === b.netns && a.hostIface === b.hostIface && a.ports.join() === b.ports.join();

export interface UpdateResult { added: string[]; removed: string[]; restarted: string[] }

/**
 * Moves testbed prefix to the snapshot files: pods that vanished or changed
 * are removed, new or changed ones made, dead echo servers restarted, the
 * external client's routes synced; then sluice applied on every node
 * (unless noSluice). Nodes must stay as they are.
 */
export function update(prefix: string, fileArgs: readonly string[], noSluice: boolean, log: Log): UpdateResult {
  requireRoot();
  const state = readState(prefix);
  if (!state) throw new Error(`no testbed ${prefix} is up: run \`sluice testbed up\` first`);
  const files = fileArgs.map((f) => resolve(f));
  const t = plan(files, prefix, log);
  const nodeText = (x: { nodes: unknown; underlay: unknown }) => JSON.stringify([x.nodes, x.underlay]);
  if (nodeText(t) !== nodeText(state) || t.external.ip !== state.external.ip) {
    throw new Error('the snapshot changes the nodes (names, addresses or pod CIDRs): the testbed keeps its nodes; take it down and up again');
  }
  const removed = state.pods.filter((p) => !t.pods.some((q) => sameSpec(p, q)));
  const added = t.pods.filter((q) => !state.pods.some((p) => sameSpec(p, q)));
  for (const pod of removed) {
    if (pod.echo) stopEcho(pod.echo);
    removePod(state, pod);
    state.pods = state.pods.filter((p) => p !== pod);
    writeState(state);
  }
  if (removed.length > 0) log(`removed ${removed.length} pod${removed.length === 1 ? '' : 's'}: ${removed.map((p) => p.key).join(', ')}`);
  const dead = state.pods.filter((p) => p.ports.length > 0 && !(p.echo && isAlive(p.echo)));
  startEchoes(state, dead);
  if (dead.length > 0) log(`restarted echo servers: ${dead.map((p) => p.key).join(', ')}`);
  addPods(state, added, log);
  syncExternalRoutes(state, t.external.routes);
  state.pods.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  state.files = files;
  writeState(state);
  if (state.sluice && !noSluice) applyAll(state, log);
  return { added: added.map((p) => p.key), removed: removed.map((p) => p.key), restarted: dead.map((p) => p.key) };
}
