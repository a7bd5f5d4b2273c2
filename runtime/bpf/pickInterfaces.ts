// Which interfaces get which programs, from what the kernel says (links and
// routes) and what the cluster says (the node's addresses, its pods' IPs).
// Pure, so the rules are tested without a network.
import type { Link, Route } from './ifaces.ts';

export interface IfaceFlags {
  podIfaces?: readonly string[]; // --pod-ifaces: exactly these
  podIfacePrefix?: string; // --pod-iface-prefix: every interface whose name starts so
  nodeIfaces?: readonly string[]; // --node-ifaces: exactly these
}

export interface Chosen {
  ifname: string;
  ifindex: number;
  why: string; // "pod shop/web-1 10.244.1.11", "holds 192.168.50.10", "--pod-ifaces"
}

export interface Choice {
  pod: Chosen[]; // sorted by name
  node: Chosen[];
  skipped: string[]; // pods (or the node) left without an interface, and why
}

export interface Wanted {
  nodeAddresses: readonly string[];
  pods: readonly { pod: string; ip: string }[];
}

function named(links: readonly Link[], names: readonly string[], flag: string): Chosen[] {
  return names.map((n) => {
    const l = links.find((x) => x.ifname === n);
    if (!l) throw new Error(`${flag}: no interface named ${n}`);
    return { ifname: n, ifindex: l.ifindex, why: flag };
  });
}

const byName = (a: Chosen, b: Chosen) => (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : 0);

/**
 * Node interfaces hold one of the node's addresses. A pod's interface is the
 * device its IP is routed to directly (no gateway, not local, not a node
 * interface): the host side of its veth on routed CNIs.
 */
export function pickInterfaces(links: readonly Link[], routes: readonly Route[], want: Wanted, flags: IfaceFlags = {}): Choice {
  const skipped: string[] = [];
  const node = flags.nodeIfaces?.length
    ? named(links, flags.nodeIfaces, '--node-ifaces')
    : links.flatMap((l) => {
      const held = l.addresses.filter((a) => want.nodeAddresses.includes(a));
      return held.length > 0 && l.ifname !== 'lo' ? [{ ifname: l.ifname, ifindex: l.ifindex, why: `holds ${held.join(',')}` }] : [];
    });
  if (node.length === 0) {
    skipped.push(`node: no interface holds ${want.nodeAddresses.join(', ') || 'a node address'}; NodePorts and external clients are not served (pass --node-ifaces)`);
  }
  const nodeNames = new Set(node.map((n) => n.ifname));
  if (flags.podIfaces?.length) return { pod: named(links, flags.podIfaces, '--pod-ifaces').sort(byName), node: node.sort(byName), skipped };
  if (flags.podIfacePrefix) {
    const pod = links.filter((l) => l.ifname.startsWith(flags.podIfacePrefix!) && !nodeNames.has(l.ifname))
      .map((l) => ({ ifname: l.ifname, ifindex: l.ifindex, why: `--pod-iface-prefix ${flags.podIfacePrefix}` }));
    return { pod: pod.sort(byName), node: node.sort(byName), skipped };
  }
  const pods = new Map<string, Chosen>();
  for (const { pod, ip } of want.pods) {
    const r = routes.find((x) => x.dst === ip);
    const l = r && links.find((x) => x.ifname === r.dev);
    const problem = !r ? 'no route' : r.type ? `a ${r.type} route` : r.gateway ? `routed via ${r.gateway} on ${r.dev}`
      : nodeNames.has(r.dev) ? `routed to node interface ${r.dev}` : !l ? `routed to ${r.dev}, which has no index` : undefined;
    if (problem) {
      skipped.push(`pod ${pod} ${ip}: ${problem}; not a local pod interface`);
      continue;
    }
    const seen = pods.get(l!.ifname);
    if (seen) seen.why += `, ${pod} ${ip}`;
    else pods.set(l!.ifname, { ifname: l!.ifname, ifindex: l!.ifindex, why: `pod ${pod} ${ip}` });
  }
  return { pod: [...pods.values()].sort(byName), node: node.sort(byName), skipped };
}
