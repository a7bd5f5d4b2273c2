// Which interfaces get which programs, from what the kernel says (links and
// routes) and what the cluster says (the node's addresses, its pods' IPs).
// Pure, so the rules are tested without a network.
import type { Link, Route } from '../bpf/ifaces.ts';

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

/** A local pod whose IP the node routes straight to one of the chosen pod interfaces (sl_podnet's /32 entries). */
export interface PodAddr { ip: string; ifindex: number }

export interface Choice {
  pod: Chosen[]; // sorted by name
  node: Chosen[];
  podAddrs: PodAddr[]; // by pod, as wanted
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

/** The pods routed straight (no gateway, not local) to one of the pod interfaces. */
function podAddrsOf(pod: readonly Chosen[], routes: readonly Route[], want: Wanted): PodAddr[] {
  const byIf = new Map(pod.map((c) => [c.ifname, c.ifindex]));
  return want.pods.flatMap(({ ip }) => {
    const r = routes.find((x) => x.dst === ip);
    return r && !r.type && !r.gateway && byIf.has(r.dev) ? [{ ip, ifindex: byIf.get(r.dev)! }] : [];
  });
}

/**
 * Node interfaces hold one of the node's addresses. A pod's interface is the
 * device its IP is routed to directly (no gateway, not local, not a node
 * interface): the host side of its veth on routed CNIs. Pods routed to one
 * of the pod interfaces so (whichever way those were chosen) are podAddrs.
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
  const choice = (pod: Chosen[]): Choice => ({ pod: pod.sort(byName), node: node.sort(byName), podAddrs: podAddrsOf(pod, routes, want), skipped });
  if (flags.podIfaces?.length) return choice(named(links, flags.podIfaces, '--pod-ifaces'));
  if (flags.podIfacePrefix) {
    return choice(links.filter((l) => l.ifname.startsWith(flags.podIfacePrefix!) && !nodeNames.has(l.ifname))
      .map((l) => ({ ifname: l.ifname, ifindex: l.ifindex, why: `--pod-iface-prefix ${flags.podIfacePrefix}` })));
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
  return choice([...pods.values()]);
}
