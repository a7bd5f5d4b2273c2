// Reads event log files in the order given. A damaged record (a torn last
// line after a crash, a checksum mismatch) is skipped with a warning in its
// place; only a file that is not a sluice event log at all, or of a version
// this build cannot read, stops the reading.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeEvent } from '../sources/events.ts';
import { LOG_FILE, LOG_FORMAT, LOG_VERSION, unframe, type BatchBoundary, type LogHeader, type LogItem, type SnapshotBoundary } from './format.ts';

export class LogError extends Error {}

/** A directory stands for its events-N.log files, in writing order. */
export function logFiles(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      return [p]; // reading it will say what is wrong
    }
    const numbered = dir ? readdirSync(p).flatMap((f) => { const m = LOG_FILE.exec(f); return m ? [{ f, n: Number(m[1]) }] : []; }) : [];
    return dir ? numbered.sort((a, b) => a.n - b.n).map(({ f }) => join(p, f)) : [p];
  });
}

export function* readLog(paths: readonly string[]): Generator<LogItem> {
  for (const path of paths) yield* readFile(path);
}

function* readFile(path: string): Generator<LogItem> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new LogError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const lines = splitLines(buf);
  if (lines.length === 0) {
    yield { type: 'warning', message: 'empty file (a writer that stopped before its first line)', where: path };
    return;
  }
  let events = 0; // since the last boundary
  for (const [i, { line, torn }] of lines.entries()) {
    const where = `${path}:${i + 1}`;
    const last = i === lines.length - 1;
    const parsed = torn ? { error: 'no newline' } : unframe(line);
    if ('error' in parsed) {
      if (i === 0 && !last) throw new LogError(`${path} is not a sluice event log (line 1: ${parsed.error})`);
      yield { type: 'warning', where, message: last ? `torn record at the end of the file (${parsed.error}; a crash while writing?), skipped` : `${parsed.error}: damaged record skipped` };
      continue;
    }
    const record = parseObject(parsed.json);
    if (!record) {
      if (i === 0) throw new LogError(`${path} is not a sluice event log (line 1 is not a JSON object)`);
      yield { type: 'warning', where, message: 'not a JSON object, record skipped' };
      continue;
    }
    if (i === 0) {
      yield { type: 'header', header: checkHeader(path, record), where };
      continue;
    }
    const item = itemOf(record, where);
    if (item.type === 'event') events++;
    if (item.type === 'batch') {
      if (item.boundary.events !== events) {
        const why = events < item.boundary.events ? ' (a damaged record was skipped)' : '';
        yield { type: 'warning', where, message: `${item.boundary.type} ${item.boundary.batch}: ${item.boundary.events} events recorded, ${events} read${why}` };
      }
      events = 0;
    }
    yield item;
  }
}

function parseObject(json: string): { type?: unknown } | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Lines without their newline; a last line without one is torn. */
function splitLines(buf: Buffer): { line: Buffer; torn: boolean }[] {
  const out: { line: Buffer; torn: boolean }[] = [];
  for (let at = 0; at < buf.length;) {
    const nl = buf.indexOf(0x0a, at);
    out.push({ line: buf.subarray(at, nl < 0 ? buf.length : nl), torn: nl < 0 });
    at = nl < 0 ? buf.length : nl + 1;
  }
  return out;
}

function checkHeader(path: string, r: { type?: unknown; format?: unknown; version?: unknown }): LogHeader {
  if (r.type !== 'header' || r.format !== LOG_FORMAT) throw new LogError(`${path} is not a sluice event log (no header)`);
  if (r.version !== LOG_VERSION) throw new LogError(`${path} is event log version ${String(r.version)}; this build reads version ${LOG_VERSION}`);
  const h = r as LogHeader;
  if (typeof h.node !== 'string' || !Number.isInteger(h.file) || (h.start !== 'empty' && h.start !== 'snapshot')) {
    throw new LogError(`${path}: malformed header`);
  }
  return h;
}

function itemOf(r: { type?: unknown }, where: string): LogItem {
  const skip = (why: string): LogItem => ({ type: 'warning', where, message: `${why}, record skipped` });
  switch (r.type) {
    case 'synced':
      return { type: 'event', event: { type: 'synced' }, where };
    case 'upsert':
    case 'delete': {
      const o = (r as { object?: unknown }).object as { kind?: unknown; apiVersion?: unknown; metadata?: unknown } | null;
      const ok = o !== null && typeof o === 'object' && typeof o.kind === 'string' && typeof o.apiVersion === 'string' &&
        o.metadata !== null && typeof o.metadata === 'object';
      return ok ? { type: 'event', event: r as KubeEvent, where } : skip(`${r.type} without an object with apiVersion, kind and metadata`);
    }
    case 'batch':
    case 'snapshot': {
      const b = r as BatchBoundary | SnapshotBoundary;
      const ok = [b.batch, b.events, b.ops].every(Number.isInteger) && typeof b.sha256 === 'string' && b.maps !== null && typeof b.maps === 'object';
      return ok ? { type: 'batch', boundary: b, where } : skip(`malformed ${r.type} boundary`);
    }
    case 'header':
      return skip('a header inside a file');
    default:
      return skip(`unknown record type ${JSON.stringify(r.type)}`);
  }
}
