// The dataplane on this node's kernel, through the same pieces `sluice apply`
// uses (programNode.ts): the datapath is loaded (maps pinned and reused) the first time the
// node's IP is known, and the programs are attached to the node's interfaces
// and to each local pod's veth as discovery finds them, and (host services)
// to the root cgroup once. Nothing here detaches: programs and pins outlive
// the agent, so the node keeps forwarding while it is away; a veth that is
// deleted takes its programs with it.
import { SL_STAT_SOCK_RECORDED } from '../abi/layouts.generated.ts';
import { loadDatapath, type Datapath } from '../bpf/loader.ts';
import { PinnedStore } from '../bpf/maps.ts';
import { inNetns } from '../bpf/netns.ts';
import type { NodeFacts } from '../encode/nodeFacts.ts';
import { statsOf } from '../view/state.ts';
import type { DatapathArgs } from './datapathArgs.ts';
import { datapathConfig } from './datapathConfig.ts';
import type { Dataplane, InterfaceReport } from './dataplane.ts';
import { hostServicesLine } from './hostServices.ts';
import { attachLine, chooseInterfaces, PROGRAMS_OF } from './interfaces.ts';
import { podnetImage, podnetLine, syncPodnet } from './podnet.ts';
import { sockRevSince, sweepStale, type SockRev } from './staleSweep.ts';

export function kernelDataplane(a: DatapathArgs & { node: string }): Dataplane {
  let dp: Datapath | undefined;
  let store: PinnedStore | undefined;
  let sockrev: SockRev | undefined; // the store's sl_sockrev, asked as sockRevSince asks it
  let nodeIp: string | undefined; // the one loaded into sl_config
  let committed = false;
  let hostServicesDone = false; // a failure is tried again at the next sync
  const attached = new Map<string, number>(); // ifname -> ifindex, attached (or found attached) by this agent

  return {
    get store() {
      return store;
    },

    prepare(facts: NodeFacts | undefined): string | undefined {
      if (store) return undefined;
      const ip = a.nodeIp ?? facts?.internalIp;
      if (!ip) return facts ? `Node ${a.node} has no IPv4 InternalIP: pass --node-ip` : `waiting for Node ${a.node}: its InternalIP configures the datapath (or pass --node-ip)`;
      const loaded = loadDatapath({ object: a.object, pinRoot: a.pinRoot, sizes: a.sizes, config: datapathConfig(ip, a), replaceMaps: a.replaceMaps });
      try {
        store = PinnedStore.open(a.pinRoot);
      } catch (e) {
        loaded.rollback();
        loaded.close();
        throw e;
      }
      dp = loaded;
      nodeIp = ip;
      const opened = store, map = opened.stateMap('sl_sockrev');
      sockrev = map && sockRevSince(map, () => socketsRecorded(opened));
      return undefined;
    },

    syncInterfaces(facts: NodeFacts | undefined): InterfaceReport {
      const report: InterfaceReport = { attached: [], dropped: [], skipped: [], failed: [] };
      if (!dp || !nodeIp) return report;
      if (!a.nodeIp && facts?.internalIp && facts.internalIp !== nodeIp) {
        report.skipped.push(`node: InternalIP is now ${facts.internalIp}; the datapath keeps ${nodeIp} as its SNAT source until the agent restarts`);
      }
      const choice = chooseInterfaces(facts, nodeIp, a);
      report.skipped.push(...choice.skipped);
      try {
        // before the programs: a new one finds its pods' interfaces there
        const s = syncPodnet(a.pinRoot, podnetImage(choice.podAddrs, facts?.peerPodCidrs ?? []));
        if (s.added + s.removed + s.changed > 0) report.podnet = podnetLine(s);
      } catch (e) {
        report.failed.push(`sl_podnet: ${(e as Error).message}`);
      }
      const chosen = [...choice.node.map((i) => ({ i, programs: PROGRAMS_OF.node })), ...choice.pod.map((i) => ({ i, programs: PROGRAMS_OF.pod }))];
      inNetns(a.netns, () => {
        for (const { i, programs } of chosen) {
          if (attached.get(i.ifname) === i.ifindex) continue;
          try {
            report.attached.push(attachLine(dp!, i, programs));
            attached.set(i.ifname, i.ifindex);
          } catch (e) {
            report.failed.push(`${i.ifname} (${i.why}): ${(e as Error).message}`);
          }
        }
      });
      if (!hostServicesDone) {
        try {
          report.hostServices = hostServicesLine(dp, a);
          hostServicesDone = true;
        } catch (e) {
          report.failed.push(`host services: ${(e as Error).message}`);
        }
      }
      const names = new Set(chosen.map((c) => c.i.ifname));
      for (const name of [...attached.keys()]) {
        if (names.has(name)) continue;
        attached.delete(name);
        report.dropped.push(name);
      }
      if (!committed) {
        dp.commit(); // the programs run on the new maps: pins replaced by --replace-maps can go
        committed = true;
      }
      return report;
    },

    sweepStaleSockets: () => (dp ? sweepStale(dp, a, sockrev) : undefined),

    capacity: (map) => store?.maxEntries(map),

    stats() {
      const m = store?.stateMap('sl_stats');
      return m && statsOf(m.entries());
    },

    close() {
      store?.close();
      dp?.close();
      store = undefined;
      sockrev = undefined;
      dp = undefined;
    },
  };
}

const RECORDED_KEY = new Uint8Array(Uint32Array.of(SL_STAT_SOCK_RECORDED).buffer);

/** SL_STAT_SOCK_RECORDED summed over CPUs; NaN (equal to nothing) without sl_stats. */
function socketsRecorded(store: PinnedStore): number {
  const value = store.stateMap('sl_stats')?.lookup(RECORDED_KEY);
  return value ? statsOf([[RECORDED_KEY, value]]).SL_STAT_SOCK_RECORDED.packets : NaN;
}
