// The service-size benchmark (issue 14 item 7): compile time against one
// Service's size, which must grow linearly, so that the time per port and per
// endpoint stays flat from 10 to 65,535.
//  - ports: a fresh compiler compiles a ClusterIP Service of P ports and its
//    slice (the same P ports, 2 endpoints);
//  - endpoints: a compiler holding a Service of E endpoints (slices of 1000,
//    the most the API server puts in one) compiles a change of one endpoint;
//    above 128 endpoints the selection table is Maglev-filled at 800 to 1,600
//    slots per endpoint (the ladder doubles), so the time per table slot is
//    shown too.
// --baseline DIR runs another checkout of sluice (built: `npm run build`
// there), its record encoder and its compiler, on the same inputs,
// interleaved, in the same run; a build that takes over --budget seconds for
// one size skips the larger ones. Last, the agent (`sluice run --dry-run`, a child process, against the
// fake API server) gets a Service of --healthz-ports ports while /healthz is
// asked every 10 ms: how long it takes to answer during that compile (at most
// --healthz-wait seconds of it).
// SIZE_USAGE has the flags.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as R from '../compiler/abi/records.ts';
import { ipv4Of as ip } from '../runtime/encode/ipv4.ts';
import { encodeRecords, type Record } from '../runtime/encode/schema.ts';
import { start } from '../runtime/exec/command.ts';
import type { MapDiff } from '../runtime/maps/mapDiff.ts';
import { Compiler } from '../runtime/wasm/host.ts';
import { FakeApiServer } from '../testkit/fakeApiServer.ts';
import { nodeObject, syntheticNode } from '../testkit/syntheticCluster.ts';
import { median, ms, table } from './stats.ts';

const MAIN = new URL('../runtime/cli/main.ts', import.meta.url).pathname;
const SLICE_MAX = 1000;

const portName = (ports: number, i: number) => (ports === 1 ? '' : `p${i}`);

function service(ports: number): Record {
  return {
    kind: R.KIND_SERVICE, namespace: 'bench', name: 'big', op: 'upsert',
    body: {
      type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0,
      clusterIPs: [ip(0x0a600001)], externalIPs: [], loadBalancerIPs: [], sourceRanges: [],
      ports: Array.from({ length: ports }, (_, i) => ({ name: portName(ports, i), proto: R.PROTO_TCP, port: i + 1, nodePort: 0, targetPort: i + 1, targetPortName: '' })),
    },
  };
}

/** Slice s of a Service with these ports and endpoints in all; generation g moves its first endpoint. */
function slice(ports: number, endpoints: number, s: number, g = 0): Record {
  const n = Math.min(SLICE_MAX, endpoints - s * SLICE_MAX);
  return {
    kind: R.KIND_ENDPOINT_SLICE, namespace: 'bench', name: `big-${s}`, op: 'upsert',
    body: {
      serviceName: 'big', addressType: R.ADDR_IPV4,
      ports: Array.from({ length: ports }, (_, i) => ({ name: portName(ports, i), proto: R.PROTO_TCP, port: i + 1 })),
      endpoints: Array.from({ length: n }, (_, e) => ({
        address: ip(0x0af40000 + s * SLICE_MAX + e + (e === 0 ? g * 0x100000 : 0)), conditions: R.COND_READY | R.COND_SERVING,
        nodeName: `node-${e % 3}`, zone: '', forZones: [],
      })),
    },
  };
}

const slices = (ports: number, endpoints: number) => Array.from({ length: Math.ceil(endpoints / SLICE_MAX) }, (_, s) => slice(ports, endpoints, s));

/** A build to measure: its record encoder and its compiler. */
interface Build {
  name: string;
  encode(records: Record[]): Uint8Array;
  compiler(): { batch(records: Uint8Array): MapDiff };
  skipAbove: number;
}

/** Another checkout's encoder and compiler, which may read another record ABI. */
async function checkout(dir: string): Promise<Build> {
  const schema = await import(pathToFileURL(join(dir, 'runtime/encode/schema.ts')).href);
  const host = await import(pathToFileURL(join(dir, 'runtime/wasm/host.ts')).href);
  return { name: 'baseline', encode: schema.encodeRecords, compiler: () => new host.Compiler({ node: 'node-0' }), skipAbove: Infinity };
}

/** ms to compile a Service of p ports afresh. */
function portsOnce(b: Build, batch: Uint8Array): number {
  const c = b.compiler();
  const t = process.hrtime.bigint();
  c.batch(batch);
  return ms(t);
}

/** ms for each of `changes` one-endpoint changes of a Service of e endpoints. */
function endpointChanges(b: Build, e: number, changes: number): number[] {
  const c = b.compiler();
  c.batch(b.encode([service(1), ...slices(1, e)]));
  const change = [1, 0].map((g) => b.encode([slice(1, e, 0, g)]));
  const out: number[] = [];
  for (let i = 0; i < changes; i++) {
    const t = process.hrtime.bigint();
    c.batch(change[i & 1]);
    out.push(ms(t));
  }
  return out;
}

/** Table slots of a backend set of n: the compiler's ladder (compiler/maglev.ts). */
function slots(n: number): number {
  const k = n === 1 ? 0 : Math.ceil(Math.log2(n));
  let p = (n <= 128 ? 100 : 800) * 2 ** k;
  const prime = (x: number) => { for (let d = 2; d * d <= x; d++) if (x % d === 0) return false; return true; };
  while (!prime(p)) p++;
  return p;
}

function measure(builds: Build[], sizes: number[], budgetMs: number): void {
  for (const b of builds) for (let i = 0; i < 3; i++) portsOnce(b, b.encode([service(1000), slice(1000, 2, 0)])); // tier-up first
  const rows: (string | number)[][] = [['size', ...builds.flatMap((b) => [`${b.name}: ports ms`, 'us/port', 'endpoint change ms', 'us/endpoint', 'ns/slot'])]];
  for (const n of sizes) {
    const reps = n <= 1000 ? 7 : n <= 10000 ? 3 : 1;
    const portMs = builds.map(() => [] as number[]), epMs = builds.map(() => [] as number[]);
    const batches = builds.map((b) => b.encode([service(n), slice(n, 2, 0)]));
    for (let r = 0; r < reps; r++) {
      builds.forEach((b, i) => { if (n <= b.skipAbove) portMs[i].push(portsOnce(b, batches[i])); });
      builds.forEach((b, i) => { if (n <= b.skipAbove) epMs[i].push(...endpointChanges(b, n, n <= 1000 ? 20 : 4)); });
    }
    const row: (string | number)[] = [n];
    builds.forEach((b, i) => {
      if (portMs[i].length === 0) return row.push('skipped', '', '', '', '');
      const p = median(portMs[i]), e = median(epMs[i]);
      row.push(p.toFixed(1), (p / n * 1000).toFixed(1), e.toFixed(2), (e / n * 1000).toFixed(2), (e / slots(n) * 1e6).toFixed(1));
      if (Math.max(...portMs[i], ...epMs[i]) > budgetMs) b.skipAbove = n;
    });
    rows.push(row);
  }
  console.log(table(rows));
}

/** /healthz latencies (ms) while the agent compiles a Service of this many ports (a request still unanswered
 * at the end counts with its wait so far), and the agent's batch line, if it came within waitMs. */
async function healthzDuringCompile(ports: number, waitMs: number): Promise<{ latencies: number[]; batch?: { compileMs: number; applyMs: number } }> {
  const server = await FakeApiServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-size-'));
  const child = start(['node', MAIN, 'run', '--node', 'node-0', '--kubeconfig', server.writeKubeconfig(join(dir, 'kubeconfig')),
    '--min-sync', '100ms', '--listen', '127.0.0.1:0', '--dry-run'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    server.apply('nodes', nodeObject(syntheticNode(0)));
    const lines: { msg: string; [k: string]: any }[] = [];
    let buf = '';
    child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(JSON.parse(buf.slice(0, i)));
    });
    const until = async (what: string, cond: () => boolean, ms = 120_000) => {
      for (const deadline = performance.now() + ms; !cond();) {
        if (performance.now() > deadline || child.exitCode !== null) throw new Error(`the agent: no ${what} (exit ${child.exitCode})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until('sync', () => lines.some((l) => l.msg === 'synced'));
    const port = lines.find((l) => l.msg === 'listening')!.port;
    const latencies: number[] = [];
    let polling = true, asked: number | undefined;
    const poll = (async () => {
      while (polling) {
        asked = performance.now();
        const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.text()).then(() => true, () => false);
        if (!answered) break; // the agent is gone, or it did not answer in undici's 300 s: counted below
        latencies.push(performance.now() - asked);
        asked = undefined;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const spec = { clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'], ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: i + 1, protocol: 'TCP', targetPort: i + 1 })) };
    server.apply('services', { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'bench', name: 'big' }, spec });
    server.apply('endpointslices', {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { namespace: 'bench', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
      ports: spec.ports.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP' })),
      endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }, { addresses: ['10.244.0.6'], conditions: { ready: true } }],
    });
    const isBig = (l: { msg: string; [k: string]: any }) => l.msg === 'batch' && l.ops?.sl_svc?.upserts >= ports;
    const came = await until('batch of the big Service', () => lines.some(isBig), waitMs).then(() => true, () => false);
    await new Promise((r) => setTimeout(r, 300));
    polling = false;
    if (asked !== undefined) latencies.push(performance.now() - asked); // still unanswered: its wait so far
    else await poll;
    return { latencies, batch: came ? lines.find(isBig) as any : undefined };
  } finally {
    child.kill();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const SIZE_USAGE = `usage: npm run bench -- size [flags]

Compile time against one Service's size (ports; endpoints), which must grow
linearly; then /healthz latency while the agent compiles the largest.

  --sizes A,B,...       Service sizes (default 10,100,1000,10000,65535)
  --baseline DIR        another built checkout of sluice, measured beside this one
  --budget S            a build over S seconds for one size skips the larger (default 20)
  --healthz-ports N     ports of the Service the agent compiles meanwhile (default 65535; 0: skip)
  --healthz-wait S      longest wait for that compile (default 60)
`;

export async function benchServiceSize(args: string[]): Promise<void> {
  const { values: v } = parseArgs({ args, options: {
    sizes: { type: 'string', default: '10,100,1000,10000,65535' }, baseline: { type: 'string' },
    budget: { type: 'string', default: '20' }, 'healthz-ports': { type: 'string', default: '65535' }, 'healthz-wait': { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  } });
  if (v.help) return void console.log(SIZE_USAGE);
  const load = loadavg()[0];
  const builds: Build[] = [{ name: 'this', encode: encodeRecords, compiler: () => new Compiler({ node: 'node-0' }), skipAbove: Infinity }];
  if (v.baseline) builds.push(await checkout(v.baseline));
  measure(builds, v.sizes.split(',').map(Number), Number(v.budget) * 1000);
  const ports = Number(v['healthz-ports']);
  if (ports > 0) {
    const h = await healthzDuringCompile(ports, Number(v['healthz-wait']) * 1000);
    const sorted = [...h.latencies].sort((a, b) => a - b);
    const batch = h.batch ? `compile ${h.batch.compileMs} ms, apply ${h.batch.applyMs} ms (dry-run)` : `no batch within ${v['healthz-wait']} s`;
    console.log(`agent, a Service of ${ports} ports: ${batch}; ` +
      `/healthz asked ${sorted.length} times: p50 ${median(sorted).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
  }
  console.log(`(medians; 1-minute load average ${load.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after, on ${availableParallelism()} CPUs: other work skews the figures)`);
}
