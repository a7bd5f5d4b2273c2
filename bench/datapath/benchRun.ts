// One benchmark run's footprint: its namespaces, pins, testbeds, servers,
// commands and scratch folder, named after its pid (leftovers.ts). All of it
// is removed by close(), which runs on success, failure and signals, and
// checks that nothing with the run's names is left.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { down } from '../../runtime/testbed/down.ts';
import { removeIfEmpty, removePinTree } from '../../runtime/testbed/pins.ts';
import { loadDataplane, InputFiles, type Dataplane, type Loaded } from './dataplanes.ts';
import { Servers } from './servers.ts';
import { CommandError, killRunning } from '../../runtime/exec/command.ts';
import { deleteNetns } from '../../runtime/exec/namespaces.ts';
import { laneNamespaces, laneOf, makeLane, type Lane } from './lane.ts';
import { NETNS_DIR, PIN_BASE, runPrefix, scratchPrefix } from './leftovers.ts';
import type { Probe } from './services.ts';
import type { Tool } from './setup.ts';

export interface Tools { connlat: Tool; acceptd: Tool }

/** A lane to make: the floor's services are ignored (it has none). */
export interface LaneSpec { dp: Dataplane; services: number; mtu: number }

export interface LaneOf { dp: Dataplane; services: number; lane: Lane; loaded?: Loaded; error?: string }

/** "floor", "sluice10000", "nft1000-9000": unique per spec, short enough for a namespace name. */
const laneName = (dp: Dataplane, services: number, mtu: number) => `${dp === 'floor' ? dp : `${dp}${services}`}${mtu === 1500 ? '' : `-${mtu}`}`;

/** xs starting at its by-th element, wrapping. */
const rotate = <T>(xs: readonly T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]);

/** T: the run's C tools, name -> binary. */
export class BenchRun<T extends object = Tools> {
  readonly prefix = runPrefix(process.pid);
  readonly servers = new Servers();
  readonly scratch = mkdtempSync(scratchPrefix(process.pid));
  readonly files = new InputFiles(this.scratch);
  private readonly pinRoot = join(PIN_BASE, String(process.pid));
  private readonly namespaces = new Set<string>();
  private readonly testbeds = new Set<string>();
  private closed = false;

  readonly tools: T;
  /** Wall-clock time (Date.now()) after which no sample starts. */
  readonly deadline: number;
  constructor(tools: T, deadline: number) {
    this.tools = tools;
    this.deadline = deadline;
  }

  /** Whether the run's time bound has passed: samples stop, what was measured is reported. */
  outOfTime = () => Date.now() >= this.deadline;

  /** Seconds a background server may live: to the time bound, plus a margin for loads and cleanup. */
  serverLimitSeconds = () => Math.ceil(Math.max(0, this.deadline - Date.now()) / 1000) + 600;

  private lanePins = (l: Lane) => join(this.pinRoot, l.name);

  /**
   * reps reps over every lane, until the time bound; each rep starts one lane
   * further along (so drift of the machine hits all lanes alike). visit gets
   * the lane, the rep (from 1) and the lane's slot in that rep's order.
   */
  async eachRep<L>(what: string, reps: number, lanes: readonly L[], log: (line: string) => void,
    visit: (l: L, rep: number, slot: number) => Promise<void>): Promise<void> {
    for (let rep = 1; rep <= reps; rep++) {
      if (this.outOfTime()) return log(`${what}: the run's time bound is reached; stopped after ${rep - 1} of ${reps} reps`);
      log(`${what}: rep ${rep} of ${reps}`);
      for (const [slot, l] of rotate(lanes, rep - 1).entries()) await visit(l, rep, slot);
    }
  }

  /**
   * A lane per spec, each loaded with its services; one that fails to load
   * is kept with its error (and measured no further), the rest go on.
   */
  async openLanes(specs: readonly LaneSpec[], probe: Probe, log: (line: string) => void): Promise<LaneOf[]> {
    const out: LaneOf[] = [];
    for (const { dp, services, mtu } of specs) {
      const lane = laneOf(this.prefix, laneName(dp, services, mtu), mtu);
      makeLane(lane, (ns) => this.namespaces.add(ns));
      const entry: LaneOf = { dp, services, lane };
      try {
        mkdirSync(this.pinRoot, { recursive: true });
        entry.loaded = await loadDataplane(dp, lane, services, probe, this.files, this.lanePins(lane));
        if (dp !== 'floor') log(`${dp}: ${services} services loaded in ${entry.loaded.seconds.toFixed(2)} s${specs.some((x) => x.mtu !== mtu) ? ` (MTU ${mtu})` : ''}`);
      } catch (e) {
        entry.error = (e instanceof CommandError ? e.reason : (e as Error).message).split('\n')[0].slice(0, 200);
        log(`${dp}: ${services} services: load failed: ${entry.error}`);
      }
      out.push(entry);
    }
    return out;
  }

  /** A testbed (by prefix) about to be made: close() takes it down unless forgetTestbed() said it is gone. */
  noteTestbed(prefix: string): void {
    this.testbeds.add(prefix);
  }

  forgetTestbed(prefix: string): void {
    this.testbeds.delete(prefix);
  }

  /** Stops the servers and removes the lanes' namespaces (veths, qdiscs, programs with them) and pins. */
  closeLanes(lanes: readonly LaneOf[]): void {
    this.servers.stopAll();
    for (const { lane } of lanes) {
      for (const ns of laneNamespaces(lane)) {
        deleteNetns(ns);
        this.namespaces.delete(ns);
      }
      removePinTree(this.lanePins(lane));
    }
  }

  /** Everything this run made, gone; safe to call twice. Returns problems, one line each. */
  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const problems: string[] = [];
    const attempt = (what: string, f: () => void) => {
      try {
        f();
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
      }
    };
    attempt('stop commands', killRunning);
    attempt('stop servers', () => this.servers.stopAll());
    for (const prefix of this.testbeds) {
      attempt(`testbed ${prefix} down`, () => {
        const warnings = down(prefix, () => {}).warnings;
        if (warnings.length) throw new Error(warnings.join('; '));
      });
    }
    // the namespaces noted as made, and any other with the run's prefix
    const ours = existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => n.startsWith(`${this.prefix}-`)) : [];
    for (const ns of new Set([...this.namespaces, ...ours])) attempt(`delete netns ${ns}`, () => deleteNetns(ns));
    attempt('remove pins', () => {
      removePinTree(this.pinRoot);
      if (existsSync(PIN_BASE)) removeIfEmpty(PIN_BASE);
    });
    attempt('remove scratch', () => rmSync(this.scratch, { recursive: true, force: true }));
    const left = existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => n.startsWith(`${this.prefix}-`)) : [];
    if (left.length) problems.push(`namespaces still there: ${left.join(', ')}`);
    if (existsSync(this.pinRoot)) problems.push(`pins still there: ${this.pinRoot}`);
    return problems;
  }
}
