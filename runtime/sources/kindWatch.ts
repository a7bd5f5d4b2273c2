// One kind's list and watch, as client-node's ListWatch runs them, without
// its cache: what is known of each object is its key and resourceVersion,
// not the object. The normalizer reduces every object to a record of a few
// hundred bytes; a cache of the raw objects (10,000 pods are 40 MB of JSON,
// 150 MB of heap) was the agent's largest cost in memory, and its promotion
// and marking the largest in collection.
//
// Contract (kube.ts depends on it):
// - 'add' and 'update' become upserts, 'delete' a delete: the last state the
//   watch sent, or, for an object a relist no longer has, its identity
//   (apiVersion, kind, namespace, name), which is all a delete needs.
// - The first list hands objects on page by page as they arrive; listed() is
//   called once it is complete. A later list (after a 410 Gone, or a restart
//   that lost its resourceVersion) turns into a difference: deletes for
//   objects missing from it, upserts for those whose resourceVersion
//   changed, nothing for the rest, all at once when it completes, deletes
//   first: one batch, as ListWatch delivered it.
// - Reconnects follow ListWatch: a watch that ends resumes from the last
//   resourceVersion, after 1 s doubling to 30 s when it delivered nothing
//   (at once after an event or a client-side timeout); a 410 lists again.
//   Any other failure (an HTTP error, a reset connection, a failed list)
//   stops it; the caller is told (stopped) and restarts it (start), which
//   resumes from the same resourceVersion.
import { listPages } from './listPages.ts';
import type { KubeEvent, KubeObject } from './events.ts';
import { GuardedWatch } from './guardedWatch.ts';
import type { ApiAccess } from './kubeConfig.ts';
import type { KindStats } from './kubeStats.ts';
import { cacheable, forCache, isObject, resourceVersionOf, type WatchedKind } from './watchedKinds.ts';

export interface KindOptions {
  pageSize: number;
  listTimeoutMs: number;
  watchTimeoutMs: number;
  /** client-node's reconnect delay (1 s doubling to 30 s) mapped to the one used; tests shorten it. */
  reconnectDelay: (ms: number) => number;
  /** The Accept header of lists and watches (default JSON only). */
  accept?: string;
}

export interface KindHooks {
  emit(e: KubeEvent): void;
  /** The first list is delivered. */
  listed(): void;
  /** The watch made progress (an event other than ERROR). */
  progressed(): void;
  /** It stopped; start() restarts it. */
  stopped(err: unknown): void;
}

const BASE_RECONNECT_MS = 1000, MAX_RECONNECT_MS = 30_000; // ListWatch's

export class KindWatch {
  readonly #access: ApiAccess;
  readonly #spec: WatchedKind;
  readonly #opts: KindOptions;
  readonly #stats: KindStats;
  readonly #hooks: KindHooks;
  readonly #watch: GuardedWatch;
  readonly #abort = new AbortController();
  readonly #sleeps = new Set<() => void>();
  /**
   * key "namespace/name" ("/name" when cluster-scoped) -> the resourceVersion the last list or event gave it.
   * Only that: the agent keeps one for each object in the cluster, and an object of its own for each (with the
   * namespace and name) took 1.1 MiB more of the heap on issue 12's cluster.
   */
  readonly #known = new Map<string, string>();
  #closed = false;
  #listed = false;
  #rv = '';
  #reconnectMs = 0;
  #connected = false;
  #request: AbortController | undefined;

  constructor(access: ApiAccess, spec: WatchedKind, opts: KindOptions, stats: KindStats, hooks: KindHooks) {
    this.#access = access;
    this.#spec = spec;
    this.#opts = opts;
    this.#stats = stats;
    this.#hooks = hooks;
    this.#watch = new GuardedWatch(access, spec, opts.watchTimeoutMs, stats, {
      closed: () => this.#closed,
      progressed: () => hooks.progressed(),
      malformed: (o) => this.#malformed(o),
    }, opts.accept);
  }

  /** (Re)starts: lists if no resourceVersion is known, then watches. */
  start(): void {
    this.#reconnectMs = 0;
    this.#connected = false;
    void this.#cycle(null);
  }

  close(): void {
    this.#closed = true;
    for (const wake of [...this.#sleeps]) wake();
    this.#abort.abort();
    this.#request?.abort();
  }

  /** Where the last watch ended (err null: the server closed it), the next one begins. */
  async #cycle(err: unknown): Promise<void> {
    this.#request?.abort();
    this.#request = undefined;
    const code = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode ?? (err as { code?: unknown } | null)?.code;
    if (err && code === 410) this.#rv = '';
    else if (err && (err as Error).name === 'TimeoutError') this.#reconnectMs = 0; // the timeout already waited
    else if (err) return this.#stop(err);
    if (this.#closed) return;
    this.#stats.connects++;
    if (!this.#rv) {
      try {
        await this.#list();
      } catch (e) {
        return this.#stop(e);
      }
    }
    if (this.#reconnectMs > 0 && this.#connected) await this.#sleep(this.#opts.reconnectDelay(this.#reconnectMs));
    if (this.#connected) this.#reconnectMs = Math.min(this.#reconnectMs > 0 ? this.#reconnectMs * 2 : BASE_RECONNECT_MS, MAX_RECONNECT_MS);
    this.#connected = true;
    const query = { resourceVersion: this.#rv, ...(this.#spec.labelSelector ? { labelSelector: this.#spec.labelSelector } : {}) };
    this.#request = await this.#watch.start(query, (phase, obj) => this.#event(phase, obj), (e) => void this.#cycle(e));
  }

  #stop(err: unknown): void {
    if (!this.#closed) this.#hooks.stopped(err);
  }

  #event(phase: string, obj: { [k: string]: unknown }): void {
    if (phase === 'ERROR') {
      if (obj.code === 410) this.#rv = ''; // the stream ends next; then it lists
      return;
    }
    const o = obj as unknown as KubeObject;
    if (phase === 'ADDED' || phase === 'MODIFIED') this.#upsert(o, keyOf(o), true);
    else if (phase === 'DELETED') this.#delete(o);
    this.#reconnectMs = 0;
    this.#rv = resourceVersionOf(obj) ?? '';
  }

  /** Passes the object on, now or by the function returned, unless it is the version already known. */
  #upsert(o: KubeObject, key: string, now: boolean): (() => void) | undefined {
    const rv = resourceVersionOf(o) ?? '';
    if (rv && this.#known.get(key) === rv) return undefined;
    if (now) return this.#pass(o, key, rv);
    return () => this.#pass(o, key, rv);
  }

  #pass(o: KubeObject, key: string, rv: string): undefined {
    this.#known.set(key, rv);
    this.#hooks.emit({ type: 'upsert', object: o });
  }

  #delete(o: KubeObject): void {
    if (this.#known.delete(keyOf(o))) this.#hooks.emit({ type: 'delete', object: o });
  }

  #malformed(o: unknown): void {
    this.#stats.malformed++;
    if (isObject(o)) this.#hooks.emit({ type: 'upsert', object: o as KubeObject });
  }

  async #list(): Promise<void> {
    this.#stats.lists++;
    const relist = this.#listed;
    // What is known and not listed is gone: none of it on a first list, unless an earlier try of it failed part way.
    const seen = this.#known.size > 0 ? new Set<string>() : undefined;
    const held: (() => void)[] = []; // a relist's changes, passed on when it completes
    let rv = '';
    for await (const page of listPages(this.#access, this.#spec, this.#opts.pageSize, this.#abort.signal, this.#opts.listTimeoutMs, this.#opts.accept)) {
      rv ||= page.resourceVersion;
      for (const item of page.items) {
        const o = forCache(this.#spec, item);
        if (!cacheable(o)) {
          if (relist) held.push(() => this.#malformed(o));
          else this.#malformed(o);
          continue;
        }
        const k = o as KubeObject, key = keyOf(k);
        seen?.add(key);
        const pass = this.#upsert(k, key, !relist);
        if (pass) held.push(pass);
      }
    }
    for (const key of seen ? [...this.#known.keys()].filter((key) => !seen.has(key)) : []) {
      this.#known.delete(key);
      const slash = key.indexOf('/'), name = key.slice(slash + 1); // neither a namespace nor a name holds a '/'
      const metadata = slash === 0 ? { name } : { namespace: key.slice(0, slash), name };
      this.#hooks.emit({ type: 'delete', object: { apiVersion: this.#spec.apiVersion, kind: this.#spec.kind, metadata } });
    }
    for (const pass of held) pass();
    this.#stats.resourceVersion = rv;
    this.#rv = rv;
    if (!this.#listed) {
      this.#listed = true;
      this.#hooks.listed();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#closed) return resolve();
      const wake = () => {
        clearTimeout(t);
        this.#sleeps.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.#sleeps.add(wake);
    });
  }
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
