// What the end-to-end tests share: a testbed per test file, made from a
// fixture with sluice applied on every node and always taken down (uvu's
// `after` runs even when a test fails; an exit handler is the backstop), and
// clients run inside its namespaces: probe.ts (answers), timed.ts (how fast
// a client fails), hold.ts (a long-lived flow), rate.ts (connections per
// second), reopen.ts (a client that opens a new socket when one fails).
// Traffic stays between the testbed's namespaces; every client is
// bounded in count and time, and only processes started here are signalled.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { down } from '../../runtime/testbed/down.ts';
import { targetNetns } from '../../runtime/testbed/exec.ts';
import { nsenter, runAsync, start, tryRunAsync } from '../../runtime/exec/command.ts';
import { netnsUnavailableReason } from '../../runtime/exec/namespaces.ts';
import type { HoldReport } from '../../runtime/testbed/hold.ts';
import type { RateReport } from '../../runtime/testbed/rate.ts';
import type { ReopenEvent } from '../../runtime/testbed/reopen.ts';
import type { RpFilter, TestbedState, Wiring } from '../../runtime/testbed/state.ts';
import { up, update, type UpdateResult } from '../../runtime/testbed/testbed.ts';
import type { Attempt } from '../../runtime/testbed/timed.ts';

export type { Attempt, HoldReport, RateReport, ReopenEvent };

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const OBJECT = new URL('../../build/bpf/sluice.o', import.meta.url).pathname;
const script = (name: string) => new URL(`../../runtime/testbed/${name}.ts`, import.meta.url).pathname;
export const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

const quiet = () => {};

/** Why these tests cannot run here, or null: they need netns, root and the built datapath. */
const unavailable = netnsUnavailableReason() ?? (existsSync(OBJECT) ? null : 'build/bpf/sluice.o not built (npm run build:bpf)');

/** One answer of an echo server: "<namespace>/<pod> <client ip>:<client port>". */
export interface Answer { backend: string; client: string; port: number }

export function parseAnswer(line: string): Answer | undefined {
  const m = /^(\S+\/\S+) (\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(line);
  return m ? { backend: m[1], client: m[2], port: Number(m[3]) } : undefined;
}

/**
 * Asserts every line is an answer from one of backends (and, when given, to
 * client as the address the pod saw); returns how many answers each gave.
 */
export function answersFrom(lines: readonly string[], backends: readonly string[], client?: string): Map<string, number> {
  assert.ok(lines.length > 0, 'no answers');
  const counts = new Map<string, number>();
  for (const line of lines) {
    const a = parseAnswer(line);
    assert.ok(a, `not an answer: "${line}"`);
    assert.ok(backends.includes(a.backend), `answer from ${a.backend}, not a backend of the service (${backends.join(', ')}): "${line}"`);
    if (client !== undefined) assert.is(a.client, client, `the pod saw ${a.client}, not ${client}: "${line}"`);
    counts.set(a.backend, (counts.get(a.backend) ?? 0) + 1);
  }
  return counts;
}

/** A client started in the background (hold.ts, rate.ts), printing JSON lines. */
export class Helper<Final> {
  private readonly lines: unknown[] = [];
  private readonly waiters: (() => void)[] = [];
  private exited = false;
  private stderr = '';
  readonly done: Promise<void>;
  private readonly child: ChildProcess;
  private readonly what: string;

  constructor(child: ChildProcess, what: string) {
    this.child = child;
    this.what = what;
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      this.wake();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr += d));
    this.done = new Promise((resolve) => child.on('close', () => {
      this.exited = true;
      this.wake();
      resolve();
    }));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The n-th JSON line (from 0), once printed; throws if the client exits or timeoutMs passes first. */
  async line<T>(n: number, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length <= n) {
      if (this.exited) throw new Error(`${this.what} exited before line ${n}: ${this.stderr.trim() || JSON.stringify(this.lines)}`);
      if (Date.now() > deadline) throw new Error(`${this.what}: no line ${n} after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    return this.lines[n] as T;
  }

  /** Asks the client to stop (SIGTERM), waits for it, returns its last line. */
  async stop(): Promise<Final> {
    if (!this.exited) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), 10_000);
    await this.done;
    clearTimeout(timer);
    const last = this.lines.at(-1) as Final | undefined;
    if (last === undefined) throw new Error(`${this.what} printed nothing: ${this.stderr.trim()}`);
    return last;
  }

  /** SIGKILL if still running: only this child, which we started. */
  kill(): void {
    if (!this.exited && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export interface BedOptions {
  clientIps?: string[];
  /** The nodes' rp_filter: 2, systemd's (default), or 0, the kernel's; every other sysctl stays the kernel's default. */
  rpFilter?: RpFilter;
  /** One bridge (default) or a router between nodes and the external client. */
  wiring?: Wiring;
  /** More flags for sluice apply on every node (--no-fast-path). */
  applyArgs?: string[];
  /** Run sluice apply on every node at up (default); false leaves programming the nodes to the test. */
  sluice?: boolean;
  /** Stops what the test started on the nodes (agents), before they are taken down. */
  beforeDown?: () => void;
}

const live = new Set<Bed>();
let handlersOn = false;
function backstop(): void {
  if (handlersOn) return;
  handlersOn = true;
  process.on('exit', () => {
    for (const b of live) b.down();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

/** One testbed: made from a fixture (sluice on), its clients, its takedown. */
export class Bed {
  readonly prefix: string;
  private st?: TestbedState;
  private failure?: Error;
  private tmp?: string;
  private readonly helpers = new Set<Helper<unknown>>();
  private readonly file: string;
  private readonly opts: BedOptions;

  constructor(tag: string, file: string, opts: BedOptions = {}) {
    this.file = file;
    this.opts = opts;
    this.prefix = `e${process.pid.toString(36)}${tag}`; // unique to this process and file
  }

  up(): void {
    backstop();
    live.add(this);
    try {
      this.st = up({
        files: [this.file], prefix: this.prefix, sluice: this.opts.sluice ?? true, ttl: 900, clientIps: this.opts.clientIps ?? [],
        rpFilter: this.opts.rpFilter ?? 2, wiring: this.opts.wiring ?? 'bridged', applyArgs: this.opts.applyArgs,
      }, quiet);
    } catch (e) {
      this.failure = e as Error;
    }
  }

  /** Stops our clients, takes the testbed down, removes the snapshot variants. Idempotent. */
  down(): void {
    this.opts.beforeDown?.();
    for (const h of this.helpers) h.kill();
    this.helpers.clear();
    const report = down(this.prefix, quiet);
    if (report.warnings.length > 0) console.error(`# testbed ${this.prefix} down: ${report.warnings.join('; ')}`);
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
    live.delete(this);
  }

  get state(): TestbedState {
    if (this.failure) throw this.failure;
    if (!this.st) throw new Error(`testbed ${this.prefix} is not up`);
    return this.st;
  }

  node(name: string) {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Runs a testbed script in target (NAMESPACE/POD, node/NAME, external); its stdout. */
  async run(target: string, name: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
    const netns = targetNetns(this.state, target);
    const r = await tryRunAsync(nsenter(netns, ['node', script(name), ...args]), { timeoutMs });
    if (r.status !== 0 && (r.status === 2 || !r.stdout)) throw new Error(`${name} ${args.join(' ')} in ${target}: ${r.stderr.trim() || r.error?.message || 'failed'}`);
    return r.stdout;
  }

  /** probe.ts: one line per attempt, the answer or "error <reason>". */
  async probe(target: string, proto: 'tcp' | 'udp', ip: string, port: number, opts: { count?: number; timeoutMs?: number; source?: string; peer?: boolean } = {}) {
    const args = [proto, ip, String(port), '--count', String(opts.count ?? 1), '--timeout', String(opts.timeoutMs ?? 1500)];
    if (opts.source) args.push('--source', opts.source);
    if (opts.peer) args.push('--peer');
    return (await this.run(target, 'probe', args)).trimEnd().split('\n');
  }

  /** A service's ClusterIP over TCP and UDP from client, its NodePort from outside: every answer of each. */
  async serviceTraffic(client: string, vip: string, port: number, nodeIp: string, nodePort: number) {
    const [tcp, udp, external] = await Promise.all([
      this.probe(client, 'tcp', vip, port, { count: 60 }), this.probe(client, 'udp', vip, port, { count: 30 }),
      this.probe('external', 'tcp', nodeIp, nodePort, { count: 30 }),
    ]);
    return { tcp, udp, nodePort: external };
  }

  /** A node's counters (`sluice maps --format json`), packets by enum sl_stat name. */
  async stats(nodeName: string): Promise<{ [stat: string]: number }> {
    const n = this.node(nodeName);
    const r = await runAsync(nsenter(n.netns, ['node', MAIN, 'maps', '--pin-root', n.pinRoot, '--format', 'json']), { timeoutMs: 30_000 });
    const stats = JSON.parse(r.stdout).stats as { [stat: string]: { packets: number } };
    return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v.packets]));
  }

  /** timed.ts: each attempt's outcome and duration. */
  async timed(target: string, proto: 'tcp' | 'udp', ip: string, port: number, count: number, timeoutMs = 1000): Promise<Attempt[]> {
    return JSON.parse(await this.run(target, 'timed', [proto, ip, String(port), '--count', String(count), '--timeout', String(timeoutMs)]));
  }

  /** Starts a client script in target, in the background; stopped by the test, or at down. */
  start<Final>(target: string, name: 'hold' | 'rate' | 'reopen', args: readonly string[]): Helper<Final> {
    const netns = targetNetns(this.state, target);
    const child = start(nsenter(netns, ['node', script(name), ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = new Helper<Final>(child, `${name} in ${target}`);
    this.helpers.add(h as Helper<unknown>);
    h.done.then(() => this.helpers.delete(h as Helper<unknown>));
    return h;
  }

  /** A long-lived flow (hold.ts), for at most a minute unless stopped; line 0 is its first answer. */
  hold(target: string, proto: 'tcp' | 'udp', ip: string, port: number, seconds = 60): Helper<HoldReport> {
    return this.start<HoldReport>(target, 'hold', [proto, ip, String(port), '--seconds', String(seconds), '--interval', '100']);
  }

  /** A client that opens a new socket whenever one fails (reopen.ts), for at most a minute unless stopped. */
  reopen(target: string, proto: 'tcp' | 'udp', ip: string, port: number, seconds = 60): Helper<ReopenEvent> {
    return this.start<ReopenEvent>(target, 'reopen', [proto, ip, String(port), '--seconds', String(seconds), '--interval', '100']);
  }

  /** Writes the fixture, edited, as a snapshot file of this testbed; returns its path. */
  variant(name: string, edit: (items: Item[]) => Item[]): string {
    this.tmp ??= mkdtempSync(join(tmpdir(), `sluice-e2e-${this.prefix}-`));
    const doc = yaml.load(readFileSync(this.file, 'utf8')) as { items: Item[] };
    const path = join(this.tmp, `${name}.yaml`);
    writeFileSync(path, yaml.dump({ ...doc, items: edit(structuredClone(doc.items)) }));
    return path;
  }

  /** `testbed apply`: pods made or removed as the snapshot says, then sluice apply on every node. */
  update(file: string): UpdateResult {
    return update(this.prefix, [file], false, quiet);
  }

  /**
   * `sluice apply` of file on every node at once (what agents do; `testbed
   * apply` goes node by node). For snapshots that change no pod. Returns
   * each node's output and when the first started and the last finished.
   */
  async applyAll(file: string, extra: readonly string[] = []): Promise<{ outputs: string[]; startedAt: number; endedAt: number }> {
    const startedAt = Date.now();
    const outputs = await Promise.all(this.state.nodes.map((n) => this.sluiceApply(n.name, file, extra)));
    return { outputs, startedAt, endedAt: Date.now() };
  }

  /** `sluice apply` of file on one node, as a separate process, asynchronously; what it printed. */
  async sluiceApply(nodeName: string, file: string, extra: readonly string[] = []): Promise<string> {
    const n = this.node(nodeName);
    const r = await tryRunAsync(nsenter(n.netns, ['node', MAIN, 'apply', file, '--node', n.name, '--pin-root', n.pinRoot, ...extra]), { timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`sluice apply on ${nodeName}: ${r.stderr.trim() || r.stdout.trim() || r.error?.message || `exit ${r.status}`}`);
    return `${r.stdout}${r.stderr}`;
  }
}

/** A snapshot object, as the fixtures write them. */
export type Item = { kind: string; metadata: { name: string; namespace?: string; labels?: { [k: string]: string } }; [field: string]: unknown };

/** Leaves the endpoint with address ip out of every EndpointSlice. */
export const withoutEndpoint = (ip: string) => (items: Item[]) => items.map((i) => i.kind !== 'EndpointSlice' || !i.endpoints ? i : {
  ...i, endpoints: (i.endpoints as { addresses: string[] }[]).filter((e) => !e.addresses.includes(ip)),
});

/**
 * A uvu suite whose tests share one testbed of fixture file: made before the
 * first test, taken down after the last (whatever happened). Skipped, with a
 * note, where namespaces or the datapath are missing; in CI that fails.
 */
export function e2eSuite(name: string, tag: string, file: string, opts: BedOptions = {}): { test: (title: string, fn: () => Promise<void> | void) => void; bed: Bed; run: () => void } {
  const s: Test = suite(name);
  const bed = new Bed(tag, file, opts);
  if (unavailable && process.env.CI) {
    s('end-to-end tests can run (required in CI)', () => assert.unreachable(`cannot run: ${unavailable}`));
    return { test: () => {}, bed, run: () => s.run() };
  }
  if (unavailable) {
    console.log(`# SKIP ${name}: ${unavailable}`);
    return { test: (title) => s.skip(title), bed, run: () => s.run() };
  }
  s.before(() => bed.up());
  s.after(() => bed.down());
  return { test: (title, fn) => s(title, fn), bed, run: () => s.run() };
}

/**
 * The node setups the traffic suites run on, each in a testbed of its own:
 * a real node's defaults with systemd's rp_filter and with the kernel's,
 * and the fast path off (the stack forwards what it does not refuse).
 */
export const NODE_SETUPS: readonly { label: string; tag: string; opts: BedOptions }[] = [
  { label: 'rp_filter 2', tag: '2', opts: { rpFilter: 2 } },
  { label: 'rp_filter 0', tag: '0', opts: { rpFilter: 0 } },
  { label: 'rp_filter 2, --no-fast-path', tag: 'n', opts: { rpFilter: 2, applyArgs: ['--no-fast-path'] } },
];

/** Sorted map entries, for messages. */
export const show = (m: Map<string, number>) => JSON.stringify([...m].sort());
