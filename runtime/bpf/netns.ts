// Runs synchronous work inside another network namespace: setns(2) on the
// calling thread, then back. Only the namespace changes, not the mount
// namespace, so the host's /sys/fs/bpf stays visible (unlike `ip netns exec`,
// which remounts /sys). libbpf's netlink socket and the `ip`/`tc` children
// spawned meanwhile are made on this thread, so they act inside it too.
// netnsCookie() names a namespace as the cgroup programs see it.
import { closeSync, openSync } from 'node:fs';
import { errno, libc } from './native.ts';
import { errnoName } from './syscall.ts';

const CLONE_NEWNET = 0x40000000;

/** "/run/netns/NAME" for a name as `ip netns` makes them; a path is taken as it is. */
export const netnsPath = (netns: string) => (netns.includes('/') ? netns : `/run/netns/${netns}`);

function enter(fd: number, what: string): void {
  if (libc.setns(fd, CLONE_NEWNET) !== 0) {
    const e = errno();
    throw new Error(`enter network namespace ${what}: ${errnoName(e)}${e === 1 ? ' (needs CAP_SYS_ADMIN)' : ''}`);
  }
}

/** fn() inside netns (a name under /run/netns or a path); fn() here when netns is undefined. */
export function inNetns<T>(netns: string | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  const path = netnsPath(netns);
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (e) {
    throw new Error(`network namespace ${netns}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${path} does not exist` : (e as Error).message}`, { cause: e });
  }
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    enter(target, path);
    try {
      return fn();
    } finally {
      // Staying in the wrong namespace would send every later action to it: better to stop.
      try {
        enter(home, 'of this process');
      } catch (e) {
        process.stderr.write(`sluice: ${(e as Error).message}; aborting\n`);
        process.abort();
      }
    }
  } finally {
    closeSync(home);
    closeSync(target);
  }
}

const AF_INET = 2, SOCK_DGRAM = 2, SOL_SOCKET = 1, SO_NETNS_COOKIE = 71;

/**
 * The calling thread's network namespace's cookie, as bpf_get_netns_cookie()
 * sees it: SO_NETNS_COOKIE of a socket made in it (Linux 5.14). Call inside
 * inNetns for another namespace.
 */
export function netnsCookie(): bigint {
  const fd = libc.socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) throw new Error(`socket for SO_NETNS_COOKIE: ${errnoName(errno())}`);
  try {
    const value = [0n], len = [8];
    if (libc.getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, value, len) !== 0) {
      throw new Error(`getsockopt SO_NETNS_COOKIE: ${errnoName(errno())} (needs Linux 5.14)`);
    }
    return BigInt(value[0]);
  } finally {
    libc.close(fd);
  }
}
