// sluice maps: the live pinned maps through the compile command's views, plus
// the datapath's counters and conntrack. `sluice maps --format json` and
// `sluice compile --format json` give the same "frontends" for a node whose
// maps are in sync; `--format maps` gives the same sha256.
import { DEFAULT_PIN_ROOT, pinRootExists } from '../bpf/bpffs.ts';
import { PinnedStore } from '../bpf/maps.ts';
import { viewOf } from '../view/frontends.ts';
import { renderLive, type LiveView } from '../view/live.ts';
import { FORMATS, type Format } from '../view/render.ts';
import { conntrackOf, statsOf } from '../view/state.ts';
import { failed, parse, PIN_ROOT_USAGE } from './bpfArgs.ts';
import { UsageError, type Io } from './io.ts';

export const MAPS_USAGE = `usage: sluice maps [--pin-root DIR] [--format table|json|maps] [--node NAME]

Prints the live pinned maps the way \`sluice compile\` prints compiled ones,
plus the datapath's counters (sl_stats, summed over CPUs) and its conntrack
table (sl_ct: tuple => rewritten tuple, state, flags, seconds left).

${PIN_ROOT_USAGE}
  --format FORMAT  table (default); json: the compile JSON with "stats" and
                   "conntrack" added; maps: every entry in hex and a sha256,
                   equal to \`sluice compile --format maps\` when in sync
  --node NAME      the node name to print (the maps do not record it)
  -h, --help       print this text

Exit status: 0, 1 when the maps cannot be read (one line says why), 2 usage error.
`;

export function mapsCommand(args: readonly string[], io: Io): number {
  const p = parse(args, { 'pin-root': { type: 'string' }, format: { type: 'string' }, node: { type: 'string' } });
  if (!p) {
    io.out(MAPS_USAGE);
    return 0;
  }
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
  const format = (p.values.format as string | undefined) ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${format}"`);
  const root = (p.values['pin-root'] as string | undefined) ?? DEFAULT_PIN_ROOT;
  try {
    if (!pinRootExists(root)) throw new Error(`no maps pinned at ${root}: run \`sluice apply\` first (or check --pin-root)`);
    const store = PinnedStore.open(root);
    try {
      const now = process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns()
      const view: LiveView = {
        ...viewOf(store, { node: (p.values.node as string | undefined) ?? null, rejected: [], notes: [] }),
        stats: statsOf(store.stateMap('sl_stats')?.entries() ?? []),
        conntrack: conntrackOf(store.stateMap('sl_ct')?.entries() ?? [], now),
      };
      io.out(renderLive(format as Format, view, store));
    } finally {
      store.close();
    }
    return 0;
  } catch (e) {
    return failed('maps', e, io, false);
  }
}
