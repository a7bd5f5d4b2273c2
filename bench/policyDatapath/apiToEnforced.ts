// From a change in the API to the kernel enforcing it: `sluice run` (a child
// process, pinned maps, --min-sync 1s) against the fake API server serving a
// cluster of 10,000 pods in 500 namespaces with 1,000 policies, plus a probe
// on the agent's node: a server pod whose ingress policy admits client pods
// of namespaces labelled team=blue. Three changes each flip whether a probe
// packet is allowed: a namespace label (the client's namespace joins the
// team), a policy (a rule for the client's namespace by name), a pod (a new
// client pod: until the maps know its address it is dropped). Each change
// is made and undone, and timed from the API server's write until a
// PROG_TEST_RUN of sl_from_pod (loaded over the agent's pins, every run a
// first packet) gives the new verdict. Quiet: the change comes well after
// the last batch; busy: 150 ms after one, inside --min-sync, where only a
// pod's new address does not wait.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePinRoot } from '../../runtime/bpf/bpffs.ts';
import { BpfObject } from '../../runtime/bpf/libbpf.ts';
import { inNetns } from '../../runtime/bpf/netns.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { start } from '../../runtime/exec/command.ts';
import { addNetns, deleteNetns } from '../../runtime/exec/namespaces.ts';
import { FakeApiServer, type Resource } from '../../testkit/fakeApiServer.ts';
import { buildFrame } from '../../testkit/packet.ts';
import { BACKEND_IPS, CLIENT_IP } from '../datapath/lane.ts';

type Obj = { [k: string]: unknown };
const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
export const MIN_SYNC_MS = 1000;
const round = (x: number) => Math.round(x * 100) / 100;
const NODE = 'bench-node', NODES = 100, NAMESPACES = 500, PODS_PER_NS = 20;
const NEW_POD_IP = '10.244.1.100';

const meta = (name: string, namespace?: string, labels?: Obj) => ({ name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) });
const ns = (name: string, labels: Obj = {}): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(name, undefined, { 'kubernetes.io/metadata.name': name, ...labels }) });
const node = (name: string, ip: string): Obj => ({ apiVersion: 'v1', kind: 'Node', metadata: meta(name), status: { addresses: [{ type: 'InternalIP', address: ip }] } });
const pod = (namespace: string, name: string, ip: string, nodeName: string, labels: Obj): Obj => ({
  apiVersion: 'v1', kind: 'Pod', metadata: meta(name, namespace, labels),
  spec: { nodeName, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }] }] }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});
const netpol = (namespace: string, name: string, spec: Obj): Obj => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(name, namespace), spec });

/** The background cluster: pods on other nodes, two policies per namespace (ingress by labels, egress to the next namespace). */
function background(): [Resource, Obj][] {
  const out: [Resource, Obj][] = [];
  for (let k = 0; k < NODES; k++) out.push(['nodes', node(`node-${k}`, `192.168.${k >> 8}.${k & 255}`)]);
  for (let i = 0; i < NAMESPACES; i++) {
    const n = `ns-${i}`;
    out.push(['namespaces', ns(n, { team: `t${i % 50}` })]);
    for (let j = 0; j < PODS_PER_NS; j++) {
      const p = i * PODS_PER_NS + j;
      out.push(['pods', pod(n, `pod-${j}`, `10.${10 + (p >> 16)}.${(p >> 8) & 255}.${p & 255}`, `node-${p % NODES}`, { app: `app-${j % 10}`, tier: ['web', 'db'][j % 2] })]);
    }
    out.push(['networkpolicies', netpol(n, 'web', { podSelector: { matchLabels: { app: `app-${i % 10}` } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'http' }] }] })]);
    out.push(['networkpolicies', netpol(n, 'egress', { podSelector: { matchLabels: { tier: 'db' } }, policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `ns-${(i + 1) % NAMESPACES}` } } }] }] })]);
  }
  return out;
}

const serverIn = (byName: boolean): Obj => netpol('srv', 'server-in', {
  podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'],
  ingress: [{ from: [
    { namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { app: 'client' } } },
    ...(byName ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'clients' } }, podSelector: { matchLabels: { app: 'client' } } }] : []),
  ], ports: [{ port: 80 }] }],
});

/** The probe: the agent's node, the server, a client in a namespace not of the team, a namespace that is. */
function probe(): [Resource, Obj][] {
  return [
    ['nodes', node(NODE, '192.0.2.1')], ['namespaces', ns('srv')], ['namespaces', ns('clients')], ['namespaces', ns('pods', { team: 'blue' })],
    ['pods', pod('srv', 'server', BACKEND_IPS[0], NODE, { app: 'server' })], ['pods', pod('clients', 'client', CLIENT_IP, NODE, { app: 'client' })],
    ['networkpolicies', serverIn(false)],
  ];
}

interface Change { kind: 'namespace label' | 'policy' | 'pod'; source: string; forth: (s: FakeApiServer) => void; back: (s: FakeApiServer) => void }

const CHANGES: Change[] = [
  { kind: 'namespace label', source: CLIENT_IP, forth: (s) => s.apply('namespaces', ns('clients', { team: 'blue' })), back: (s) => s.apply('namespaces', ns('clients')) },
  { kind: 'policy', source: CLIENT_IP, forth: (s) => s.apply('networkpolicies', serverIn(true)), back: (s) => s.apply('networkpolicies', serverIn(false)) },
  { kind: 'pod', source: NEW_POD_IP, forth: (s) => s.apply('pods', pod('pods', 'new-client', NEW_POD_IP, NODE, { app: 'client' })), back: (s) => s.delete('pods', 'pods/new-client') },
];

/** ms: the API server's write to the verdict's flip; batchMs: to the agent's batch log line (the maps written); its compile and apply. */
export interface EnforcedSample { kind: Change['kind']; direction: 'allow' | 'deny'; spacing: 'quiet' | 'busy'; ms: number; batchMs?: number; compileMs?: number; applyMs?: number }

type Line = { msg: string; ts: string; compileMs?: number; applyMs?: number; ops?: { [map: string]: unknown } };

export interface ApiOptions { reps: number; sluiceObject: string; scratch: string; pinRoot: string; netns: string }

/** The agent, and its log lines (JSON) as they come. */
function startAgent(o: ApiOptions, kubeconfig: string): { child: ChildProcess; synced: Promise<void>; lines: Line[] } {
  const child = start(['node', MAIN, 'run', '--node', NODE, '--kubeconfig', kubeconfig, '--pin-root', o.pinRoot, '--netns', o.netns,
    '--min-sync', `${MIN_SYNC_MS}ms`, '--listen', '127.0.0.1:0', '--no-host-services'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let buf = '';
  const lines: Line[] = [];
  const synced = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, i)) as Line & { level: string };
        buf = buf.slice(i + 1);
        lines.push(line);
        if (line.msg === 'synced') resolve();
        if (line.level === 'error') reject(new Error(`the agent: ${JSON.stringify(line)}`));
      }
    });
    child.on('exit', (code) => reject(new Error(`the agent exited ${code}: ${JSON.stringify(lines.slice(-3))}`)));
  });
  return { child, synced, lines };
}

export async function measureApiToEnforced(o: ApiOptions, emit: (s: EnforcedSample) => void, log: (line: string) => void): Promise<void> {
  const server = await FakeApiServer.start();
  addNetns(o.netns);
  ensurePinRoot(o.pinRoot);
  let agent: ChildProcess | undefined, obj: BpfObject | undefined;
  try {
    for (const [r, x] of [...background(), ...probe()]) server.apply(r, x);
    const started = startAgent(o, server.writeKubeconfig(join(o.scratch, 'kubeconfig')));
    agent = started.child;
    const t0 = performance.now();
    await started.synced;
    log(`api: the agent synced ${NAMESPACES * PODS_PER_NS} pods, ${NAMESPACES * 2} policies in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    obj = new BpfObject(o.sluiceObject, o.pinRoot); // over the agent's pins: its maps, as the kernel reads them
    obj.load();
    const fd = obj.programFd('sl_from_pod');
    let sport = 20000;
    const allowed = (source: string) => inNetns(o.netns, () => {
      sport = sport >= 60000 ? 20000 : sport + 1; // a new flow each time: never a tracked one
      const frame = buildFrame({ ip: { src: source, dst: BACKEND_IPS[0], l4: { proto: 'tcp', sport, dport: 80 } } });
      return S.progTestRun(fd, frame).retval !== 2;
    });
    const flip = async (source: string, want: boolean): Promise<number> => {
      const t = performance.now();
      while (allowed(source) !== want) {
        if (performance.now() - t > 10_000) throw new Error(`no flip to ${want ? 'allow' : 'deny'} from ${source} in 10 s`);
        await new Promise((r) => setImmediate(r)); // the API server answers from this process
      }
      return performance.now() - t;
    };
    for (const c of CHANGES) if (allowed(c.source)) throw new Error(`${c.kind}: ${c.source} is allowed before the change`);
    for (let rep = 1; rep <= o.reps; rep++) {
      for (const spacing of ['quiet', 'busy'] as const) {
        for (const c of CHANGES) {
          for (const [direction, make] of [['allow', c.forth], ['deny', c.back]] as const) {
            await sleep(spacing === 'quiet' ? MIN_SYNC_MS + 300 : 150);
            const seen = started.lines.length, at = Date.now();
            make(server);
            const ms = await flip(c.source, direction === 'allow');
            await sleep(50); // its batch line, written once the maps were
            const batch = started.lines.slice(seen).find((l) => l.msg === 'batch' && l.ops?.sl_polstate);
            emit({ kind: c.kind, direction, spacing, ms: round(ms),
              ...(batch ? { batchMs: Date.parse(batch.ts) - at, compileMs: batch.compileMs, applyMs: batch.applyMs } : {}) });
          }
        }
      }
      log(`api: rep ${rep} of ${o.reps}`);
    }
  } finally {
    obj?.close();
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
    }
    await server.close();
    deleteNetns(o.netns);
  }
}
