// Network namespaces, links and sysctls through ip(8), nsenter(1) and
// sysctl(8): the testbed's, the tests' and the benchmarks' one layer.
// Synchronous: a network is made step by step, and a failed step throws an
// error that names the command and what it printed.
//
// Everything enters a namespace with `nsenter --net=/run/netns/NAME`, never
// `ip netns exec`: the latter remounts /sys, which hides /sys/fs/bpf.
import { existsSync, readdirSync } from 'node:fs';
import { CommandError, nsenter, run, tryRun } from './command.ts';

const NETNS_DIR = '/run/netns';

/** Runs `ip` commands in netns, one per line, as one `ip -batch`: fast, and stops at the first that fails. */
export function ipBatch(netns: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  try {
    run(['ip', '-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  } catch (e) {
    // ip names the failing line as "Command failed -:N"
    const n = /Command failed -:(\d+)/.exec((e as CommandError).reason ?? '')?.[1];
    throw new Error(`in ${netns}: ${n ? `ip ${lines[Number(n) - 1]}: ` : ''}${(e as Error).message}`, { cause: e });
  }
}

/** Sets sysctls in netns (/proc/sys/net is per namespace). */
export function sysctl(netns: string, settings: { readonly [key: string]: string | number }): void {
  run(nsenter(netns, ['sysctl', '-qw', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]));
}

/** Reads sysctls in netns, in the order asked. */
export function readSysctl(netns: string, keys: readonly string[]): string[] {
  return run(nsenter(netns, ['sysctl', '-n', ...keys])).trim().split('\n');
}

export const netnsExists = (name: string) => existsSync(`${NETNS_DIR}/${name}`);

export function listNetns(): string[] {
  return existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).sort() : [];
}

export function addNetns(name: string): void {
  run(['ip', 'netns', 'add', name]);
}

/** Deletes netns if it exists. */
export function deleteNetns(name: string): void {
  if (netnsExists(name)) run(['ip', 'netns', 'delete', name]);
}

/** Pids of the processes inside netns. */
export function pidsIn(netns: string): number[] {
  if (!netnsExists(netns)) return [];
  return run(['ip', 'netns', 'pids', netns]).split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

/** Names of the links in netns. */
export function linksIn(netns: string): string[] {
  const out = run(['ip', '-n', netns, '-o', 'link', 'show']);
  return out.split('\n').flatMap((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? []);
}

/** Why network namespaces cannot be used here, or null. Makes and removes one namespace to find out. */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.geteuid?.() !== 0) return 'not root (network namespaces and veths need CAP_SYS_ADMIN and CAP_NET_ADMIN)';
  const probe = `slprobe${process.pid}`;
  try {
    run(['ip', 'netns', 'add', probe]);
    run(['ip', '-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    return null;
  } catch (e) {
    return `cannot make a network namespace with a veth: ${(e as CommandError).reason ?? (e as Error).message}`;
  } finally {
    tryRun(['ip', 'netns', 'delete', probe]);
  }
}
