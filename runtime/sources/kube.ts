// The live cluster as an Observable<KubeEvent>: one list and watch per kind
// (kindWatch.ts), merged. The only module that reaches the API server; pure
// modules must not import it.
//
// Contract:
// - Objects always carry apiVersion and kind (list items get them here) and
//   never metadata.managedFields (forCache).
// - { type: 'synced' } comes exactly once, after every kind has completed its
//   first list and delivered its items. Events before it pass through;
//   batchEvents holds them back, so no partial cluster is ever programmed.
// - A stopped kind (a failed list, an HTTP error on a watch, a reset
//   connection) is restarted after a backoff (backoff.ts: 100 ms doubling to
//   30 s, +-20 % jitter, back to the start once a watch delivers an event:
//   progress, not just a connection, so a server that accepts and drops
//   cannot hold us in a 100 ms loop). It keeps its resourceVersion, so a
//   restart resumes the watch where it stopped; only a lost list, or a 410
//   Gone, lists again, and a relist comes out as the difference.
// - Objects that cannot be keyed (no metadata object or no name) are passed
//   on as upserts, for normalizeEvents to reject with the field named. A
//   watch event whose object is not an object at all is only counted.
// - Lists are raw GETs (paged, 500 a page; an expired continue token fails
//   the list, and the restart lists afresh), watches watchStream.ts (the
//   protocol as client-node's Watch speaks it, on node:http). Both ask for
//   protobuf, as kube-proxy does, and take JSON where the server has no
//   protobuf; either way an object comes out shaped as its JSON (protobuf
//   bodies with only the fields sluice reads), the same shape as a snapshot
//   file or a recorded log.
// - Watches ask for bookmarks, so a quiet kind keeps a fresh resourceVersion
//   and a reconnect rarely meets a 410.
// The kinds, their selectors and why (watchedKinds.ts); the counters (kubeStats.ts).
import { Observable } from '../rx/rx.ts';
import { backoffDelay, RESTART_BACKOFF, type Backoff } from './backoff.ts';
import type { KubeEvent } from './events.ts';
import { KindWatch } from './kindWatch.ts';
import type { ApiAccess } from './kubeConfig.ts';
import { kubeStats, type KindStats, type KubeStats } from './kubeStats.ts';
import { ACCEPT_PROTOBUF, JSON_TYPE, PROTOBUF, type ContentType } from './protoSchema.ts';
import { WATCHED_KINDS, type WatchedKind } from './watchedKinds.ts';

export interface KubeSourceOptions {
  /** Restarts of a stopped kind (default RESTART_BACKOFF: 100 ms doubling to 30 s, +-20 %). */
  restartBackoff?: Partial<Backoff>;
  /** Maps the reconnect delay after a watch that ended with no events (1 s doubling
   * to 30 s, as client-node's ListWatch) to the one used; tests shorten it. */
  clientReconnectDelay?: (ms: number) => number;
  /** The shortest watch (default 5 min): see guardedWatch.ts. */
  watchTimeoutMs?: number;
  /** Objects per list page (default 500, as client-go); 0 lists in one response. */
  pageSize?: number;
  /** A list page that takes longer fails (and is retried by the restart backoff); default 60 s. */
  listTimeoutMs?: number;
  /** Counters to fill in, for metrics; see kubeStats(). */
  stats?: KubeStats;
  /** Told each time a kind stopped and when it will restart: for the log. */
  onRestart?: (kind: string, error: string, delayMs: number) => void;
  /** Uniform in [0, 1), for the jitter (default Math.random). */
  random?: () => number;
  /** What lists and watches ask for (kube-proxy's --kube-api-content-type): protobuf (the default) or application/json. */
  contentType?: ContentType;
}

/**
 * Every watched kind, merged: upserts and deletes, and one 'synced' once all
 * have listed. Each subscription runs its own lists and watches;
 * unsubscribing stops them, aborts requests in flight and clears every
 * timer. Never errors: failures are retried (and counted in opts.stats).
 */
export function kubeEvents(access: ApiAccess, opts: KubeSourceOptions = {}): Observable<KubeEvent> {
  return new Observable<KubeEvent>((subscriber) => {
    const stats = opts.stats ?? kubeStats();
    const listed = new Set<string>(); // kinds whose first list is delivered
    const emit = (e: KubeEvent) => subscriber.next(e);
    const onListed = (kind: string) => {
      listed.add(kind);
      if (listed.size === WATCHED_KINDS.length) {
        stats.synced = true;
        emit({ type: 'synced' });
      }
    };
    const stops = WATCHED_KINDS.map((k) => runKind(access, k, opts, stats.kinds[k.kind] ??= kubeStats().kinds[k.kind], emit, onListed));
    return () => stops.forEach((stop) => stop());
  });
}

/** Starts one kind, restarting it whenever it stops; returns its teardown. */
function runKind(access: ApiAccess, spec: WatchedKind, opts: KubeSourceOptions, stats: KindStats,
  emit: (e: KubeEvent) => void, onListed: (kind: string) => void): () => void {
  const policy: Backoff = { ...RESTART_BACKOFF, ...opts.restartBackoff };
  // State: attempt counts restarts since the watch last delivered an event.
  let attempt = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const kind: KindWatch = new KindWatch(access, spec, {
    pageSize: opts.pageSize ?? 500, listTimeoutMs: opts.listTimeoutMs ?? 60_000, watchTimeoutMs: opts.watchTimeoutMs ?? 300_000,
    reconnectDelay: opts.clientReconnectDelay ?? ((ms) => ms),
    accept: (opts.contentType ?? PROTOBUF) === PROTOBUF ? ACCEPT_PROTOBUF : JSON_TYPE,
  }, stats, {
    emit,
    listed: () => onListed(spec.kind),
    progressed: () => (attempt = 0),
    stopped: (err) => {
      stats.errors++;
      stats.lastError = describe(err);
      const delay = backoffDelay(attempt++, policy, opts.random);
      opts.onRestart?.(spec.kind, stats.lastError, delay);
      clearTimeout(restartTimer);
      restartTimer = setTimeout(() => {
        stats.restarts++;
        kind.start();
      }, delay);
    },
  });
  kind.start();
  return () => {
    clearTimeout(restartTimer);
    kind.close();
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { statusCode?: unknown }).statusCode;
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${code !== undefined ? `HTTP ${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}
