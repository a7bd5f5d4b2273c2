// A watch (watchStream.ts: the HTTP watch protocol, its timers, the abort),
// with what watchKind needs guarded:
// - a length the server ends it at, as client-go's reflector asks for it
//   (timeoutSeconds: the shortest length stretched at random by up to as
//   much again, so that agents' reconnects spread), and a silence a minute
//   longer that aborts it, for a server that stops answering; a dead
//   connection TCP keep-alive finds within 40 s (30 s idle, then 10 probes a
//   second apart). client-node's 30 s of silence cut every quiet kind's watch
//   twice a minute where no bookmark came, a new request each time;
// - bookmarks asked for (a quiet kind keeps a fresh resourceVersion, so
//   fewer 410s);
// - kind and apiVersion filled in, objects without a name kept out;
// - no new watch after teardown, and a throw in setup (auth, config) turned
//   into a done(err) instead of a rejection nobody handles.
import type { ApiAccess } from './kubeConfig.ts';
import type { KindStats } from './kubeStats.ts';
import { watchStream } from './watchStream.ts';
import { cacheable, forCache, isObject, resourceVersionOf, type WatchedKind } from './watchedKinds.ts';

/** How much longer than its timeoutSeconds a watch may stay silent; how long its connect may take (client-node's 30 s). */
const SILENCE_GRACE_MS = 60_000, CONNECT_MS = 30_000;

export interface WatchHooks {
  closed(): boolean;
  /** An event other than ERROR arrived: the watch makes progress. */
  progressed(): void;
  /** An object that cannot be keyed (no name), passed on for the normalizer to reject. */
  malformed(o: unknown): void;
}

export type WatchCallback = (phase: string, obj: { [k: string]: unknown }) => void;

export class GuardedWatch {
  readonly #access: ApiAccess;
  readonly #timeoutMs: number;
  readonly #spec: WatchedKind;
  readonly #stats: KindStats;
  readonly #hooks: WatchHooks;
  readonly #accept: string | undefined;

  constructor(access: ApiAccess, spec: WatchedKind, timeoutMs: number, stats: KindStats, hooks: WatchHooks, accept?: string) {
    this.#access = access;
    this.#timeoutMs = timeoutMs;
    this.#accept = accept;
    this.#spec = spec;
    this.#stats = stats;
    this.#hooks = hooks;
  }

  /** Watches from resourceVersion; each event goes to callback with its object checked, the end to done. */
  async start(query: { resourceVersion: string; labelSelector?: string }, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    if (this.#hooks.closed()) return aborted();
    this.#stats.watches++;
    const seconds = Math.ceil((this.#timeoutMs * (1 + Math.random())) / 1000);
    try {
      const controller = await watchStream(this.#access, this.#spec.path, { ...query, allowWatchBookmarks: 'true', timeoutSeconds: String(seconds) },
        { connectMs: CONNECT_MS, silenceMs: seconds * 1000 + SILENCE_GRACE_MS, accept: this.#accept },
        (phase, obj) => this.#event(phase, obj, callback), done);
      if (this.#hooks.closed()) controller.abort(); // torn down while connecting
      return controller;
    } catch (err) {
      done(err);
      return aborted();
    }
  }

  #event(phase: string, obj: unknown, callback: WatchCallback): void {
    if (phase === 'ERROR') this.#stats.watchErrors++;
    else this.#hooks.progressed();
    if (!isObject(obj)) {
      if (phase !== 'ERROR' && phase !== 'BOOKMARK') this.#stats.malformed++;
      return;
    }
    const rv = resourceVersionOf(obj);
    if (rv && phase !== 'ERROR') this.#stats.resourceVersion = rv;
    if (phase === 'ERROR' || phase === 'BOOKMARK') return callback(phase, obj);
    const o = forCache(this.#spec, obj);
    if (cacheable(o)) return callback(phase, o as { [k: string]: unknown });
    if (phase !== 'DELETED') this.#hooks.malformed(o);
    if (rv) callback('BOOKMARK', { metadata: { resourceVersion: rv } }); // still move past it
  }
}

function aborted(): AbortController {
  const c = new AbortController();
  c.abort();
  return c;
}
