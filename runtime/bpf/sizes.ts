// The command-line flag that sizes each map: the loader sets max_entries from
// it, and a full map's error names it. sl_svcname has one entry per backend
// set, and every backend set has a frontend in sl_svc, so --svc-max sizes both.
import type { MapName } from '../abi/layouts.generated.ts';

export const SIZE_FLAGS = {
  'svc-max': ['sl_svc', 'sl_svcname'],
  'be-max': ['sl_be'],
  'maglev-max': ['sl_maglev'],
  'srcrange-max': ['sl_srcrange'],
  'ct-max': ['sl_ct'],
  'affinity-max': ['sl_affinity'],
} as const satisfies { readonly [flag: string]: readonly MapName[] };

export type SizeFlag = keyof typeof SIZE_FLAGS;
export type Sizes = { readonly [flag in SizeFlag]?: number };

/** "--svc-max" for sl_svc; undefined for a map no flag sizes. */
export function sizeFlagOf(map: MapName): string | undefined {
  const hit = Object.entries(SIZE_FLAGS).find(([, maps]) => (maps as readonly string[]).includes(map));
  return hit && `--${hit[0]}`;
}

/** max_entries by map name, for the maps the given flags size. */
export function maxEntriesOf(sizes: Sizes): Map<MapName, number> {
  const out = new Map<MapName, number>();
  for (const [flag, n] of Object.entries(sizes)) {
    if (n !== undefined) for (const map of SIZE_FLAGS[flag as SizeFlag]) out.set(map, n);
  }
  return out;
}
