// After an update that removed backends (maps written): the node's host
// sockets still connected, or connecting, to one are destroyed
// (bpf/lib/stale.h), so their applications open new ones.
import type { Datapath } from '../bpf/loader.ts';
import { describeStaleSocks, type StaleSock } from '../bpf/staleRecords.ts';
import { sweepStaleSockets } from '../bpf/staleSockets.ts';
import type { DatapathArgs } from './datapathArgs.ts';

/** What a stale socket sweep did: the sockets it destroyed, or why it could not run. */
export type Sweep = { destroyed: StaleSock[] } | { error: string };

/** What the sweep needs of sl_sockrev: whether connect4 or sendmsg4 has recorded any socket. */
export interface SockRev { isEmpty(): boolean }

/**
 * Runs the sweep; nothing to do (undefined) without host services. A
 * failure is returned, not thrown: the maps are written. An empty sockrev
 * (the pinned sl_sockrev) means no socket was translated, so none can be
 * stale: the iterators are not run. They walk the kernel's socket tables
 * whole, most of a Service change's CPU on a node whose host sockets never
 * address a Service.
 */
export function sweepStale(dp: Pick<Datapath, 'iterators'>, a: Pick<DatapathArgs, 'hostServices' | 'netns'>, sockrev?: SockRev): Sweep | undefined {
  if (!a.hostServices) return undefined;
  if (dp.iterators.size === 0) return { error: 'this kernel has no bpf_sock_destroy (Linux 6.5)' };
  try {
    if (sockrev?.isEmpty()) return { destroyed: [] };
    return { destroyed: sweepStaleSockets(dp.iterators, a.netns) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * sl_sockrev's emptiness for an agent, which asks after every batch that
 * removed backends. The map answers by walking its buckets from the first
 * (GET_NEXT_KEY from none): all 65,536 of them when it is empty, about
 * 0.1 ms of kernel time at each Service change of issue 12's cluster. So
 * it is asked again only when a socket was recorded since it was last seen
 * empty: connect4 and sendmsg4 count each entry after writing it, and
 * recorded() (that count) is read before the walk, so an entry the walk
 * missed was counted after the read, and the next question walks again.
 */
export function sockRevSince(map: SockRev, recorded: () => number): SockRev {
  let emptyAt: number | undefined;
  return {
    isEmpty() {
      const n = recorded();
      if (n === emptyAt) return true;
      const empty = map.isEmpty();
      emptyAt = empty ? n : undefined;
      return empty;
    },
  };
}

export const sweepLine = (s: Sweep) => `stale sockets: ${'error' in s ? `not swept: ${s.error}` : describeStaleSocks(s.destroyed)}`;
