// End to end with the node agent: `sluice run`, one process per node as the
// DaemonSet runs it (--netns stands in for the host network namespace),
// programs a testbed made without sluice from what a fake API server serves
// (through client-node). Traffic follows the API: an endpoint removed there
// gets no new connection once the agents have their batch. An agent stopped
// leaves the node forwarding; started again, it adopts the live maps and
// writes nothing. Each agent's recorded log replays and verifies.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import * as assert from 'uvu/assert';
import { FakeApiServer, RESOURCE_NAMES, RESOURCES } from '../../testkit/fakeApiServer.ts';
import { answersFrom, e2eSuite, fixture, show, type Item } from './harness.ts';

const BASE = fixture('e2e-churn.yaml');
const agents = new Map<string, Agent>();
let server: FakeApiServer | undefined;
let dir: string | undefined;
/** The agents are stopped before the testbed goes (down then removes their pins, links included). */
function stopAll(): void {
  for (const a of agents.values()) a.kill();
  void server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
const { test, bed, run } = e2eSuite('e2e agent', 'a', BASE, { sluice: false, beforeDown: stopAll });

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const APP = ['demo/app-1', 'demo/app-2', 'demo/app-3'];
const VIP = '10.82.0.10', NODE1 = '172.30.9.11', CLIENT = 'demo/client-1', LEAVING = { pod: 'demo/app-3', ip: '10.72.2.13' };

type Line = { level: string; msg: string; [k: string]: any };

/** One `sluice run` process and its JSON log lines. */
class Agent {
  readonly lines: Line[] = [];
  readonly exit: Promise<number | null>;
  private readonly proc: ChildProcess;
  private err = '';

  constructor(args: readonly string[]) {
    this.proc = spawn(process.execPath, [MAIN, 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (b: Buffer) => {
      this.err += b.toString();
      const complete = this.err.split('\n').slice(0, -1);
      this.lines.splice(0, this.lines.length, ...complete.map((l) => JSON.parse(l) as Line));
    });
    this.exit = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  batches = () => this.lines.filter((l) => l.msg === 'batch');

  async until(what: string, ok: (lines: Line[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!ok(this.lines)) {
      const fatal = this.lines.find((l) => l.level === 'error');
      if (fatal || performance.now() > deadline) assert.unreachable(`${what}: ${JSON.stringify(fatal)}\n${this.err.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<number | null> {
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }

  kill = () => this.proc.exitCode === null && this.proc.signalCode === null && this.proc.kill('SIGKILL');
}

const items = (yaml.load(readFileSync(BASE, 'utf8')) as { items: Item[] }).items;
const resourceOf = (kind: string) => RESOURCE_NAMES.find((r) => RESOURCES[r].kind === kind)!;
const slice = () => items.find((i) => i.kind === 'EndpointSlice')!;


function startAgent(node: string): Agent {
  const n = bed.node(node);
  const a = new Agent(['--node', node, '--kubeconfig', join(dir!, 'kubeconfig'), '--pin-root', n.pinRoot, '--netns', n.netns,
    '--min-sync', '100ms', '--listen', '127.0.0.1:0', '--record', join(dir!, `log-${node}`)]);
  agents.set(node, a);
  return a;
}

/** Connections after a change: ClusterIP over TCP and UDP from the client pod, the NodePort from outside. */
const traffic = () => bed.serviceTraffic(CLIENT, VIP, 80, NODE1, 30080);

test('the agents sync from the API and program both nodes: every backend answers', async () => {
  server = await FakeApiServer.start();
  dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-agent-'));
  server.writeKubeconfig(join(dir, 'kubeconfig'));
  for (const i of items) server.apply(resourceOf(i.kind), i);
  for (const node of ['node-1', 'node-2']) startAgent(node);
  const attached = (a: Agent) => a.lines.filter((l) => l.msg === 'interface attached').map((l) => l.interface as string);
  for (const a of agents.values()) {
    await a.until('synced, the node interface and the pod veths attached, host services', (ls) => ls.some((l) => l.msg === 'synced') &&
      ls.some((l) => l.msg === 'host services') && attached(a).filter((i) => i.includes('sl_from_netdev')).length === 1 &&
      attached(a).filter((i) => i.includes('sl_from_pod')).length === 2);
  }
  const t = await traffic();
  assert.is(answersFrom(t.tcp, APP).size, 3, `ClusterIP TCP: ${show(answersFrom(t.tcp, APP))}`);
  answersFrom(t.udp, APP);
  answersFrom(t.nodePort, APP);
});

test('an endpoint removed in the API gets no new connection once the batch is in; back, it answers again', async () => {
  const without = { ...slice(), endpoints: (slice().endpoints as { addresses: string[] }[]).filter((e) => !e.addresses.includes(LEAVING.ip)) };
  const seen = [...agents.values()].map((a) => a.batches().length);
  const t0 = performance.now();
  server!.apply('endpointslices', without);
  await Promise.all([...agents.values()].map((a, i) => a.until('the removal', () => a.batches().length > seen[i])));
  console.log(`# agent: an endpoint removed in the API is in both nodes' maps ${(performance.now() - t0).toFixed(0)} ms later (--min-sync 100ms)`);
  for (const [i, a] of [...agents.values()].entries()) {
    const removal = a.batches().slice(seen[i]).find((b) => b.ops.sl_be?.deletes > 0);
    assert.ok(removal, 'a batch deleted the backend');
    const sweep = (ls: Line[]) => ls.find((l) => l.msg === 'stale sockets' && l.batch === removal.batch);
    await a.until('the stale socket sweep of that batch', (ls) => sweep(ls) !== undefined);
    assert.equal([sweep(a.lines)!.destroyed, sweep(a.lines)!.sockets], [0, 'none'], 'no host socket was on the backend');
  }
  const staying = APP.filter((p) => p !== LEAVING.pod);
  const t = await traffic();
  assert.is(answersFrom(t.tcp, staying).size, 2);
  answersFrom(t.udp, staying);
  answersFrom(t.nodePort, staying);

  server!.apply('endpointslices', slice());
  const back = [...agents.values()].map((a) => a.batches().length);
  await Promise.all([...agents.values()].map((a, i) => a.until('the return', () => a.batches().length > back[i])));
  assert.is(answersFrom((await traffic()).tcp, APP).size, 3);
});

test('an agent stopped leaves its node forwarding; started again it adopts the maps, writing nothing', async () => {
  assert.is(await agents.get('node-1')!.stop(), 0);
  answersFrom((await traffic()).tcp, APP);
  const again = startAgent('node-1');
  await again.until('synced', (ls) => ls.some((l) => l.msg === 'synced'));
  const first = again.batches()[0];
  assert.equal([first.mode, first.applied], ['reconcile', 0], JSON.stringify(first));
  assert.is(answersFrom((await traffic()).tcp, APP).size, 3);
});

test('each agent\'s recorded log replays and verifies', async () => {
  for (const [node, a] of agents) assert.is(await a.stop(), 0, node);
  for (const node of agents.keys()) {
    const r = spawnSync(process.execPath, [MAIN, 'replay', join(dir!, `log-${node}`), '--verify'], { encoding: 'utf8' });
    assert.is(r.status, 0, `${node}: ${r.stderr}`);
    assert.match(r.stderr, /verified \d+ batches/);
  }
});

run();
