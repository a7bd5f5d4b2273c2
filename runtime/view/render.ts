// One node's compile result as text: a table for people, the JSON contract
// for programs, or every map entry in hex with a hash for comparing runs.
// Deterministic: no timestamps, every list already sorted by its producer.
import { createHash } from 'node:crypto';
import { MAPS } from '../abi/layouts.generated.ts';
import type { MapStore } from '../maps/store.ts';
import type { Frontend, View } from './frontends.ts';

export const FORMATS = ['table', 'json', 'maps'] as const;
export type Format = (typeof FORMATS)[number];

export interface NodeResult {
  view: View;
  store: MapStore; // the maps the view was read from
  ignored: number; // input objects of kinds sluice does not read
}

export function render(format: Format, r: NodeResult): string {
  if (format === 'json') return JSON.stringify(r.view) + '\n';
  if (format === 'maps') return renderMaps(r.view.node, r.store);
  return renderTable(r);
}

const MAPS_BY_ID = [...MAPS].sort((a, b) => a.id - b.id);
const nodeLabel = (node: string | null) => node ?? '(none)';

export function renderTable({ view, ignored }: NodeResult): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const lines = [`node ${nodeLabel(view.node)}: ${count(view.frontends.length, 'frontend')}, ${count(view.rejected.length, 'rejection')}, ${count(view.notes.length, 'note')}`];
  lines.push(...aligned([['SERVICE', 'TYPE', 'FRONTEND', 'POLICY', 'BACKENDS', 'AFFINITY', 'SOURCE-RANGES'], ...view.frontends.map(tableRow)]));
  if (view.rejected.length > 0) {
    lines.push('', 'rejected:', ...view.rejected.map((r) => `  ${r.object}  ${r.field === '' ? '' : `${r.field}: `}${r.reason}`));
  }
  if (view.notes.length > 0) {
    lines.push('', 'notes:', ...view.notes.map((n) => `  ${n.object}  ${n.field === '' ? '' : `${n.field}: `}${n.note}`));
  }
  const maps = Object.entries(view.maps).map(([name, m]) => `${name} ${m.entries}`).join(', ');
  lines.push('', `map entries: ${maps}${ignored > 0 ? `; ${count(ignored, 'object')} of other kinds ignored` : ''}`);
  return lines.join('\n') + '\n';
}

function tableRow(f: Frontend): string[] {
  return [
    f.service,
    f.type,
    `${f.ip}:${f.port}/${f.protocol}`,
    f.trafficPolicy,
    f.backends.length === 0 ? 'none (rejects)' : f.backends.map((b) => `${b.ip}:${b.port}`).join(','),
    f.affinitySeconds === null ? '-' : `${f.affinitySeconds}s`,
    f.sourceRanges === null ? '-' : f.sourceRanges.join(','),
  ];
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
function aligned(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

/**
 * Every map in id order, entries in key order, then a sha256 over a canonical
 * stream: per map, u32le id, u32le entry count, then key and value of each
 * entry. The count keeps one map's entries from reading as the next map's id.
 */
export function renderMaps(node: string | null, store: MapStore): string {
  const hash = createHash('sha256');
  const lines = [`node ${nodeLabel(node)}`];
  for (const m of MAPS_BY_ID) {
    const entries = store.entries(m.name);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(m.id, 0);
    head.writeUInt32LE(entries.length, 4);
    hash.update(head);
    lines.push(`map ${m.name} (${entries.length} entries)`);
    for (const [k, v] of entries) {
      hash.update(k);
      hash.update(v);
      lines.push(`${hex(k)} ${hex(v)}`);
    }
  }
  lines.push(`sha256 ${hash.digest('hex')}`);
  return lines.join('\n') + '\n';
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
