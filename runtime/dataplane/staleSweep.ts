// After an update that removed backends (maps written): the node's host
// sockets still connected, or connecting, to one are destroyed
// (bpf/lib/stale.h), so their applications open new ones.
import type { Datapath } from '../bpf/loader.ts';
import { describeStaleSocks, type StaleSock } from '../bpf/staleRecords.ts';
import { sweepStaleSockets } from '../bpf/staleSockets.ts';
import type { DatapathArgs } from './datapathArgs.ts';

/** What a stale socket sweep did: the sockets it destroyed, or why it could not run. */
export type Sweep = { destroyed: StaleSock[] } | { error: string };

/**
 * Runs the sweep; nothing to do (undefined) without host services. A
 * failure is returned, not thrown: the maps are written.
 */
export function sweepStale(dp: Datapath, a: Pick<DatapathArgs, 'hostServices' | 'netns'>): Sweep | undefined {
  if (!a.hostServices) return undefined;
  if (dp.iterators.size === 0) return { error: 'this kernel has no bpf_sock_destroy (Linux 6.5)' };
  try {
    return { destroyed: sweepStaleSockets(dp.iterators, a.netns) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export const sweepLine = (s: Sweep) => `stale sockets: ${'error' in s ? `not swept: ${s.error}` : describeStaleSocks(s.destroyed)}`;
