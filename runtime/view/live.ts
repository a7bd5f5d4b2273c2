// `sluice maps`: the compile view of live maps plus what only live maps have
// (counters and conntrack). The frontends and map dump come from the same
// code as `sluice compile`, so the two outputs compare with diff; the extra
// JSON keys ("stats", "conntrack") come after the compile keys.
import type { View } from './frontends.ts';
import { render, renderMaps, renderTable, type Format } from './render.ts';
import { tupleText, type Counter, type CtEntry } from './state.ts';
import type { MapStore } from '../maps/store.ts';

export interface LiveView extends View {
  stats: { [stat: string]: Counter };
  conntrack: CtEntry[];
}

export function renderLive(format: Format, view: LiveView, store: MapStore): string {
  if (format === 'json') return render('json', { view, store, ignored: 0 });
  if (format === 'maps') return renderMaps(view.node, store);
  const lines = [renderTable({ view, store, ignored: 0 }).trimEnd(), '', 'counters:'];
  const counters = Object.entries(view.stats).filter(([, c]) => c.packets > 0);
  lines.push(...(counters.length === 0 ? ['  none yet'] : counters.map(([name, c]) => `  ${name} ${c.packets} packets, ${c.bytes} bytes`)));
  lines.push('', `conntrack: ${view.conntrack.length} entr${view.conntrack.length === 1 ? 'y' : 'ies'}`);
  lines.push(...view.conntrack.map((e) => `  ${e.protocol} ${tupleText(e.tuple)} => ${tupleText(e.rewrite)}  ${e.state}` +
    `${e.flags.length ? ` ${e.flags.join(',')}` : ''}  ${e.secondsLeft > 0 ? `${e.secondsLeft}s left` : 'expired'}`));
  return lines.join('\n') + '\n';
}
