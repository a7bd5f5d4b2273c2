// Reads event log files in the order given. Whatever does not read as
// written is a warning in its place: a damaged record (skipped), a boundary
// whose event count or digest chain does not match what came before it
// (a record changed, added, removed, duplicated or moved), a file whose
// header names another index than its name, or that does not follow the
// file before it (one missing, renumbered, or from another run). A last line
// torn by a crash is a warning marked incomplete: the log stops short there,
// nothing in it is wrong. Only a file that is not a sluice event log at all,
// or of a version this build cannot read, stops the reading.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { KubeEvent } from '../sources/events.ts';
import { Chain, unsealedJson } from './chain.ts';
import { LOG_FILE, LOG_FORMAT, LOG_VERSION, logFileName, unframe, type BatchBoundary, type EndRecord, type LogHeader, type LogItem, type SnapshotBoundary } from './format.ts';

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

/** What one file ended with, for the next to be checked against. */
interface FileEnd { path: string; header: LogHeader | undefined; chain: string | undefined; clean: boolean; torn: boolean }

export function* readLog(paths: readonly string[]): Generator<LogItem> {
  let before: FileEnd | undefined;
  for (const path of paths) {
    const end: FileEnd = { path, header: undefined, chain: undefined, clean: false, torn: false };
    for (const item of readFile(path, end)) {
      yield item;
      if (item.type === 'header') yield* follows(item.header, item.where, before);
    }
    before = end;
  }
}

/** The N of a path named events-N.log. */
const indexOfName = (path: string) => {
  const m = LOG_FILE.exec(basename(path));
  return m ? Number(m[1]) : undefined;
};

/** Warnings when header does not continue the file read before it. */
function* follows(h: LogHeader, where: string, before: FileEnd | undefined): Generator<LogItem> {
  const named = indexOfName(where.slice(0, where.lastIndexOf(':')));
  if (named !== undefined && named !== h.file) yield { type: 'warning', where, message: `the header says file ${h.file} (${logFileName(h.file)}): renamed, or moved from another log` };
  if (!before) return;
  const b = before.header?.file ?? indexOfName(before.path); // an empty file (a writer that died at once) has only its name
  if (b !== undefined && h.file !== b + 1) {
    const gap = h.file > b + 1 ? `${h.file - b - 1} file(s) missing after ${before.path} (${logFileName(b + 1)}${h.file > b + 2 ? ` to ${logFileName(h.file - 1)}` : ''})` : `out of order after ${before.path} (file ${b})`;
    yield { type: 'warning', where, message: `file ${h.file}: ${gap}` };
  } else if (h.start === 'snapshot' && (!before.header || before.clean || h.prev !== before.chain)) {
    yield { type: 'warning', where, message: `a rotated file that does not continue ${before.path} (${!before.header ? 'which has no header' : before.clean ? 'which ended cleanly' : 'whose chain differs'})` };
  } else if (h.start === 'empty' && before.header && !before.clean && !before.torn) {
    yield { type: 'warning', where, incomplete: true, message: `${before.path} ends without a clean-shutdown marker: that agent crashed or was killed; a new one starts here` };
  }
}

function* readFile(path: string, end: FileEnd): Generator<LogItem> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new LogError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const lines = splitLines(buf);
  if (lines.length === 0) {
    yield { type: 'warning', incomplete: true, message: 'empty file (a writer that stopped before its first line)', where: path };
    return;
  }
  const chain = new Chain();
  let events = 0; // since the last boundary
  let broken = false; // a warning was given in this file: the chain cannot match after it, so it says nothing more
  for (const [i, { line, torn }] of lines.entries()) {
    const where = `${path}:${i + 1}`;
    const last = i === lines.length - 1;
    const parsed = torn ? { error: 'no newline' } : unframe(line);
    if ('error' in parsed) {
      broken = true;
      if (i === 0 && !last) throw new LogError(`${path} is not a sluice event log (line 1: ${parsed.error})`);
      end.torn = last;
      yield last
        ? { type: 'warning', where, incomplete: true, message: `torn record at the end of the file (${parsed.error}; a crash while writing?), skipped` }
        : { type: 'warning', where, message: `${parsed.error}: damaged record skipped` };
      continue;
    }
    const record = parseObject(parsed.json);
    if (!record) {
      broken = true;
      if (i === 0) throw new LogError(`${path} is not a sluice event log (line 1 is not a JSON object)`);
      yield { type: 'warning', where, message: 'not a JSON object, record skipped' };
      continue;
    }
    if (i === 0) {
      end.header = checkHeader(path, record);
      chain.add(parsed.json);
      yield { type: 'header', header: end.header, where };
      continue;
    }
    if (end.clean) yield { type: 'warning', where, message: 'a record after the end record' };
    const item = itemOf(record, where);
    if (item.type === 'warning') broken = true;
    if (item.type === 'event') {
      events++;
      chain.add(parsed.json);
    }
    if (item.type === 'batch' || item.type === 'end') {
      chain.add(unsealedJson(record));
      const sealed = item.type === 'batch' ? item.boundary : item.end;
      const label = item.type === 'batch' ? `${item.boundary.type} ${item.boundary.batch}` : 'the end record';
      if (item.type === 'batch' && item.boundary.events !== events) {
        const why = events < item.boundary.events ? ' (a damaged record was skipped)' : ' (one added or duplicated)';
        yield { type: 'warning', where, message: `${label}: ${item.boundary.events} events recorded, ${events} read${why}` };
        broken = true;
      } else if (!broken && sealed.chain !== chain.digest()) {
        yield { type: 'warning', where, message: `${label}: the digest chain breaks: a record before it was changed, added, removed or moved` };
        broken = true;
      }
      end.chain = sealed.chain;
      end.clean = item.type === 'end';
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
  if (typeof h.node !== 'string' || !Number.isInteger(h.file) || (h.start !== 'empty' && h.start !== 'snapshot') || (h.prev !== undefined && typeof h.prev !== 'string')) {
    throw new LogError(`${path}: malformed header`);
  }
  return h;
}

const isSeal = (r: { chain?: unknown; mac?: unknown }) => typeof r.chain === 'string' && (r.mac === undefined || typeof r.mac === 'string');

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
      const ok = [b.batch, b.events, b.ops].every(Number.isInteger) && typeof b.sha256 === 'string' && b.maps !== null && typeof b.maps === 'object' && isSeal(b);
      return ok ? { type: 'batch', boundary: b, where } : skip(`malformed ${r.type} boundary`);
    }
    case 'end': {
      const e = r as EndRecord;
      return Number.isInteger(e.batch) && isSeal(e) ? { type: 'end', end: e, where } : skip('malformed end record');
    }
    case 'header':
      return skip('a header inside a file');
    default:
      return skip(`unknown record type ${JSON.stringify(r.type)}`);
  }
}
