// The kernel's view of this node's interfaces, through iproute2's JSON
// output: `ip -j addr` for the interfaces and their addresses, and one
// `ip -j -batch -` process of `route get` lines for where pod IPs are routed.
// iproute2 rather than netlink through koffi: the same answers (policy
// routing included, since the kernel resolves `route get`), one process for
// any number of pods, and no netlink message code of our own.
import { execFileSync, spawnSync } from 'node:child_process';

export interface Link {
  ifindex: number;
  ifname: string;
  addresses: string[]; // IPv4, dotted
}

export interface Route {
  dst: string;
  dev: string;
  gateway?: string;
  type?: string; // "local", "unreachable", ...; absent for unicast
}

function ip(args: string[], input?: string): string {
  const r = spawnSync('ip', args, { input, encoding: 'utf8' });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message} (is iproute2 installed?)`);
  if (r.status !== 0 && input === undefined) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function readLinks(): Link[] {
  const parsed = JSON.parse(ip(['-j', 'addr', 'show'])) as { ifindex: number; ifname: string; addr_info?: { family: string; local: string }[] }[];
  return parsed.map((l) => ({
    ifindex: l.ifindex, ifname: l.ifname,
    addresses: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local),
  }));
}

/** The route the kernel picks for each address; unroutable ones are left out. */
export function routesTo(ips: readonly string[]): Route[] {
  if (ips.length === 0) return [];
  // -force: an unroutable address fails its line, not the batch; results are matched by dst.
  const out = ip(['-j', '-force', '-batch', '-'], ips.map((a) => `route get ${a}\n`).join(''));
  return out.split('\n').filter((l) => l.startsWith('[')).flatMap((l) => JSON.parse(l) as Route[]);
}

/** `tc -j filter show dev IF HOOK` is empty: nothing but our programs was there. */
export function tcFiltersLeft(ifname: string, hook: 'ingress' | 'egress'): number {
  const out = execFileSync('tc', ['-j', 'filter', 'show', 'dev', ifname, hook], { encoding: 'utf8' });
  return out.trim() === '' ? 0 : (JSON.parse(out) as unknown[]).length;
}
