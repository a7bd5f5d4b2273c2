// Runs kubeEvents (the real source code, over HTTP) against a fresh fake API server
// and closes both whatever happens. Waiting is on conditions with a deadline,
// never a fixed sleep.
import { KubeConfig } from '@kubernetes/client-node';
import type { Subscription } from 'rxjs';
import { kubeEvents, type KubeSourceOptions } from '../../runtime/sources/kube.ts';
import { kubeStats, type KubeStats } from '../../runtime/sources/kubeStats.ts';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { FakeApiServer } from '../../testkit/fakeApiServer.ts';

/** Test timings: restarts 20 ms doubling to 200 ms; client-node's 1 s reconnect backoff becomes 20 ms. */
export const FAST: KubeSourceOptions = {
  restartBackoff: { initialMs: 20, maxMs: 200 },
  clientReconnectDelay: (ms) => ms / 50,
  watchTimeoutMs: 5000,
};

export interface Harness {
  server: FakeApiServer;
  kc: KubeConfig;
  /** Everything kubeEvents emitted, in order. */
  events: KubeEvent[];
  stats: KubeStats;
  start(opts?: KubeSourceOptions): void;
  stop(): void;
  /** Resolves once cond() holds; fails after ms with what was seen. */
  until(cond: () => boolean, what: string, ms?: number): Promise<void>;
}

export function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'dummy' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return kc;
}

/** server: { protobuf: false } for a server that speaks JSON only (the default serves protobuf to the source, which asks for it). */
export async function withCluster(body: (h: Harness) => Promise<void>, serverOptions: { protobuf?: boolean } = {}): Promise<void> {
  const server = await FakeApiServer.start(undefined, serverOptions);
  let sub: Subscription | undefined;
  try {
    const events: KubeEvent[] = [];
    const stats = kubeStats();
    const kc = kubeConfigFor(server.url);
    let ended: string | undefined;
    const h: Harness = {
      server, kc, events, stats,
      start(opts = {}) {
        sub = kubeEvents(kc, { ...FAST, ...opts, stats }).subscribe({
          next: (e) => events.push(e),
          error: (e) => (ended = `errored: ${(e as Error).message}`),
          complete: () => (ended = 'completed'),
        });
      },
      stop: () => sub?.unsubscribe(),
      until: (cond, what, ms = 4000) => new Promise<void>((resolve, reject) => {
        const deadline = performance.now() + ms;
        const poll = () => {
          if (ended) return reject(new Error(`kubeEvents ${ended} while waiting for ${what}`));
          if (cond()) return resolve();
          if (performance.now() > deadline) {
            return reject(new Error(`timed out after ${ms} ms waiting for ${what}\nevents: ${events.map(show).join(', ')}\n` +
              `requests: ${server.requests.map((r) => `${r.watch ? 'watch' : 'list'} ${r.resource} rv=${r.resourceVersion ?? ''} ${r.status}`).join(', ')}`));
          }
          setTimeout(poll, 5);
        };
        poll();
      }),
    };
    await body(h);
  } finally {
    sub?.unsubscribe();
    await server.close();
  }
}

/** "upsert Service ns/name", "delete Node n1", or "synced". */
export function show(e: KubeEvent): string {
  if (e.type === 'synced') return 'synced';
  const m = e.object.metadata ?? {};
  return `${e.type} ${e.object.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name ?? '?'}`;
}

/** The events of one kind after index `from`, shown. */
export const shown = (events: KubeEvent[], kind?: string, from = 0) =>
  events.slice(from).filter((e) => !kind || e.type === 'synced' || e.object.kind === kind).map(show);
