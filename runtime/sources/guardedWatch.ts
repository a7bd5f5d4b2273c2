// client-node's Watch (the HTTP watch protocol: the chunked stream of JSON
// lines, its inactivity timer, the abort), with what watchKind needs
// guarded: bookmarks asked for (a quiet kind keeps a fresh resourceVersion,
// so fewer 410s), kind and apiVersion filled in, objects without a name kept
// out, no new watch after teardown, and a throw in setup (auth, config)
// turned into a done(err) instead of a rejection nobody handles.
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import type { ApiAccess } from './kubeConfig.ts';
import type { KindStats } from './kubeStats.ts';
import { cacheable, forCache, isObject, resourceVersionOf, type WatchedKind } from './watchedKinds.ts';

export interface WatchHooks {
  closed(): boolean;
  /** An event other than ERROR arrived: the watch makes progress. */
  progressed(): void;
  /** An object that cannot be keyed (no name), passed on for the normalizer to reject. */
  malformed(o: unknown): void;
}

export type WatchCallback = (phase: string, obj: { [k: string]: unknown }) => void;

export class GuardedWatch extends Watch {
  readonly #spec: WatchedKind;
  readonly #stats: KindStats;
  readonly #hooks: WatchHooks;

  constructor(access: ApiAccess, spec: WatchedKind, timeoutMs: number, stats: KindStats, hooks: WatchHooks) {
    super(withoutBodyTimeout(access) as ConstructorParameters<typeof Watch>[0]);
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = timeoutMs;
    this.#spec = spec;
    this.#stats = stats;
    this.#hooks = hooks;
  }

  /** Watches from resourceVersion; each event goes to callback with its object checked, the end to done. */
  async start(query: { resourceVersion: string; labelSelector?: string }, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    if (this.#hooks.closed()) return aborted();
    this.#stats.watches++;
    try {
      const controller = await super.watch(this.#spec.path, { ...query, allowWatchBookmarks: true }, (phase, obj) => this.#event(phase, obj, callback), done);
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

/**
 * The config, but undici's body timeout off on the watch's requests. A watch
 * is quiet for long stretches by design, and while any request has that
 * timeout armed, undici wakes the process every 499 ms to age it (its coarse
 * "fast" timers): most of an idle agent's CPU. A quiet watch is still ended
 * by the Watch's own timer (requestTimeoutMs).
 */
function withoutBodyTimeout(access: ApiAccess): ApiAccess {
  const config = Object.create(access) as ApiAccess;
  config.applySecurityAuthentication = async (ctx) => {
    await access.applySecurityAuthentication(ctx);
    ctx.setDispatcher((ctx.getDispatcher() ?? getGlobalDispatcher()).compose(noBodyTimeout));
  };
  return config;
}

const noBodyTimeout: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => dispatch({ ...opts, bodyTimeout: 0 }, handler);

function aborted(): AbortController {
  const c = new AbortController();
  c.abort();
  return c;
}
