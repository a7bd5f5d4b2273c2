// One pass over a node's datapath, as `sluice apply` does it: load the
// datapath object (maps pinned, reused when they fit), move the pinned maps
// to the compiled image with only the ops that differ, then attach the
// programs: tc programs to the node's and its pods' interfaces, cgroup
// programs (host services) to the root cgroup. Maps are filled before any
// program is attached, so a program never sees half of them; sl_ct is never
// written, so tracked connections survive a re-apply or an upgrade. When the
// maps lose backends, the node's own sockets stuck on them are destroyed
// next. A failure rolls the load back (pins it replaced come back) and
// throws; the agent's incremental counterpart is kernelDataplane.ts.
import { loadDatapath } from '../bpf/loader.ts';
import { PinnedStore } from '../bpf/maps.ts';
import { inNetns } from '../bpf/netns.ts';
import type { NodeFacts } from '../encode/nodeFacts.ts';
import { backendsRemoved, deleteCount, opCount, upsertCount } from '../maps/mapDiff.ts';
import { reconcile } from '../maps/reconcile.ts';
import type { MapStore } from '../maps/store.ts';
import { datapathConfig } from './datapathConfig.ts';
import type { DatapathArgs } from './datapathArgs.ts';
import { hostServicesLine } from './hostServices.ts';
import { attachLine, chooseInterfaces, PROGRAMS_OF } from './interfaces.ts';
import { podnetImage, podnetLine, syncPodnet } from './podnet.ts';
import { sweepLine, sweepStale } from './staleSweep.ts';

/** Programs the node to the compiled maps; returns what it did, one line per step. */
export function programNode(compiled: MapStore, facts: NodeFacts | undefined, nodeIp: string, a: DatapathArgs): string[] {
  const config = datapathConfig(nodeIp, a);
  // Which interfaces, before anything is loaded: a wrong --pod-ifaces fails with nothing changed.
  const choice = chooseInterfaces(facts, nodeIp, a);
  const dp = loadDatapath({ object: a.object, pinRoot: a.pinRoot, sizes: a.sizes, config, replaceMaps: a.replaceMaps });
  const lines: string[] = [];
  try {
    const store = PinnedStore.open(a.pinRoot);
    try {
      const diff = reconcile(store, compiled);
      const { syscalls } = store.apply(diff);
      const changed = diff.sections.map((s) => `${s.map.name} +${upsertCount(s)} -${deleteCount(s)}`);
      lines.push(changed.length === 0 ? 'maps: no change' : `maps: ${changed.join(', ')} (${opCount(diff)} ops, ${syscalls} syscalls)`);
      if (dp.replaced.length > 0) lines.push(`maps replaced (old pins dropped): ${dp.replaced.join(', ')}`);
      const swept = backendsRemoved(diff) > 0 ? sweepStale(dp, a, store.stateMap('sl_sockrev')) : undefined;
      if (swept) lines.push(sweepLine(swept));
    } finally {
      store.close();
    }
    lines.push(podnetLine(syncPodnet(a.pinRoot, podnetImage(choice.podAddrs, facts?.peerPodCidrs ?? []))));
    lines.push(...inNetns(a.netns, () => [
      ...choice.node.map((i) => attachLine(dp, i, PROGRAMS_OF.node)),
      ...choice.pod.map((i) => attachLine(dp, i, PROGRAMS_OF.pod)),
    ]));
    const host = hostServicesLine(dp, a);
    if (host) lines.push(host);
    dp.commit();
  } catch (e) {
    dp.rollback();
    throw e;
  } finally {
    dp.close();
  }
  for (const s of choice.skipped) lines.push(`skipped ${s}`);
  return lines;
}
