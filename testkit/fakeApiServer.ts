// A kube-apiserver for tests: the list/watch protocol of the six collections
// sluice reads, on 127.0.0.1 only, with a script to change objects and to
// break things the ways a real API server does.
//
// Modelled on the real one:
// - one resourceVersion counter for every kind (etcd's revision); each write
//   gets the next one, also written into the object's metadata;
// - GET <collection> lists {kind: XList, apiVersion, metadata: {resourceVersion,
//   continue?}, items} in namespace/name order, items without kind or
//   apiVersion; `limit` and `continue` page it over one snapshot;
// - GET <collection>?watch=true&resourceVersion=N streams JSON lines
//   {type, object} (objects with kind and apiVersion): first every event after
//   N, then live ones; BOOKMARK only if allowWatchBookmarks=true;
// - labelSelector (`k`, `!k`, `k=v`, `k==v`, `k!=v`, comma-joined) filters
//   lists and watches; on a watch, an object that stops matching arrives as
//   DELETED and one that starts matching as ADDED, as the watch cache does;
// - an event is serialized once and the same bytes written to every watch
//   it goes to, as the watch cache's caching objects do (watchBytes counts
//   them, per resource, for benchmarks);
// - a resourceVersion older than the compaction point is "too old": 410 Gone,
//   either as an ERROR event {code: 410} on a 200 stream, closed at once, or
//   as an HTTP 410 with a Status body (expire() chooses);
// - an expired or unknown continue token gets an HTTP 410 as well;
// - a client that accepts application/vnd.kubernetes.protobuf gets protobuf
//   (testkit/protoEncode.ts): lists, Status errors, and watches as
//   length-prefixed frames. A list holding an object the schema's types
//   cannot hold (a test's malformed one) is served as JSON instead, which a
//   client must read by the response's Content-Type anyway; a watch cannot
//   change its type midway, so such an object sent to a protobuf watch
//   throws. start({ protobuf: false }) serves JSON only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type ServerOptions as TlsOptions } from 'node:https';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { isProtobuf, JSON_TYPE, PROTOBUF } from '../runtime/sources/protoSchema.ts';
import { encodeList, encodeObject, encodeWatchFrame, lengthPrefixed, Unencodable } from './protoEncode.ts';

export const RESOURCES = {
  services: { path: '/api/v1/services', apiVersion: 'v1', kind: 'Service' },
  endpointslices: { path: '/apis/discovery.k8s.io/v1/endpointslices', apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  pods: { path: '/api/v1/pods', apiVersion: 'v1', kind: 'Pod' },
  namespaces: { path: '/api/v1/namespaces', apiVersion: 'v1', kind: 'Namespace' },
  networkpolicies: { path: '/apis/networking.k8s.io/v1/networkpolicies', apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  nodes: { path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node' },
} as const;
export type Resource = keyof typeof RESOURCES;
export const RESOURCE_NAMES = Object.keys(RESOURCES) as Resource[];

type Json = { [key: string]: unknown };
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One request as the server saw it. */
export interface SeenRequest {
  resource: Resource | undefined;
  watch: boolean;
  resourceVersion: string | undefined;
  labelSelector: string | undefined;
  limit: number | undefined;
  continue: string | undefined;
  allowWatchBookmarks: boolean;
  /** HTTP status answered (200 for a watch that started streaming). */
  status: number;
  /** Time it arrived (performance.now()). */
  at: number;
  /** Its Authorization header. */
  authorization: string | undefined;
  /** timeoutSeconds, as asked (this server does not end watches by it). */
  timeoutSeconds: string | undefined;
  /** The body was protobuf (else JSON). */
  protobuf: boolean;
}

interface Change { rv: number; type: EventType; object: unknown; old: unknown; lines?: Map<string, Uint8Array> }
interface Watcher { resource: Resource; res: ServerResponse; selector: Selector; bookmarks: boolean; protobuf: boolean }
type Selector = (labels: { [k: string]: unknown }) => boolean;
type Failure = { resource: Resource; verb: 'list' | 'watch'; status: number; left: number };

export class FakeApiServer {
  readonly url: string;
  readonly requests: SeenRequest[] = [];
  private readonly server: Server;
  private rv = 100;
  /** Writes at or before this resourceVersion are compacted away: a watch from there is too old. */
  private compacted = 0;
  private tooOldAs: 'event' | 'http' = 'event';
  private readonly objects = new Map<Resource, Map<string, unknown>>(RESOURCE_NAMES.map((r) => [r, new Map()]));
  private readonly history = new Map<Resource, Change[]>(RESOURCE_NAMES.map((r) => [r, []]));
  private readonly watchers = new Set<Watcher>();
  private readonly failures: Failure[] = [];
  private readonly damaged = new Map<Resource, () => void>();
  private readonly heldLists = new Map<Resource, Promise<void>>();
  private readonly pages = new Map<string, { items: unknown[]; rv: number }>();
  private hidden = 0; // > 0 while unseen() runs: changes reach history but no open watch
  private rawCount = 0;
  private readonly sent = new Map<Resource, number>(RESOURCE_NAMES.map((r) => [r, 0]));
  private readonly protobuf: boolean;

  private constructor(server: Server, scheme: string, protobuf: boolean) {
    this.server = server;
    this.protobuf = protobuf;
    this.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Plain HTTP, or HTTPS with these TLS options (a client certificate demanded if they say so); protobuf to clients that ask unless told not to. */
  static async start(tls?: TlsOptions, { protobuf = true }: { protobuf?: boolean } = {}): Promise<FakeApiServer> {
    let self: FakeApiServer | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => void self!.handle(req, res);
    const server = tls ? createTlsServer(tls, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    self = new FakeApiServer(server, tls ? 'https' : 'http', protobuf);
    return self;
  }

  /** Writes a kubeconfig file whose current context is this server (plain HTTP, a dummy token); returns its path. */
  writeKubeconfig(path: string): string {
    writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]\n` +
      'users: [{name: u, user: {token: t0k3n}}]\ncontexts: [{name: c, context: {cluster: fake, user: u}}]\ncurrent-context: c\n');
    return path;
  }

  /** Stops everything: open watches end, connections close. */
  async close(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- the cluster ----

  /** Creates or replaces an object (ADDED or MODIFIED); returns its new resourceVersion. */
  apply(resource: Resource, object: Json): string {
    const stored = structuredClone(object);
    const meta = (stored.metadata ??= {}) as Json;
    const key = keyOf(meta);
    const old = this.objects.get(resource)!.get(key);
    meta.resourceVersion = String(++this.rv);
    this.objects.get(resource)!.set(key, stored);
    this.record(resource, { rv: this.rv, type: old === undefined ? 'ADDED' : 'MODIFIED', object: stored, old });
    return meta.resourceVersion as string;
  }

  /** Deletes "ns/name" (or "name" for cluster-scoped kinds); the event carries the last state. */
  delete(resource: Resource, nsName: string): void {
    const key = nsName.includes('/') ? nsName : `/${nsName}`;
    const old = this.objects.get(resource)!.get(key);
    if (old === undefined) throw new Error(`fake apiserver: no ${resource} ${nsName}`);
    this.objects.get(resource)!.delete(key);
    const gone = structuredClone(old) as Json;
    (gone.metadata as Json).resourceVersion = String(++this.rv);
    this.record(resource, { rv: this.rv, type: 'DELETED', object: gone, old });
  }

  /** Serves a malformed item as is, in lists and as an ADDED event (no resourceVersion is written into it). */
  raw(resource: Resource, value: unknown): void {
    const key = `\u0000raw${++this.rawCount}`;
    this.objects.get(resource)!.set(key, value);
    this.record(resource, { rv: ++this.rv, type: 'ADDED', object: value, old: undefined });
  }

  /** Changes made in fn are stored and kept in history, but no open watch is told, as if its stream had stalled. */
  unseen(fn: () => void): void {
    this.hidden++;
    try {
      fn();
    } finally {
      this.hidden--;
    }
  }

  /** The stored objects of resource that match labelSelector, with kind and apiVersion, in list order. */
  current(resource: Resource, labelSelector = ''): unknown[] {
    const selector = parseSelector(labelSelector);
    return [...this.objects.get(resource)!.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o).filter((o) => selector(labelsOf(o))).map((o) => withKind(resource, structuredClone(o)));
  }

  /** The current resourceVersion, as a list would report it. */
  resourceVersion(): string {
    return String(this.rv);
  }

  // ---- ways to break ----

  /** Ends open watch streams cleanly (the client should resume from its resourceVersion), or resets their sockets. */
  dropWatches(resource?: Resource, how: 'end' | 'reset' = 'end'): number {
    let n = 0;
    for (const w of [...this.watchers]) {
      if (resource && w.resource !== resource) continue;
      this.watchers.delete(w);
      if (how === 'end') w.res.end();
      else w.res.socket?.resetAndDestroy();
      n++;
    }
    return n;
  }

  /**
   * Compacts history up to now: every resourceVersion seen so far becomes too
   * old to watch from. as 'event': open watches get an ERROR {code: 410} event
   * and close, and so does any later watch from an old version; as 'http':
   * open watches close, and a watch from an old version gets HTTP 410 Gone.
   * Continue tokens expire too.
   */
  expire(as: 'event' | 'http', resource?: Resource): void {
    this.compacted = this.rv;
    this.tooOldAs = as;
    this.pages.clear();
    for (const w of [...this.watchers]) {
      if (resource && w.resource !== resource) continue;
      this.watchers.delete(w);
      if (as === 'event') w.res.write(statusEvent(w.protobuf, gone(`too old resource version (compacted at ${this.compacted})`)));
      w.res.end();
    }
  }

  /** The next `count` lists or watches of resource get an HTTP error. */
  fail(resource: Resource, verb: 'list' | 'watch', status: number, count = 1): void {
    this.failures.push({ resource, verb, status, left: count });
  }

  /**
   * The next protobuf list of resource comes with its last item damaged (its
   * name's field tag says varint): the list's framing holds, and that item
   * alone does not decode. then() runs once it is written.
   */
  damageList(resource: Resource, then: () => void = () => {}): void {
    this.damaged.set(resource, then);
  }

  /** Lists of resource wait until the returned function is called. */
  holdLists(resource: Resource): () => void {
    let release!: () => void;
    this.heldLists.set(resource, new Promise<void>((r) => (release = r)));
    return () => {
      this.heldLists.delete(resource);
      release();
    };
  }

  /** Sends a BOOKMARK at the current resourceVersion to open watches that asked for them. */
  bookmark(resource?: Resource): void {
    for (const w of this.watchers) {
      if ((resource && w.resource !== resource) || !w.bookmarks) continue;
      const r = RESOURCES[w.resource];
      w.res.write(event(w, 'BOOKMARK', { kind: r.kind, apiVersion: r.apiVersion, metadata: { resourceVersion: String(this.rv) } }));
    }
  }

  /** Writes a line that is not JSON to open watches of resource (to a protobuf watch, a frame of it). */
  garbage(resource: Resource, text = '{"type": "ADDED", "object": {'): void {
    for (const w of this.watchers) if (w.resource === resource) w.res.write(w.protobuf ? lengthPrefixed(Buffer.from(text)) : `${text}\n`);
  }

  // ---- what the client did ----

  openWatches(resource?: Resource): number {
    return [...this.watchers].filter((w) => !resource || w.resource === resource).length;
  }

  lists(resource?: Resource): SeenRequest[] {
    return this.requests.filter((r) => !r.watch && (!resource || r.resource === resource));
  }

  watches(resource?: Resource): SeenRequest[] {
    return this.requests.filter((r) => r.watch && (!resource || r.resource === resource));
  }

  /** Bytes of events written to watches of resource (all of them, open or closed). */
  watchBytes(resource: Resource): number {
    return this.sent.get(resource)!;
  }

  // ---- protocol ----

  private record(resource: Resource, change: Change): void {
    this.history.get(resource)!.push(change);
    if (this.hidden > 0) return;
    for (const w of this.watchers) if (w.resource === resource) this.send(w, change);
  }

  /** Writes the event the watcher should see for this change under its selector, if any. */
  private send(w: Watcher, c: Change): void {
    const was = c.old !== undefined && w.selector(labelsOf(c.old));
    const is = c.type !== 'DELETED' && w.selector(labelsOf(c.object));
    const type: string | undefined = c.type === 'DELETED' ? (was ? 'DELETED' : undefined)
      : was && is ? 'MODIFIED' : is ? 'ADDED' : was ? 'DELETED' : undefined;
    if (!type) return;
    c.lines ??= new Map();
    const as = `${w.protobuf ? 'protobuf' : 'json'} ${type}`;
    let bytes = c.lines.get(as);
    if (!bytes) c.lines.set(as, bytes = event(w, type, withKind(w.resource, c.object)));
    w.res.write(bytes);
    this.sent.set(w.resource, this.sent.get(w.resource)! + bytes.length);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const q = url.searchParams;
    const resource = RESOURCE_NAMES.find((r) => RESOURCES[r].path === url.pathname);
    const seen: SeenRequest = {
      resource, watch: q.get('watch') === 'true' || q.get('watch') === '1',
      resourceVersion: q.get('resourceVersion') ?? undefined, labelSelector: q.get('labelSelector') ?? undefined,
      limit: q.has('limit') ? Number(q.get('limit')) : undefined, continue: q.get('continue') ?? undefined,
      allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true', status: 0, at: performance.now(),
      authorization: req.headers.authorization, timeoutSeconds: q.get('timeoutSeconds') ?? undefined,
      protobuf: this.protobuf && (req.headers.accept ?? '').split(',').some(isProtobuf),
    };
    this.requests.push(seen);
    const status = (code: number, message: string, reason: string) => {
      seen.status = code;
      const body = { status: 'Failure', message, reason, code };
      res.writeHead(code, { 'Content-Type': seen.protobuf ? PROTOBUF : JSON_TYPE });
      res.end(seen.protobuf ? encodeObject('v1', 'Status', body) : JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, ...body }));
    };
    if (req.method !== 'GET') return status(405, `${req.method} is not served here`, 'MethodNotAllowed');
    if (!resource) return status(404, `the server could not find the requested resource ${url.pathname}`, 'NotFound');
    let selector: Selector;
    try {
      selector = parseSelector(seen.labelSelector ?? '');
    } catch (e) {
      return status(400, `unable to parse requirement: ${(e as Error).message}`, 'BadRequest');
    }
    const failure = this.failures.find((f) => f.resource === resource && f.verb === (seen.watch ? 'watch' : 'list') && f.left > 0);
    if (failure) {
      failure.left--;
      return status(failure.status, `injected failure ${failure.status}`, 'InternalError');
    }
    if (!seen.watch) {
      await this.heldLists.get(resource);
      return this.list(resource, selector, seen, res, status);
    }
    const from = Number(seen.resourceVersion || this.rv);
    if (seen.resourceVersion && from < this.compacted) {
      const message = `too old resource version: ${from} (${this.compacted})`;
      if (this.tooOldAs === 'http') return status(410, message, 'Expired');
      seen.status = 200;
      res.writeHead(200, { 'Content-Type': watchType(seen.protobuf) });
      res.end(statusEvent(seen.protobuf, gone(message)));
      return;
    }
    seen.status = 200;
    res.writeHead(200, { 'Content-Type': watchType(seen.protobuf), 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { resource, res, selector, bookmarks: seen.allowWatchBookmarks, protobuf: seen.protobuf };
    for (const c of this.history.get(resource)!) if (c.rv > from) this.send(w, c);
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }

  private list(resource: Resource, selector: Selector, seen: SeenRequest, res: ServerResponse,
    status: (code: number, message: string, reason: string) => void): void {
    let page: { items: unknown[]; rv: number };
    if (seen.continue) {
      const p = this.pages.get(seen.continue);
      if (!p) return status(410, 'the provided continue parameter is too old', 'Expired');
      this.pages.delete(seen.continue);
      page = p;
    } else {
      const entries = [...this.objects.get(resource)!.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      page = { items: entries.map(([, o]) => o).filter((o) => selector(labelsOf(o))), rv: this.rv };
    }
    const n = seen.limit && seen.limit > 0 ? seen.limit : page.items.length;
    const metadata: Json = { resourceVersion: String(page.rv) };
    if (page.items.length > n) {
      const token = `page-${page.rv}-${Math.random().toString(36).slice(2)}`;
      this.pages.set(token, { items: page.items.slice(n), rv: page.rv });
      metadata.continue = token;
    }
    const r = RESOURCES[resource];
    // Items of a typed list carry no kind or apiVersion: the list has them.
    const items = page.items.slice(0, n).map(withoutKind);
    const proto = seen.protobuf ? protobufList(r, items, metadata) : undefined;
    const then = proto && items.length > 0 ? this.damaged.get(resource) : undefined;
    if (then) {
      this.damaged.delete(resource);
      damageLast(proto!, items.at(-1) as Json);
    }
    seen.status = 200;
    seen.protobuf = proto !== undefined;
    res.writeHead(200, { 'Content-Type': proto ? PROTOBUF : JSON_TYPE });
    res.end(proto ?? JSON.stringify({ kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata, items }), then);
  }
}

/** ObjectMeta.name (field 1) of the list's last item, written as a varint's tag (wire type 0) instead of a string's. */
function damageLast(list: Uint8Array, item: Json): void {
  const name = Buffer.from((item.metadata as { name: string }).name);
  const at = Buffer.from(list).lastIndexOf(Buffer.concat([Buffer.of(0x0a, name.length), name]));
  if (at < 0 || name.length > 127) throw new Error('damageLists: the last item\'s name is not where it is looked for');
  list[at] = 0x08;
}

function protobufList(r: { apiVersion: string; kind: string }, items: unknown[], metadata: Json): Uint8Array | undefined {
  try {
    return encodeList(r.apiVersion, r.kind, items, metadata.resourceVersion as string, metadata.continue as string | undefined);
  } catch (e) {
    if (e instanceof Unencodable) return undefined;
    throw e;
  }
}

function keyOf(meta: Json): string {
  if (typeof meta.name !== 'string' || meta.name === '') throw new Error('fake apiserver: objects need metadata.name (use raw() for malformed ones)');
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${meta.name}`;
}

function labelsOf(o: unknown): { [k: string]: unknown } {
  const labels = (o as { metadata?: { labels?: unknown } } | null)?.metadata?.labels;
  return labels !== null && typeof labels === 'object' ? (labels as { [k: string]: unknown }) : {};
}

function withKind(resource: Resource, o: unknown): unknown {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return o;
  return { kind: RESOURCES[resource].kind, apiVersion: RESOURCES[resource].apiVersion, ...o };
}

function withoutKind(o: unknown): unknown {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return o;
  const { kind: _k, apiVersion: _a, ...rest } = o as Json;
  return rest;
}

const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

const watchType = (protobuf: boolean) => (protobuf ? `${PROTOBUF};stream=watch` : JSON_TYPE);

/** A watch event as w reads them: a JSON line, or a protobuf frame (which cannot hold an object its schema's types cannot). */
function event(w: Watcher, type: string, object: unknown): Uint8Array {
  if (!w.protobuf) return Buffer.from(line(type, object));
  const o = object as { apiVersion?: unknown; kind?: unknown };
  if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string') throw new Unencodable(`a ${type} event's object has no apiVersion or kind: a protobuf watch cannot send it`);
  return encodeWatchFrame(type, o.apiVersion, o.kind, object);
}

const statusEvent = (protobuf: boolean, status: Json) => (protobuf ? encodeWatchFrame('ERROR', 'v1', 'Status', status) : line('ERROR', status));

const gone = (message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 });

/** Equality-based label selectors: "a", "!a", "a=b", "a==b", "a!=b", comma-joined (all must hold). */
export function parseSelector(text: string): Selector {
  const reqs = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((req): Selector => {
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([\w./-]+)$/.exec(req))) {
      const key = m[1];
      return (l) => !Object.hasOwn(l, key);
    }
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(req))) {
      const [, key, op, value] = m;
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    if ((m = /^([\w./-]+)$/.exec(req))) {
      const key = m[1];
      return (l) => Object.hasOwn(l, key);
    }
    throw new Error(`"${req}"`);
  });
  return (labels) => reqs.every((r) => r(labels));
}
