// What /healthz and /readyz answer, from what the agent has done. Pure: the
// caller passes the clock.
//
// /healthz: 200 while the pipeline runs and either the last apply succeeded or
// the applies have been failing for less than failTimeoutMs (default 60 s,
// kube-proxy's 2 x its 30 s sync period). A lost API connection does not make
// the agent unhealthy: the maps keep the last state and the source reconnects
// by itself, so a restart would not help. Before the first sync: healthy (a
// large cluster takes a while to list; the DaemonSet's startupProbe allows it).
// /readyz: 200 once the first full sync has been applied to the maps, while healthy.

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

  healthz(now: number): Verdict {
    if (this.stopped !== undefined) return { ok: false, reason: `the pipeline stopped: ${this.stopped}` };
    if (this.failingSince !== undefined) {
      const s = ((now - this.failingSince) / 1000).toFixed(1);
      const ok = now - this.failingSince < this.failTimeoutMs;
      return { ok, reason: `applying to the maps has failed for ${s} s${ok ? ` (unhealthy after ${this.failTimeoutMs / 1000} s)` : ''}: ${this.lastError}` };
    }
    return { ok: true, reason: this.syncedAt === undefined ? 'starting' : 'ok' };
  }

  readyz(now: number): Verdict {
    const h = this.healthz(now);
    if (!h.ok) return h;
    return this.syncedAt === undefined ? { ok: false, reason: this.waiting } : h;
  }
}
