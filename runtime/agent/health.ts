// What /livez, /healthz and /readyz answer, from what the agent has done.
// Pure: the caller passes the clock. Each means what its reader expects:
//
// /livez (the kubelet's livenessProbe): the process is not stuck. 200 while
// it answers and the pipeline runs, whatever the API server or the maps do:
// a restart helps neither a lost API connection (the source reconnects by
// itself) nor a full map (it needs a larger --*-max), and restarting on
// those only throws away the agent's state. A compiler stuck in a batch
// holds the thread that answers: the probe times out, and the kubelet
// restarts the agent.
// /readyz (readinessProbe): the dataplane is programmed: the first full sync
// is in the maps and the last apply succeeded.
// /healthz (kube-proxy's, which cloud load balancers probe on port 10256 to
// pick the nodes that take traffic): 503 until the first full sync is in
// the maps, then 200 while the last apply succeeded or the applies have been
// failing for less than failTimeoutMs (default 60 s, kube-proxy's 2 x its
// 30 s sync period), so a node that cannot be programmed is steered around.

export interface Verdict { ok: boolean; reason: string }

export class Health {
  readonly failTimeoutMs: number;
  /** When the first full sync reached the maps. */
  syncedAt: number | undefined;
  /** Set when the pipeline stopped for good: why. */
  private stopped: string | undefined;
  private failingSince: number | undefined;
  private lastError = '';
  private waiting = 'waiting for the first full sync from the API server';
  /** Why --record stopped, when it did: the dataplane goes on, /readyz says so. */
  private recordingStopped: string | undefined;

  constructor(failTimeoutMs = 60_000) {
    this.failTimeoutMs = failTimeoutMs;
  }

  /** The maps hold a batch. */
  applied(now: number): void {
    this.syncedAt ??= now;
    this.failingSince = undefined;
  }

  /** A batch could not be applied (it is retried); error says which map and why. */
  applyFailed(now: number, error: string): void {
    this.failingSince ??= now;
    this.lastError = error;
  }

  /** Compiled, but the maps cannot be programmed yet: why (for /readyz). */
  notProgrammed(why: string): void {
    this.waiting = why;
  }

  pipelineStopped(why: string): void {
    this.stopped ??= why;
  }

  recordStopped(why: string): void {
    this.recordingStopped ??= why;
  }

  livez(): Verdict {
    if (this.stopped !== undefined) return { ok: false, reason: `the pipeline stopped: ${this.stopped}` };
    return { ok: true, reason: 'ok' };
  }

  healthz(now: number): Verdict {
    const live = this.livez();
    if (!live.ok) return live;
    if (this.failingSince !== undefined) {
      const ok = this.syncedAt !== undefined && now - this.failingSince < this.failTimeoutMs;
      return { ok, reason: `${this.failing(now)}${ok ? ` (unhealthy after ${this.failTimeoutMs / 1000} s)` : ''}: ${this.lastError}` };
    }
    if (this.syncedAt === undefined) return { ok: false, reason: `starting: ${this.waiting}` };
    return { ok: true, reason: 'ok' };
  }

  readyz(now: number): Verdict {
    const live = this.livez();
    if (!live.ok) return live;
    if (this.syncedAt === undefined) return { ok: false, reason: this.waiting };
    if (this.failingSince !== undefined) return { ok: false, reason: `${this.failing(now)}: ${this.lastError}` };
    return { ok: true, reason: this.recordingStopped === undefined ? 'ok' : `ok; recording stopped: ${this.recordingStopped}` };
  }

  private failing(now: number): string {
    return `applying to the maps has failed for ${(((now - (this.failingSince ?? now)) / 1000)).toFixed(1)} s`;
  }
}
