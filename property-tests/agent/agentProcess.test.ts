// `sluice run` as a process, the way the DaemonSet runs it (with --dry-run,
// so no root is needed): SIGTERM and SIGINT stop it with exit 0 and a flushed
// event log that replays and verifies; usage and start-up errors exit 2 and 1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRunArgs } from '../../runtime/cli/run.ts';
import { tryRun } from '../../runtime/exec/command.ts';
import { FakeApiServer } from '../../testkit/fakeApiServer.ts';
import { node, service, slice, until, type LogLine } from './agentHarness.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;

const kubeconfig = (dir: string, server: FakeApiServer) => server.writeKubeconfig(join(dir, 'kubeconfig'));

interface Child { proc: ChildProcess; lines: LogLine[]; stderr: () => string; exit: Promise<{ code: number | null; signal: string | null }> }

function run(args: string[], env: NodeJS.ProcessEnv = process.env, nodeArgs: string[] = []): Child {
  const proc = spawn(process.execPath, [...nodeArgs, MAIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  const lines: LogLine[] = [];
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    const complete = err.split('\n').slice(0, -1);
    lines.splice(0, lines.length, ...complete.map((l) => JSON.parse(l) as LogLine));
  });
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, lines, stderr: () => err, exit };
}

async function withServer(body: (server: FakeApiServer, dir: string) => Promise<void>): Promise<void> {
  const server = await FakeApiServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-'));
  try {
    await body(server, dir);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: stops taking events, flushes and closes the log, closes the listeners, exits 0`, () => withServer(async (server, dir) => {
    server.apply('nodes', node('n1', '192.168.0.1'));
    server.apply('services', service('shop/web', '10.96.0.10'));
    const log = join(dir, 'log');
    const c = run(['--node', 'n1', '--kubeconfig', kubeconfig(dir, server), '--dry-run', '--listen', '127.0.0.1:0', '--min-sync', '50ms', '--record', log]);
    try {
      await until(() => c.lines.some((l) => l.msg === 'synced'), () => `synced\n${c.stderr()}`, 15_000);
      server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
      await until(() => c.lines.some((l) => l.msg === 'batch' && l.batch === 2), () => `batch 2\n${c.stderr()}`);
      const port = c.lines.find((l) => l.msg === 'listening')!.port;
      assert.is((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      c.proc.kill(signal);
      const { code } = await c.exit;
      assert.is(code, 0, c.stderr());
      const last = c.lines.at(-1)!;
      assert.equal([last.level, last.msg, last.reason, last.batches], ['info', 'shutdown', `signal ${signal}`, 2]);
      assert.ok(c.lines.every((l) => typeof l.level === 'string' && typeof l.msg === 'string' && typeof l.ts === 'string'), 'every line is a JSON log record');
      const replay = spawnSync(process.execPath, [MAIN, 'replay', log, '--verify'], { encoding: 'utf8' });
      assert.is(replay.status, 0, replay.stderr);
      assert.match(replay.stderr, /^sluice replay: verified 2 batches \(integrity only[^\n]*\)\n$/, 'the log holds both batches, flushed, and its end record');
      await fetch(`http://127.0.0.1:${port}/healthz`).then(() => assert.unreachable('still listening'), () => {});
    } finally {
      c.proc.kill('SIGKILL');
    }
  }));
}

// An ESM import of node:http loads Node's bundled undici (its namespace reads http.WebSocket): 13 MiB and 20 ms
// at every start, for a client the agent does not use (runtime/sources/nodeHttp.ts).
const UNDICI = 'NativeModule internal/deps/undici/undici';

/** Node flags that write the internal modules the process loaded to file as it exits. */
const moduleListAtExit = (file: string) => ['--import', `data:text/javascript,process.on('exit', () => process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(file)}, JSON.stringify(process.moduleLoadList)))`];

test('the agent loads no bundled undici through a sync and a change (an ESM import of node:http does)', () => withServer(async (server, dir) => {
  const control = join(dir, 'control');
  spawnSync(process.execPath, [...moduleListAtExit(control), '--input-type=module', '-e', "import 'node:http';"]);
  assert.ok((JSON.parse(readFileSync(control, 'utf8')) as string[]).includes(UNDICI), 'what this test looks for is there to see');
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  const loaded = join(dir, 'loaded');
  const c = run(['--node', 'n1', '--kubeconfig', kubeconfig(dir, server), '--dry-run', '--listen', '127.0.0.1:0', '--min-sync', '50ms'], process.env, moduleListAtExit(loaded));
  try {
    await until(() => c.lines.some((l) => l.msg === 'synced'), () => `synced\n${c.stderr()}`, 15_000);
    server.apply('endpointslices', slice('shop/web', ['10.244.1.5']));
    await until(() => c.lines.some((l) => l.msg === 'batch' && l.batch === 2), () => `batch 2\n${c.stderr()}`);
    await fetch(`http://127.0.0.1:${c.lines.find((l) => l.msg === 'listening')!.port}/metrics`);
    c.proc.kill('SIGTERM');
    assert.is((await c.exit).code, 0, c.stderr());
    const modules = JSON.parse(readFileSync(loaded, 'utf8')) as string[];
    assert.ok(modules.some((m) => m.includes('internal/http')), 'the list is the agent\'s: it served HTTP');
    assert.not.ok(modules.includes(UNDICI));
  } finally {
    c.proc.kill('SIGKILL');
  }
}));

// The image fills Node's compile cache at build (deploy/Dockerfile) and the
// agent only reads it: V8 rejects cached code compiled under other V8 flags,
// and the agent sets its own (run.ts, agentV8Flags) before loading its
// modules; node starts with the ENTRYPOINT's flags (run.ts, NODE_FLAGS).
// Run here as the image runs them, with the repository for /opt/sluice.
test('the compile cache the image fills at build is the one the agent reads: no module of it rejected', () => withServer(async (server, dir) => {
  const lines = readFileSync(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8').replace(/\\\n/g, ' ').split('\n');
  const from = lines.findIndex((l) => l.startsWith('ENV NODE_COMPILE_CACHE=')), to = lines.findIndex((l) => l.startsWith('ENTRYPOINT'));
  const fill = lines.slice(from + 1, to).filter((l) => l.startsWith('RUN ')).map((l) => l.slice(4));
  assert.ok(fill.length > 0, 'the Dockerfile fills the cache');
  const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
  const env = { ...process.env, NODE_COMPILE_CACHE: join(dir, 'cache'), PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  for (const cmd of fill) {
    const r = tryRun(['sh', '-c', cmd.replaceAll('/opt/sluice', root)], { env, timeoutMs: 60_000 });
    assert.is(r.status, 0, `${cmd}\n${r.stderr}`);
  }
  server.apply('nodes', node('n1', '192.168.0.1'));
  server.apply('services', service('shop/web', '10.96.0.10'));
  const [, ...entry] = (JSON.parse(lines[to].slice('ENTRYPOINT '.length)) as string[]).map((a) => a.replaceAll('/opt/sluice', root)); // node's flags and main.ts
  const agent = spawn(process.execPath, [...entry, 'run', '--node', 'n1', '--kubeconfig', kubeconfig(dir, server), '--dry-run', '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  let err = '';
  agent.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise((resolve) => agent.on('exit', resolve));
  try {
    await until(() => err.includes('"msg":"synced"'), () => `synced\n${err}`, 15_000);
    agent.kill('SIGTERM');
    await exit;
    const verdicts = [...err.matchAll(/V8 code cache for \S+ (\S+) was (accepted|rejected)/g)].filter((m) => m[1].includes('/runtime/'));
    assert.equal(verdicts.filter((m) => m[2] === 'rejected').map((m) => m[1]), []);
    assert.ok(verdicts.length > 50, `the agent read its modules from the cache: ${verdicts.length}`);
  } finally {
    agent.kill('SIGKILL');
  }
}));

test('a signal during start-up (before the first sync) exits 0 too', () => withServer(async (server, dir) => {
  const release = server.holdLists('nodes');
  const c = run(['--node', 'n1', '--kubeconfig', kubeconfig(dir, server), '--dry-run', '--listen', '127.0.0.1:0']);
  try {
    await until(() => server.lists('nodes').length > 0, () => `the agent listing\n${c.stderr()}`, 15_000);
    c.proc.kill('SIGTERM');
    const { code } = await c.exit;
    assert.is(code, 0, c.stderr());
    assert.equal([c.lines.at(-1)!.msg, c.lines.at(-1)!.batches], ['shutdown', 0]);
  } finally {
    release();
    c.proc.kill('SIGKILL');
  }
}));

test('no kubeconfig outside a cluster: exit 1, one JSON line saying what to do', async () => {
  const { KUBERNETES_SERVICE_HOST: _h, KUBERNETES_SERVICE_PORT: _p, ...outside } = process.env;
  const c = run(['--node', 'n1', '--dry-run', '--listen', '127.0.0.1:0'], outside);
  const { code } = await c.exit;
  assert.is(code, 1);
  assert.equal(c.lines.map((l) => [l.level, l.msg]), [['error', 'fatal']]);
  assert.match(c.lines[0].reason, 'no kubeconfig given and not running in a cluster');
});

test('the DaemonSet\'s arguments parse: its node, the default pin root, kube-proxy\'s port, 1 s min sync, the kernel dataplane', () => {
  const docs = yaml.loadAll(readFileSync(new URL('../../deploy/daemonset.yaml', import.meta.url), 'utf8')) as any[];
  const agent = docs.find((d) => d?.kind === 'DaemonSet').spec.template.spec.containers.find((c: any) => c.name === 'agent');
  const a = parseRunArgs(agent.args.slice(1).map((x: string) => x.replace('$(NODE_NAME)', 'node-7')))!;
  assert.equal([a.node, a.datapath.pinRoot, a.listen, a.metricsListen, a.minSyncMs, a.dryRun, a.kubeconfig, a.record],
    ['node-7', '/sys/fs/bpf/sluice', { host: '0.0.0.0', port: 10256 }, { host: '127.0.0.1', port: 10249 }, 1000, false, undefined, undefined]);
  assert.equal([a.datapath.hostServices, a.datapath.cgroupRoot], [true, '/run/sluice/host-cgroup']);
  assert.is(a.source.contentType, 'application/vnd.kubernetes.protobuf', 'protobuf, as kube-proxy asks');
});

test('--kube-api-content-type: kube-proxy\'s two media types', () => {
  const parse = (...args: string[]) => parseRunArgs(['--node', 'n1', ...args])!;
  assert.is(parse('--kube-api-content-type', 'application/json').source.contentType, 'application/json');
  assert.is(parse('--kube-api-content-type', 'application/vnd.kubernetes.protobuf').source.contentType, 'application/vnd.kubernetes.protobuf');
});

test('the address flags: kube-proxy\'s two by default; the older --listen serves both on one', () => {
  const parse = (...args: string[]) => parseRunArgs(['--node', 'n1', ...args])!;
  assert.equal([parse().listen, parse().metricsListen], [{ host: '0.0.0.0', port: 10256 }, { host: '127.0.0.1', port: 10249 }]);
  assert.equal([parse('--listen', '127.0.0.1:0').listen, parse('--listen', '127.0.0.1:0').metricsListen], [{ host: '127.0.0.1', port: 0 }, undefined]);
  const both = parse('--healthz-bind-address', '10.0.0.1:1', '--metrics-bind-address', '0.0.0.0:2');
  assert.equal([both.listen, both.metricsListen], [{ host: '10.0.0.1', port: 1 }, { host: '0.0.0.0', port: 2 }]);
});

test('usage errors exit 2 with the usage text; --help exits 0', () => {
  for (const [args, message] of [
    [['--dry-run'], '--node is required'],
    [['--node', 'n1', '--min-sync', '1'], 'invalid duration "1": missing unit'],
    [['--node', 'n1', '--min-sync=-1s'], 'invalid duration "-1s": a sign is not allowed'],
    [['--node', 'n1', '--listen', '10256'], '--listen must be HOST:PORT'],
    [['--node', 'n1', '--listen', '127.0.0.1:99999'], '--listen must be HOST:PORT'],
    [['--node', 'n1', '--metrics-bind-address', '10249'], '--metrics-bind-address must be HOST:PORT'],
    [['--node', 'n1', '--listen', ':1', '--healthz-bind-address', ':2'], '--listen serves health and metrics on one address: give it, or --healthz-bind-address and --metrics-bind-address, not both'],
    [['--node', 'n1', '--record-key', '/etc/hostname'], '--record-key signs a recording: it needs --record'],
    [['--node', 'n1', '--record', '/tmp/x', '--record-key', '/nonexistent'], '--record-key: cannot read /nonexistent: ENOENT'],
    [['--node', 'n1', '--pod-ifaces', 'a', '--pod-iface-prefix', 'b'], 'give --pod-ifaces or --pod-iface-prefix, not both'],
    [['--node', 'n1', '--svc-max', 'lots'], '--svc-max must be a positive integer'],
    [['--node', 'n1', 'extra'], 'unexpected argument "extra"'],
    [['--node', 'n1', '--kube-api-content-type', 'yaml'], '--kube-api-content-type: "yaml" is not one of application/vnd.kubernetes.protobuf, application/json'],
  ] as [string[], string][]) {
    const r = spawnSync(process.execPath, [MAIN, 'run', ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, `sluice run: ${message}`);
    assert.match(r.stderr, '\nusage: sluice run --node NAME');
  }
  const help = spawnSync(process.execPath, [MAIN, 'run', '--help'], { encoding: 'utf8' });
  assert.equal([help.status, help.stderr], [0, '']);
  assert.match(help.stdout, '--min-sync DURATION');
  assert.match(help.stdout, '--pod-iface-prefix P');
});

test.run();
