// Runs the agent in this process against a fake API server (through the real
// client-node code), with its log lines captured and short source timings;
// closes both whatever happens. Waits are on conditions with a deadline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type Agent, type AgentOptions } from '../../runtime/agent/agent.ts';
import { jsonLogger } from '../../runtime/agent/logger.ts';
import { datapathArgsOf } from '../../runtime/cli/datapathFlags.ts';
import { compileObjects } from '../../runtime/cli/compile.ts';
import type { MapStore } from '../../runtime/maps/store.ts';
import { WATCHED_KINDS } from '../../runtime/sources/watchedKinds.ts';
import { renderMaps } from '../../runtime/view/render.ts';
import { FakeApiServer, RESOURCE_NAMES, RESOURCES } from '../../testkit/fakeApiServer.ts';
import { FAST, kubeConfigFor } from '../sources/kubeHarness.ts';

export type Json = { [k: string]: any };
export type LogLine = { level: string; msg: string; [k: string]: any };

export interface Running {
  agent: Agent;
  lines: LogLine[];
  /** GET a path of the status endpoint. */
  get(path: string): Promise<{ status: number; body: string }>;
}

export interface Cluster {
  server: FakeApiServer;
  dir: string;
  /** Starts an agent; options override the dry-run defaults. Stopped at the end if still running. */
  start(opts?: Partial<AgentOptions>): Promise<Running>;
}

export async function withCluster(body: (c: Cluster) => Promise<void>): Promise<void> {
  const server = await FakeApiServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-agent-'));
  const agents: Agent[] = [];
  try {
    await body({
      server, dir,
      async start(opts = {}) {
        const lines: LogLine[] = [];
        const agent = await startAgent({
          node: 'n1', kubeConfig: kubeConfigFor(server.url), dryRun: true, minSyncMs: 20,
          listen: { host: '127.0.0.1', port: 0 }, datapath: datapathArgsOf({}), source: FAST,
          log: jsonLogger((l) => lines.push(JSON.parse(l))), ...opts,
        });
        agents.push(agent);
        const base = `http://${agent.address.address}:${agent.address.port}`;
        return { agent, lines, get: (path) => get(`${base}${path}`) };
      },
    });
  } finally {
    await Promise.all(agents.map((a) => a.stop('test over')));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Resolves once cond() holds (it may be async); fails after ms with what. */
export async function until(cond: () => boolean | Promise<boolean>, what: string | (() => string), ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What the agent can see of the server: every object its selectors match. */
export function visible(server: FakeApiServer): unknown[] {
  return RESOURCE_NAMES.flatMap((r) => server.current(r, WATCHED_KINDS.find((k) => k.kind === RESOURCES[r].kind)!.labelSelector));
}

/** `sluice compile --format maps` of the server's current state, for node. */
export const compiledMaps = (server: FakeApiServer, node = 'n1') => renderMaps(node, compileObjects(visible(server), node)[0].store);
export const mapsOf = (store: MapStore | undefined, node = 'n1') => (store ? renderMaps(node, store) : '(no maps)');

/** Waits until the agent has synced and its maps are those of a fresh compile of the server's state. */
export function converged(r: Running, server: FakeApiServer, node = 'n1', ms = 5000): Promise<void> {
  return until(() => r.agent.health.syncedAt !== undefined && mapsOf(r.agent.store(), node) === compiledMaps(server, node), () =>
    `the maps to converge\nagent:\n${mapsOf(r.agent.store(), node)}\nexpected:\n${compiledMaps(server, node)}\nlog:\n${r.lines.map((l) => JSON.stringify(l)).join('\n')}`, ms);
}

// ---- objects ----

export const node = (name: string, ip: string): Json => ({ metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });

export const service = (nsName: string, clusterIP: string, extra: Json = {}): Json => {
  const [namespace, name] = nsName.split('/');
  return { metadata: { namespace, name }, spec: { clusterIP, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...extra } };
};

/** One slice of service nsName with ready endpoints at ips, on nodeName. */
export const slice = (nsName: string, ips: string[], nodeName = 'n1', sliceName = `${nsName.split('/')[1]}-1`): Json => {
  const [namespace, svc] = nsName.split('/');
  return {
    metadata: { namespace, name: sliceName, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName })),
  };
};

export const pod = (nsName: string, ip: string, nodeName = 'n1'): Json => {
  const [namespace, name] = nsName.split('/');
  return { metadata: { namespace, name }, spec: { nodeName }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } };
};

/** Log lines with msg. */
export const logged = (lines: LogLine[], msg: string) => lines.filter((l) => l.msg === msg);
