// The kernel's view of this node's interfaces, through iproute2's JSON
// output: `ip -j addr` for the interfaces and their addresses, and one
// `ip -j -batch -` process of `route get` lines for where pod IPs are routed.
// iproute2 rather than netlink through koffi: the same answers (policy
// routing included, since the kernel resolves `route get`), one process for
// any number of pods, and no netlink message code of our own.
import { CommandError, run, tryRun } from '../exec/command.ts';

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

/** Runs ip; with input (a -force batch) a failed line is not a failure. */
function ip(args: string[], input?: string): string {
  const r = tryRun(['ip', ...args], { input });
  if (r.error) throw new CommandError(['ip', ...args], `${r.error.message} (is iproute2 installed?)`, null, { cause: r.error });
  if (r.status !== 0 && input === undefined) throw new CommandError(['ip', ...args], r.stderr.trim(), r.status);
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
  const out = run(['tc', '-j', 'filter', 'show', 'dev', ifname, hook]);
  return out.trim() === '' ? 0 : (JSON.parse(out) as unknown[]).length;
}
