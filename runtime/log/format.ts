// The event log's records and their framing (the format is described at the
// top of eventLogWriter.ts). One record per line: the CRC32 of the JSON as 8
// hex digits, a space, the JSON, a newline. JSON.stringify never writes a raw
// newline, so every newline ends a record and a damaged one costs that record
// only; a last line without its newline or with a wrong CRC is a torn write.
import { crc32 } from 'node:zlib';
import type { KubeEvent } from '../sources/events.ts';
import type { Seal } from './chain.ts';

export const LOG_FORMAT = 'sluice-event-log';
/** A log directory's files: events-000000.log, events-000001.log, ... */
export const LOG_FILE = /^events-(\d+)\.log$/;
export const logFileName = (index: number) => `events-${String(index).padStart(6, '0')}.log`;
/** 2: objects hold only the fields the normalizer reads; boundaries are sealed by a digest chain (and a key's mac); a clean stop writes an end record. */
export const LOG_VERSION = 2;

export interface LogHeader {
  type: 'header';
  format: typeof LOG_FORMAT;
  version: number;
  /** The node whose maps were compiled. */
  node: string;
  /** The N of its name, events-N.log: a file renamed, or one missing between two, shows. */
  file: number;
  /** empty: the agent's compiler started from nothing here (a new process);
   * snapshot: a rotation, the current state follows as upserts and a snapshot. */
  start: 'empty' | 'snapshot';
  /** In a rotated file: the chain of the previous file's last boundary. */
  prev?: string;
}

/** Per map that the diff touches: upserts, deletes, and the first 16 hex digits
 * of the sha256 of its upsert keys, upsert values and delete keys. */
export type MapDigests = { [map: string]: [upserts: number, deletes: number, sha256: string] };

export interface BatchBoundary {
  type: 'batch';
  /** Counts the agent's batches from 1; a snapshot repeats the last one's number. */
  batch: number;
  /** Events recorded for the batch, so a reader can tell when one was lost. */
  events: number;
  ops: number;
  /** sha256 of the compiler's diff bytes (runtime/maps/mapDiff.ts), hex. */
  sha256: string;
  maps: MapDigests;
  /** When the batch was recorded, ISO 8601. */
  at?: string;
  /** The file's digest chain through this boundary, and with a key its mac (chain.ts). */
  chain: string;
  mac?: string;
}

/** Ends a rotated file's snapshot: the state after batch `batch`, as the whole
 * image (Compiler.rebuild) hashes; its objects came just before, as upserts. */
export interface SnapshotBoundary extends Omit<BatchBoundary, 'type'> {
  type: 'snapshot';
}

/** The last record of a file whose writer stopped cleanly (no crash, no lost write). */
export interface EndRecord extends Seal {
  type: 'end';
  /** The last batch the writer recorded. */
  batch: number;
}

export type LogRecord = LogHeader | KubeEvent | BatchBoundary | SnapshotBoundary | EndRecord;

/** What readLog yields: each record, where it was read, and warnings in their place. */
export type LogItem =
  | { type: 'header'; header: LogHeader; where: string }
  | { type: 'event'; event: KubeEvent; where: string }
  | { type: 'batch'; boundary: BatchBoundary | SnapshotBoundary; where: string }
  | { type: 'end'; end: EndRecord; where: string }
  /** incomplete: the log stops short (a torn last write, events without their boundary), nothing in it is wrong. */
  | { type: 'warning'; message: string; where: string; incomplete?: true };

/** One framed line, newline included. */
export function frame(record: LogRecord): string {
  return frameJson(JSON.stringify(record));
}

/** One framed line of a record's JSON text. */
export function frameJson(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The JSON text of a framed line (without its newline), or why it is not one. */
export function unframe(line: Buffer): { json: string } | { error: string } {
  if (line.length < 10 || line[8] !== 0x20) return { error: 'not a framed record' };
  const sum = Number.parseInt(line.toString('latin1', 0, 8), 16);
  const body = line.subarray(9);
  if (!/^[0-9a-f]{8}$/.test(line.toString('latin1', 0, 8)) || sum !== crc32(body)) return { error: 'checksum mismatch' };
  return { json: body.toString('utf8') };
}
