// What every agent watching every Pod costs the API server, as nodes grow
// (issue 12, item 3): the fake API server (its own process: apiServerProcess.ts)
// holds a cluster of realistic objects; N agents (`sluice run --dry-run`, one
// process each, started as the image starts them) sync from it; then pods
// change at a steady rate, each change one MODIFIED event to every agent's
// watch. Measured per N, with the agents asking for protobuf (their default)
// and for JSON: the server's CPU per change (from /proc), what it
// writes per change to each agent, and each agent's CPU per change. The
// fake server serializes an event once for all its watches, as the real
// one's watch cache does; what it cannot show is the real one's per-watch
// costs (TLS, HTTP/2 framing), which doc/scale.md adds from published figures.
// NODES_USAGE has the flags.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { JSON_TYPE, PROTOBUF } from '../runtime/sources/protoSchema.ts';
import type { ClusterSize } from '../testkit/scaleCluster.ts';
import { AgentProcess, cpuOf, rssOf, ServerProcess, sleep } from './processes.ts';
import { mean, table } from './stats.ts';

export const NODES_USAGE = `usage: npm run bench -- nodes [flags]

N agents (sluice run --dry-run, a process each) against the fake API server:
per Pod change, the server's CPU, the bytes it writes to each agent, each
agent's CPU.

  --agents A,B,...        the agent counts to measure (default 0,1,2,4,8,16,32)
  --changes N             Pod changes per count (default 200)
  --every MS              one change every MS ms (default 20)
  --content-types A,B     what the agents ask for: protobuf, json (default both)
  --namespaces N --pods N --services N --policies N --nodes N
                          the cluster: Namespaces, Pods, Services and policies
                          per Namespace, Nodes (default 50, 20, 10, 2, 100)
`;

const MEDIA_TYPES = { protobuf: PROTOBUF, json: JSON_TYPE } as const;
type ContentType = keyof typeof MEDIA_TYPES;

interface Row { type: ContentType; agents: number; serverUs: number; perAgentUs: number; bytes: number; agentUs: number; rssMiB: number; delivered: string; syncS: number }

async function measure(server: ServerProcess, kubeconfig: string, type: ContentType, n: number, nodes: number, changes: number, everyMs: number, log: (s: string) => void): Promise<Row> {
  const args = ['--dry-run', '--kube-api-content-type', MEDIA_TYPES[type]];
  const agents: AgentProcess[] = [];
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i += 4) { // four at a time: 2 vCPUs
      const wave = Array.from({ length: Math.min(4, n - i) }, (_, j) => new AgentProcess(`node-${(i + j) % nodes}`, kubeconfig, args));
      agents.push(...wave);
      await Promise.all(wave.map((a) => a.until('synced', 600_000)));
    }
    const syncS = (performance.now() - t0) / 1000;
    await sleep(3000); // the syncs' heap release and first scrapes settle
    const before = await Promise.all(agents.map((a) => a.events('Pod', 'upsert')));
    const s0 = await server.ask<{ watchBytes: number }>({ op: 'stats' });
    const c0 = cpuOf(server.child.pid!), a0 = agents.map((a) => cpuOf(a.pid));
    log(`${n} agents (${type}): synced in ${syncS.toFixed(1)} s; ${changes} pod changes, one every ${everyMs} ms`);
    await server.ask({ op: 'churn', count: changes, everyMs });
    const deadline = performance.now() + 30_000;
    let got = before;
    while (performance.now() < deadline) {
      got = await Promise.all(agents.map((a) => a.events('Pod', 'upsert')));
      if (got.every((g, i) => g - before[i] >= changes)) break;
      await sleep(100);
    }
    await sleep(1500); // the last batch (--min-sync 1s) is compiled
    const c1 = cpuOf(server.child.pid!), a1 = agents.map((a) => cpuOf(a.pid));
    const s1 = await server.ask<{ watchBytes: number }>({ op: 'stats' });
    const serverS = c1 - c0;
    return {
      type, agents: n, serverUs: (serverS / changes) * 1e6, perAgentUs: n ? (serverS / changes / n) * 1e6 : NaN,
      bytes: n ? (s1.watchBytes - s0.watchBytes) / changes / n : 0,
      agentUs: n ? mean(a1.map((c, i) => c - a0[i])) / changes * 1e6 : NaN,
      rssMiB: n ? mean(agents.map((a) => rssOf(a.pid))) / 2 ** 20 : 0,
      delivered: n ? `${got.filter((g, i) => g - before[i] >= changes).length}/${n}` : '-', syncS,
    };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
  }
}

export async function benchNodes(argv: readonly string[] = []): Promise<void> {
  const { values: v } = parseArgs({
    args: [...argv], options: {
      agents: { type: 'string', default: '0,1,2,4,8,16,32' }, changes: { type: 'string', default: '200' }, every: { type: 'string', default: '20' },
      'content-types': { type: 'string', default: 'protobuf,json' }, namespaces: { type: 'string', default: '50' }, pods: { type: 'string', default: '20' }, services: { type: 'string', default: '10' },
      policies: { type: 'string', default: '2' }, nodes: { type: 'string', default: '100' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(NODES_USAGE);
  const size: ClusterSize = {
    namespaces: Number(v.namespaces), podsPerNamespace: Number(v.pods), servicesPerNamespace: Number(v.services), endpoints: 5,
    policiesPerNamespace: Number(v.policies), nodes: Number(v.nodes),
  };
  const log = (s: string) => console.error(`# ${s}`);
  const server = new ServerProcess();
  const rows: Row[] = [];
  const load0 = loadavg()[0];
  try {
    const loaded = await server.ask<{ kubeconfig: string; objects: number }>({ op: 'load', size });
    log(`fake API server (pid ${server.child.pid}): ${loaded.objects} objects`);
    for (const type of v['content-types']!.split(',') as ContentType[]) {
      if (!(type in MEDIA_TYPES)) throw new Error(`--content-types: "${type}" is not one of ${Object.keys(MEDIA_TYPES).join(', ')}`);
      for (const n of v.agents!.split(',').map(Number)) rows.push(await measure(server, loaded.kubeconfig, type, n, size.nodes, Number(v.changes), Number(v.every), log));
    }
  } finally {
    server.close();
  }
  console.log(`\n${size.namespaces * size.podsPerNamespace} Pods in ${size.namespaces} Namespaces, ${size.namespaces * size.servicesPerNamespace} Services x ${size.endpoints}, ` +
    `${size.namespaces * size.policiesPerNamespace} NetworkPolicies; ${v.changes} pod changes (a label) one every ${v.every} ms`);
  console.log(table([
    ['agents ask for', 'agents', 'server CPU per change', 'per change per agent', 'bytes per change per agent', 'agent CPU per change', 'agent RSS', 'all changes seen', 'sync of all'],
    ...rows.map((r) => [r.type, r.agents, `${r.serverUs.toFixed(0)} µs`, Number.isNaN(r.perAgentUs) ? '-' : `${r.perAgentUs.toFixed(1)} µs`, r.bytes.toFixed(0),
      Number.isNaN(r.agentUs) ? '-' : `${r.agentUs.toFixed(0)} µs`, r.agents ? `${r.rssMiB.toFixed(0)} MiB` : '-', r.delivered, `${r.syncS.toFixed(1)} s`]),
  ]));
  console.log(`(CPU from /proc per process; the server serializes each event once; load average ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, ${availableParallelism()} CPUs)`);
}
