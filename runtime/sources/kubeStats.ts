// Counters of the Kubernetes source, per watched kind, for metrics: filled in
// by kubeEvents (kube.ts), read at scrape time. Pure: no client-node here.
import { WATCHED_KINDS } from './watchedKinds.ts';

export interface KindStats {
  /** client-node's 'connect' events: one per (re)connection, before its list (if it lists) and watch. */
  connects: number;
  /** Lists started: 1 is the first one; more are relists (after a 410 or a lost list). */
  lists: number;
  /** Watch requests made (each reconnect is one). */
  watches: number;
  /** Times the informer stopped ('error'); each is followed by a restart. */
  errors: number;
  /** Restarts done. */
  restarts: number;
  /** Objects the cache could not hold, passed on (or, if not objects at all, dropped). */
  malformed: number;
  /** ERROR events on the watch stream (410 Gone among them). */
  watchErrors: number;
  /** The last resourceVersion seen. */
  resourceVersion: string;
  /** Why the informer last stopped ("" if it never did). */
  lastError: string;
}

export interface KubeStats {
  synced: boolean;
  kinds: { [kind: string]: KindStats };
}

export function kubeStats(): KubeStats {
  const kinds: { [kind: string]: KindStats } = {};
  for (const k of WATCHED_KINDS) {
    kinds[k.kind] = { connects: 0, lists: 0, watches: 0, errors: 0, restarts: 0, malformed: 0, watchErrors: 0, resourceVersion: '', lastError: '' };
  }
  return { synced: false, kinds };
}
