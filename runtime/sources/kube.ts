// The live cluster as an Observable<KubeEvent>: one client-node informer
// (ListWatch) per kind, merged. The only module that imports
// @kubernetes/client-node (about 1.5 s to load): pure modules must not import
// this one.
//
// Contract:
// - 'add' and 'update' become upserts, 'delete' a delete carrying the last
//   state; objects always carry apiVersion and kind (list items get them here)
//   and never metadata.managedFields (forCache).
// - { type: 'synced' } comes exactly once, after every kind has completed its
//   first list and delivered its items. Events before it pass through;
//   batchEvents holds them back, so no partial cluster is ever programmed.
// - A stopped informer (client-node's 'error': a failed list, an HTTP error on
//   a watch, a reset connection) is restarted on the same ListWatch after a
//   backoff (backoff.ts: 100 ms doubling to 30 s, +-20 % jitter, back to the
//   start once a watch delivers an event: progress, not just a connection,
//   so a server that accepts and drops cannot hold us in a 100 ms loop). The same ListWatch keeps its cache and its
//   resourceVersion, so a restart resumes the watch where it stopped; only a
//   lost list, or a 410 Gone, lists again.
// - After a 410 Gone (an ERROR event {code: 410} or an HTTP 410 on the watch)
//   client-node relists, and its cache turns the new list into a difference:
//   delete for objects missing from it, update only for a changed
//   resourceVersion, nothing for the rest.
// - Objects the cache cannot hold (no metadata object or no name) never reach
//   it (client-node would throw inside a promise nobody awaits); they are
//   passed on as upserts, for normalizeEvents to reject with the field named.
//   A watch event whose object is not an object at all is only counted.
// - Lists are our own raw GETs (paged, 500 a page; an expired continue token
//   fails the list, and the restart lists afresh): the generated typed
//   clients would turn objects into model classes (dates as Date, `from` as
//   `_from`, unknown fields dropped), while watch events arrive as raw JSON.
//   One shape for both, the same as a snapshot file or a recorded log.
// - Watches ask for bookmarks, so a quiet kind keeps a fresh resourceVersion
//   and a reconnect rarely meets a 410.
// The kinds, their selectors and why (watchedKinds.ts); the counters (kubeStats.ts).
import * as k8s from '@kubernetes/client-node';
import { Observable } from 'rxjs';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { backoffDelay, RESTART_BACKOFF, type Backoff } from './backoff.ts';
import type { KubeEvent, KubeObject } from './events.ts';
import { kubeStats, type KindStats, type KubeStats } from './kubeStats.ts';
import { cacheable, forCache, isObject, resourceVersionOf, WATCHED_KINDS, type WatchedKind } from './watchedKinds.ts';

export interface KubeSourceOptions {
  /** Restarts of a stopped informer (default RESTART_BACKOFF: 100 ms doubling to 30 s, +-20 %). */
  restartBackoff?: Partial<Backoff>;
  /** Maps client-node's own reconnect delay (1 s doubling to 30 s, after a watch that
   * ended with no events and after an HTTP 410) to the one used; tests shorten it. */
  clientReconnectDelay?: (ms: number) => number;
  /** A watch silent this long is aborted and resumed from its resourceVersion (client-node default 30 s). */
  watchTimeoutMs?: number;
  /** Objects per list page (default 500, as client-go); 0 lists in one response. */
  pageSize?: number;
  /** A list page that takes longer fails (and is retried by the restart backoff); default 60 s. */
  listTimeoutMs?: number;
  /** Counters to fill in, for metrics; see kubeStats(). */
  stats?: KubeStats;
  /** Told each time an informer stopped and when it will restart: for the log. */
  onRestart?: (kind: string, error: string, delayMs: number) => void;
  /** Uniform in [0, 1), for the jitter (default Math.random). */
  random?: () => number;
}

/**
 * A kubeconfig file; without one, the in-cluster config (service account
 * token and CA, KUBERNETES_SERVICE_HOST/PORT). Errors say which and why.
 */
export function loadKubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path !== undefined) {
    try {
      kc.loadFromFile(path);
    } catch (e) {
      throw new Error(`kubeconfig ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${path}: the current context "${kc.getCurrentContext()}" names no cluster`);
  } else {
    if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
      throw new Error('no kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): pass a kubeconfig file');
    }
    kc.loadFromCluster();
  }
  return kc;
}

/**
 * Every watched kind, merged: upserts and deletes, and one 'synced' once all
 * have listed. Each subscription runs its own informers; unsubscribing stops
 * them, aborts requests in flight and clears every timer. Never errors:
 * failures are retried (and counted in opts.stats).
 */
export function kubeEvents(kc: k8s.KubeConfig, opts: KubeSourceOptions = {}): Observable<KubeEvent> {
  return new Observable<KubeEvent>((subscriber) => {
    const stats = opts.stats ?? kubeStats();
    const listed = new Set<string>(); // kinds whose first list is delivered
    const emit = (e: KubeEvent) => subscriber.next(e);
    const onListed = (kind: string) => {
      if (listed.has(kind)) return;
      listed.add(kind);
      if (listed.size === WATCHED_KINDS.length) {
        stats.synced = true;
        emit({ type: 'synced' });
      }
    };
    const stops = WATCHED_KINDS.map((k) => runInformer(kc, k, opts, stats.kinds[k.kind] ??= kubeStats().kinds[k.kind], emit, onListed));
    return () => stops.forEach((stop) => stop());
  });
}

/** Starts one kind's ListWatch, restarting it whenever it stops; returns its teardown. */
function runInformer(kc: k8s.KubeConfig, spec: WatchedKind, opts: KubeSourceOptions, stats: KindStats,
  emit: (e: KubeEvent) => void, onListed: (kind: string) => void): () => void {
  const policy: Backoff = { ...RESTART_BACKOFF, ...opts.restartBackoff };
  // State: closed once unsubscribed; attempt counts restarts since the watch
  // last delivered an event; the timers and sleeps to cancel on teardown.
  let closed = false;
  let attempt = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const sleeps = new Set<() => void>();
  const abort = new AbortController();

  const passOn = (o: unknown) => {
    stats.malformed++;
    if (isObject(o)) emit({ type: 'upsert', object: o as KubeObject });
  };
  const delayFn = (ms: number) => new Promise<void>((resolve) => {
    if (closed) return resolve();
    const wake = () => {
      clearTimeout(t);
      sleeps.delete(wake);
      resolve();
    };
    const t = setTimeout(wake, (opts.clientReconnectDelay ?? ((x) => x))(ms));
    sleeps.add(wake);
  });
  const watch = new GuardedWatch(kc, spec, opts.watchTimeoutMs ?? 30_000, stats, {
    closed: () => closed,
    watching: () => onListed(spec.kind), // a watch starts only after a list is delivered
    progressed: () => (attempt = 0),
    malformed: passOn,
  });
  const list = () => listAll(kc, spec, opts, stats, abort.signal, passOn);
  const informer = new k8s.ListWatch<k8s.KubernetesObject>(spec.path, watch, list, false, spec.labelSelector, undefined, { delayFn });
  informer.on('add', (o) => emit({ type: 'upsert', object: o as KubeObject }));
  informer.on('update', (o) => emit({ type: 'upsert', object: o as KubeObject }));
  informer.on('delete', (o) => emit({ type: 'delete', object: o as KubeObject }));
  informer.on('connect', () => stats.connects++);
  const stopped = (err: unknown) => {
    if (closed) return;
    stats.errors++;
    stats.lastError = describe(err);
    const delay = backoffDelay(attempt++, policy, opts.random);
    opts.onRestart?.(spec.kind, stats.lastError, delay);
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      stats.restarts++;
      start();
    }, delay);
  };
  informer.on('error', stopped);
  const start = () => void informer.start().catch(stopped);
  start();
  return () => {
    closed = true;
    clearTimeout(restartTimer);
    for (const wake of [...sleeps]) wake();
    abort.abort();
    void informer.stop();
  };
}

interface WatchHooks {
  closed(): boolean;
  watching(): void;
  progressed(): void;
  malformed(o: unknown): void;
}

/**
 * client-node's Watch, with what ListWatch needs guarded: bookmarks asked for
 * (a quiet kind keeps a fresh resourceVersion, so fewer 410s), kind and
 * apiVersion filled in, objects the cache would choke on kept from it, no new
 * watch after teardown, and a throw in setup (auth, config) turned into a
 * done(err), which ListWatch reports as 'error', instead of a rejection nobody
 * handles.
 */
class GuardedWatch extends k8s.Watch {
  readonly #spec: WatchedKind;
  readonly #stats: KindStats;
  readonly #hooks: WatchHooks;

  constructor(kc: k8s.KubeConfig, spec: WatchedKind, timeoutMs: number, stats: KindStats, hooks: WatchHooks) {
    super(withoutBodyTimeout(kc));
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = timeoutMs;
    this.#spec = spec;
    this.#stats = stats;
    this.#hooks = hooks;
  }

  override async watch(path: string, query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    if (this.#hooks.closed()) return aborted();
    this.#stats.watches++;
    this.#hooks.watching();
    try {
      const controller = await super.watch(path, { ...query, allowWatchBookmarks: true }, (phase, obj, raw) => this.#event(phase, obj, raw, callback), done);
      if (this.#hooks.closed()) controller.abort(); // torn down while connecting
      return controller;
    } catch (err) {
      done(err);
      return aborted();
    }
  }

  #event(phase: string, obj: unknown, raw: unknown, callback: (phase: string, apiObj: any, watchObj?: any) => void): void {
    if (phase === 'ERROR') this.#stats.watchErrors++;
    else this.#hooks.progressed();
    if (!isObject(obj)) {
      if (phase !== 'ERROR' && phase !== 'BOOKMARK') this.#stats.malformed++;
      return; // ListWatch would throw reading its fields
    }
    const rv = resourceVersionOf(obj);
    if (rv && phase !== 'ERROR') this.#stats.resourceVersion = rv;
    if (phase === 'ERROR' || phase === 'BOOKMARK') return callback(phase, obj, raw);
    const o = forCache(this.#spec, obj);
    if (cacheable(o)) return callback(phase, o, raw);
    if (phase !== 'DELETED') this.#hooks.malformed(o);
    if (rv) callback('BOOKMARK', { metadata: { resourceVersion: rv } }, raw); // still move past it
  }
}

/**
 * The whole collection as one list, page by page (all pages are one
 * snapshot: the first page's resourceVersion). Items get apiVersion and kind;
 * those the cache cannot hold go to malformed instead.
 */
async function listAll(kc: k8s.KubeConfig, spec: WatchedKind, opts: KubeSourceOptions, stats: KindStats, signal: AbortSignal,
  malformed: (o: unknown) => void): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> {
  stats.lists++;
  const items: k8s.KubernetesObject[] = [];
  let resourceVersion = '';
  let next: string | undefined;
  do {
    const page = await listPage(kc, spec, opts.pageSize ?? 500, next, AbortSignal.any([signal, AbortSignal.timeout(opts.listTimeoutMs ?? 60_000)]));
    resourceVersion ||= page.resourceVersion;
    for (const item of page.items) {
      const o = forCache(spec, item);
      if (cacheable(o)) items.push(o as k8s.KubernetesObject);
      else malformed(o);
    }
    next = page.continue;
  } while (next);
  stats.resourceVersion = resourceVersion;
  return { metadata: { resourceVersion }, items };
}

interface Page { resourceVersion: string; continue: string | undefined; items: unknown[] }

/** One GET of the collection, raw JSON; an HTTP error throws with statusCode set (410 included). */
async function listPage(kc: k8s.KubeConfig, spec: WatchedKind, limit: number, cont: string | undefined, signal: AbortSignal): Promise<Page> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server + spec.path);
  if (spec.labelSelector) url.searchParams.set('labelSelector', spec.labelSelector);
  if (limit > 0) url.searchParams.set('limit', String(limit));
  if (cont) url.searchParams.set('continue', cont);
  const ctx = new k8s.RequestContext(url.toString(), k8s.HttpMethod.GET);
  ctx.setHeaderParam('Accept', 'application/json');
  ctx.setSignal(signal);
  await kc.applySecurityAuthentication(ctx);
  const res = await httpApi().send(ctx).toPromise();
  const text = await res.body.text();
  const where = `list ${spec.path}`;
  if (res.httpStatusCode !== 200) {
    throw Object.assign(new Error(`${where}: HTTP ${res.httpStatusCode}${statusMessage(text)}`), { statusCode: res.httpStatusCode });
  }
  let body: { metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown };
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
  if (body === null || typeof body !== 'object') throw new Error(`${where}: the response is not an object`);
  if (body.items !== undefined && body.items !== null && !Array.isArray(body.items)) throw new Error(`${where}: items is not a list`);
  const meta = body.metadata ?? {};
  return {
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
    continue: typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined,
    items: (body.items as unknown[] | null | undefined) ?? [],
  };
}

let http: k8s.HttpLibrary | undefined;
const httpApi = () => (http ??= k8s.createConfiguration().httpApi); // client-node's fetch (undici), as its Watch uses

function statusMessage(text: string): string {
  try {
    const s = JSON.parse(text) as { message?: unknown };
    return typeof s.message === 'string' ? `: ${s.message}` : '';
  } catch {
    return '';
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { statusCode?: unknown }).statusCode;
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${code !== undefined ? `HTTP ${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}

/**
 * kc for the watches: the same, but undici's body timeout is off on the
 * watch's requests. A watch is quiet for long stretches by design, and while
 * any request has that timeout armed, undici wakes the process every 499 ms
 * to age it (its coarse "fast" timers): most of an idle agent's CPU. A quiet
 * watch is still ended by the Watch's own timer (watchTimeoutMs).
 */
function withoutBodyTimeout(kc: k8s.KubeConfig): k8s.KubeConfig {
  const config = Object.create(kc) as k8s.KubeConfig;
  config.applySecurityAuthentication = async (ctx) => {
    await kc.applySecurityAuthentication(ctx);
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
