// Host services: the cgroup programs that translate the node's own sockets
// at connect time (bpf/lib/sock.h), on the root cgroup.
import { attachSockPrograms, detachSockPrograms } from '../bpf/cgroup.ts';
import type { Datapath } from '../bpf/loader.ts';
import type { DatapathArgs } from './datapathArgs.ts';

/**
 * Attaches the cgroup programs (kept when already there); with
 * --no-host-services, detaches those an earlier apply left. Says what
 * happened, or nothing when there was nothing to do.
 */
export function hostServicesLine(dp: Datapath, a: Pick<DatapathArgs, 'pinRoot' | 'hostServices' | 'cgroupRoot'>): string | undefined {
  if (!a.hostServices) {
    const gone = detachSockPrograms(a.pinRoot);
    return gone.length > 0 ? `host services off: ${gone.join(', ')} detached` : undefined;
  }
  const { cgroup, done } = attachSockPrograms(a.pinRoot, dp.programs, a.cgroupRoot);
  return `host services (root cgroup ${cgroup}): ${done.join(', ')}`;
}
