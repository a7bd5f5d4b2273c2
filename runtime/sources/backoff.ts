// Delays between restarts of a stopped watch: bounded exponential backoff with
// jitter, as client-go's wait.Backoff. Pure, so it is tested without a cluster.

export interface Backoff {
  /** Delay before the first restart (default 100 ms). */
  initialMs: number;
  /** Cap of the exponential part (default 30 s, client-node's own reconnect cap). */
  maxMs: number;
  /** Each attempt multiplies the delay by this (default 2). */
  factor: number;
  /** Spread: the delay is scaled by a uniform factor in [1 - jitter, 1 + jitter] (default 0.2). */
  jitter: number;
}

/** 100 ms, 200 ms, 400 ms ... 25.6 s, then 30 s for good; each +-20 %. Six informers
 * that failed together (an API server restart) spread out instead of
 * reconnecting in lockstep; the cap keeps a long outage costing one attempt per
 * 24-36 s per kind. */
export const RESTART_BACKOFF: Backoff = { initialMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2 };

/**
 * The delay before restart number `attempt` (0 for the first after a success).
 * `random` is uniform in [0, 1), as Math.random. The cap applies before the
 * jitter, so a delay lies in [maxMs * (1 - jitter), maxMs * (1 + jitter)] at most.
 */
export function backoffDelay(attempt: number, policy: Backoff = RESTART_BACKOFF, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return Math.round(exponential * (1 + policy.jitter * (2 * random() - 1)));
}
