// Seals records as a forger without the key would: every boundary's event
// count and digest chain recomputed (chain.ts), macs left out. What such a
// log can still be caught by is the diffs' hashes, or a key.
import { Chain, unsealedJson } from '../../runtime/log/chain.ts';
import { frameJson } from '../../runtime/log/format.ts';

type Rec = { type: string; [k: string]: unknown };

/** The framed text of records (one file, header first), counts and chains made to fit. */
export function reseal(records: readonly object[]): string {
  const chain = new Chain();
  let events = 0;
  return records.map((r0) => {
    const r = { ...(r0 as Rec) };
    if (r.type === 'batch' || r.type === 'snapshot' || r.type === 'end') {
      if (r.type !== 'end') r.events = events;
      events = 0;
      delete r.mac;
      chain.add(unsealedJson(r));
      r.chain = chain.digest();
    } else {
      if (r.type !== 'header') events++;
      chain.add(JSON.stringify(r));
    }
    return frameJson(JSON.stringify(r));
  }).join('');
}
