// What the loader needs to know about one node from the normalized records:
// its addresses (the config's node IP, the interfaces to attach to), the
// IPs of the pods it runs (whose host-side interfaces get the pod programs),
// and where the other nodes' pods are (their podCIDRs, for sl_podnet).
import * as R from '../../compiler/abi/records.ts';
import { formatCidr, formatIp } from './ip.ts';
import type { Upsert } from './schema.ts';

export interface NodeFacts {
  internalIp: string | undefined; // the first InternalIP, IPv4
  addresses: string[]; // InternalIP and ExternalIP, IPv4, as listed
  pods: { pod: string; ip: string }[]; // running here, not hostNetwork, not finished; by pod name
  peerPodCidrs: string[]; // the other Nodes' podCIDRs, IPv4, as listed, by Node
}

/** undefined when the records hold no Node of that name. */
export function nodeFacts(records: readonly Upsert[], node: string): NodeFacts | undefined {
  let facts: NodeFacts | undefined;
  const pods: NodeFacts['pods'] = [], peerPodCidrs: string[] = [];
  for (const r of records) {
    if (r.kind === R.KIND_NODE && r.name !== node) {
      peerPodCidrs.push(...r.body.podCIDRs.filter((c) => c.ip.family === 4).map(formatCidr));
    } else if (r.kind === R.KIND_NODE) {
      const v4 = r.body.addresses.filter((a) => a.ip.family === 4);
      facts = {
        internalIp: v4.find((a) => a.type === R.NODE_ADDR_INTERNAL) && formatIp(v4.find((a) => a.type === R.NODE_ADDR_INTERNAL)!.ip),
        addresses: v4.map((a) => formatIp(a.ip)),
        pods,
        peerPodCidrs,
      };
    } else if (r.kind === R.KIND_POD && r.body.nodeName === node && !(r.body.flags & (R.PODF_HOST_NETWORK | R.PODF_TERMINAL))) {
      for (const ip of r.body.podIPs) if (ip.family === 4) pods.push({ pod: `${r.namespace}/${r.name}`, ip: formatIp(ip) });
    }
  }
  return facts;
}
