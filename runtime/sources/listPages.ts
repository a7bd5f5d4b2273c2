// A collection listed page by page (as client-go pages it: 500 a page), in
// protobuf where asked for and served (protoDecode.ts), else JSON, one GET
// per page over one snapshot (the first page's resourceVersion). Pages are
// handed on as they come, so a caller that passes each page's objects on
// keeps only a page of raw objects alive at a time, never the whole list
// (10,000 pods are 40 MB of JSON); of a protobuf page, only one object, as
// its items are decoded when they are read.
import type { IncomingMessage } from 'node:http';
import { apiGet, timeoutError } from './apiGet.ts';
import type { ApiAccess } from './kubeConfig.ts';
import { decodeList, statusMessage as protoStatusMessage } from './protoDecode.ts';
import { isProtobuf } from './protoSchema.ts';
import type { WatchedKind } from './watchedKinds.ts';

/** A page; a protobuf page's items are decoded as they are read, until the next page is asked for, and a damaged one throws there, named as the page's errors are. */
export interface Page { resourceVersion: string; continue: string | undefined; items: Iterable<unknown> }

/** Every page of the collection; an HTTP error throws with statusCode set (an expired continue token's 410 included). */
export async function* listPages(access: ApiAccess, spec: WatchedKind, limit: number, signal: AbortSignal, pageTimeoutMs: number, accept?: string): AsyncGenerator<Page> {
  const body = new PageBody();
  let next: string | undefined;
  do {
    const page = await withTimeout(pageTimeoutMs, (timedOut) => listPage(access, spec, limit, next, AbortSignal.any([signal, timedOut]), body, accept));
    yield page;
    next = page.continue;
  } while (next);
}

/**
 * Runs f with a signal that aborts after ms, a timer cleared when f settles.
 * Not AbortSignal.timeout, which cannot be cleared: a sync's 20-odd pages
 * each fired theirs a minute later, some 10 ms of CPU at once in the middle
 * of the agent's changes.
 */
async function withTimeout<T>(ms: number, f: (timedOut: AbortSignal) => Promise<T>): Promise<T> {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(timeoutError()), ms);
  try {
    return await f(c.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function listPage(access: ApiAccess, spec: WatchedKind, limit: number, cont: string | undefined, signal: AbortSignal, pageBody: PageBody, accept?: string): Promise<Page> {
  const query: { [k: string]: string } = {};
  if (spec.labelSelector) query.labelSelector = spec.labelSelector;
  if (limit > 0) query.limit = String(limit);
  if (cont) query.continue = cont;
  const res = await apiGet(access, spec.path, query, signal, accept);
  const body = await pageBody.read(res);
  const where = `list ${spec.path}`;
  const proto = isProtobuf(res.headers['content-type']);
  if (res.statusCode !== 200) {
    const message = proto ? protoStatusMessage(body) : jsonStatusMessage(body.toString());
    throw Object.assign(new Error(`${where}: HTTP ${res.statusCode}${message === undefined ? '' : `: ${message}`}`), { statusCode: res.statusCode });
  }
  try {
    return proto ? protoPage(body, spec, where, pageBody) : jsonPage(body.toString());
  } catch (e) {
    throw named(where, e);
  }
}

/**
 * The bytes of each page in turn, in one buffer that every page reuses
 * (grown to the largest): a sync reads some 24 MB of pages, and a buffer of
 * its own for each page was as much new memory again to fault in and
 * collect. So a page's protobuf items are read only until the next page is
 * asked for; after that they throw. Chunks are copied in as 'data' events
 * bring them, with no promise per 64 KiB chunk as an async iterator makes.
 */
class PageBody {
  private buf = Buffer.alloc(0);
  /** The page read last: only its items may be read. */
  page = 0;

  read(res: IncomingMessage): Promise<Buffer> {
    this.page++;
    return new Promise((resolve, reject) => {
      let length = 0, ended = false;
      res.on('data', (chunk: Buffer) => {
        if (length + chunk.length > this.buf.length) {
          const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, length + chunk.length));
          grown.set(this.buf.subarray(0, length));
          this.buf = grown;
        }
        this.buf.set(chunk, length);
        length += chunk.length;
      });
      res.on('end', () => {
        ended = true;
        resolve(this.buf.subarray(0, length));
      });
      res.on('error', reject);
      res.on('close', () => ended || reject(res.errored ?? new Error('the response ended before its body did')));
    });
  }
}

const named = (where: string, e: unknown) => new Error(`${where}: ${(e as Error).message}`, { cause: e });

function protoPage(body: Uint8Array, spec: WatchedKind, where: string, pageBody: PageBody): Page {
  const list = decodeList(body);
  if (list.kind !== spec.kind) throw new Error(`a list of ${list.kind}, not ${spec.kind}`);
  return { resourceVersion: list.resourceVersion, continue: list.continue, items: namedItems(list.items, where, pageBody, pageBody.page) };
}

// page is the item's page, taken as the page is made: a generator's body runs only when it is first read.
function* namedItems(items: Iterable<unknown>, where: string, pageBody: PageBody, page: number): Generator<unknown> {
  const it = items[Symbol.iterator]();
  try {
    for (;;) {
      if (pageBody.page !== page) throw new Error('an item read after the next page was asked for: its bytes are gone');
      const r = it.next();
      if (r.done) return;
      yield r.value;
    }
  } catch (e) {
    throw named(where, e);
  }
}

function jsonPage(raw: string): Page {
  const body = JSON.parse(raw) as { metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown } | null;
  if (body === null || typeof body !== 'object') throw new Error('the response is not an object');
  if (body.items !== undefined && body.items !== null && !Array.isArray(body.items)) throw new Error('items is not a list');
  const meta = body.metadata ?? {};
  return {
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
    continue: typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined,
    items: (body.items as unknown[] | null | undefined) ?? [],
  };
}

function jsonStatusMessage(text: string): string | undefined {
  try {
    const s = JSON.parse(text) as { message?: unknown };
    return typeof s.message === 'string' ? s.message : undefined;
  } catch {
    return undefined;
  }
}
