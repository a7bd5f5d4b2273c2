// Which corners a compile reached, read from its maps and problems (not from
// the compiler's internals): for the coverage counts of the compiler's
// metamorphic properties.
import * as A from '../../runtime/abi/layouts.generated.ts';
import { layoutOf, type MapStore } from '../../runtime/maps/store.ts';
import type { Problem } from '../../runtime/wasm/host.ts';
import { uintReader } from '../../runtime/abi/fieldReader.ts';

export const MAP_CLASSES = [
  'backend set without id (full bucket)', 'backends left out (full bucket)', 'terminating fallback',
  'terminating fallback in a Local set', 'over 128 backends',
] as const;
export type MapClass = (typeof MAP_CLASSES)[number];

export function mapClasses(store: MapStore, problems: Problem[]): Set<MapClass> {
  const out = new Set<MapClass>();
  if (problems.some((p) => /got no id/.test(p.reason))) out.add('backend set without id (full bucket)');
  if (problems.some((p) => /backends left out/.test(p.reason))) out.add('backends left out (full bucket)');
  const svc = layoutOf('sl_svc'), be = layoutOf('sl_be');
  const [svcSet, svcFlags, svcCount] = [uintReader(svc.value, 'bset'), uintReader(svc.value, 'flags'), uintReader(svc.value, 'count')];
  const [beSet, beFlags] = [uintReader(be.key, 'bset'), uintReader(be.value, 'flags')];
  const fallback = new Set(store.entries('sl_be').filter(([, v]) => beFlags(v) & A.SL_BE_TERMINATING).map(([k]) => beSet(k)));
  if (fallback.size > 0) out.add('terminating fallback');
  for (const [, v] of store.entries('sl_svc')) {
    if (svcFlags(v) & A.SL_SVC_LOCAL && fallback.has(svcSet(v))) out.add('terminating fallback in a Local set');
    if (svcCount(v) > 128) out.add('over 128 backends');
  }
  return out;
}
