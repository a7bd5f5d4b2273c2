// The cgroup programs (bpf/lib/sock.h) on the root of the cgroup v2
// hierarchy, each through a bpf link pinned under the pin root: like the tc
// programs they stay attached while the agent is away, and unpinning them
// (`sluice detach`, or removing the pin root) detaches them. One link per
// hook, under a fixed name, so a second apply keeps or updates the link it
// finds and never attaches twice. Links of other pin roots (another node of
// a testbed) are left alone: each set acts only on its own node's sockets.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statfsSync, unlinkSync } from 'node:fs';
import { run, type CommandError } from '../exec/command.ts';
import { cgroup2Mount } from './cgroup2Mount.ts';
import type { ProgramName } from './loader.ts';
import { sameProgram } from './sameProgram.ts';
import { isOwnPin } from './ownPins.ts';
import { linkPin, SOCK_HOOKS, type SockHook } from './sockHooks.ts';
import * as S from './syscall.ts';
import type { AttachResult } from './tc.ts';

export { linkPin } from './sockHooks.ts';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Where sluice mounts the cgroup v2 hierarchy when nothing has (as Cilium mounts /run/cilium/cgroupv2). */
export const OWN_CGROUP2 = '/run/sluice/cgroup2';

/**
 * The root cgroup of the cgroup v2 hierarchy this process sees. A host with
 * cgroup v1 only still has the v2 hierarchy, unmounted, with every process
 * in its root: mounted at OWN_CGROUP2 then (the same hierarchy however often
 * it is mounted).
 */
export function rootCgroup(): string {
  const dir = cgroup2Mount(readFileSync('/proc/mounts', 'utf8'));
  if (dir) return dir;
  mkdirSync(OWN_CGROUP2, { recursive: true });
  try {
    run(['mount', '-t', 'cgroup2', 'none', OWN_CGROUP2]);
  } catch (e) {
    const why = (e as CommandError).reason;
    throw new Error(`host services: no cgroup2 filesystem mounted, and mount -t cgroup2 none ${OWN_CGROUP2} failed: ${why}; mount one, or pass --no-host-services`, { cause: e });
  }
  return OWN_CGROUP2;
}

/** Attaches (or keeps, or updates) each cgroup program's pinned link to cgroup (default rootCgroup()); says what each got. */
export function attachSockPrograms(pinRoot: string, programs: ReadonlyMap<ProgramName, number>, cgroup = rootCgroup()): { cgroup: string; done: string[] } {
  const type = existsSync(cgroup) ? statfsSync(cgroup).type : undefined;
  if (type !== CGROUP2_SUPER_MAGIC) throw new Error(`host services: ${cgroup} is ${type === undefined ? 'missing' : 'not a cgroup2 filesystem'}; name the cgroup v2 root with --cgroup-root`);
  const fd = openSync(cgroup, 'r');
  try {
    return { cgroup, done: SOCK_HOOKS.map((h) => `${h.program} ${attachHook(fd, pinRoot, h, programs.get(h.program)!)}`) };
  } finally {
    closeSync(fd);
  }
}

function attachHook(cgroupFd: number, pinRoot: string, h: SockHook, progFd: number): AttachResult {
  const path = linkPin(pinRoot, h.program);
  const pinned = S.objGet(path);
  if (pinned !== null) {
    try {
      const info = S.linkInfo(pinned);
      if (info.type === S.BPF_LINK_TYPE_CGROUP && info.attachType === h.attachType) {
        if (sameProgram(info.progId, S.progInfo(progFd))) return 'unchanged';
        S.linkUpdate(pinned, progFd);
        return 'replaced';
      }
    } finally {
      S.close(pinned);
    }
    unlinkSync(path); // not a link of this hook: made anew below
  }
  const link = S.linkCreate(progFd, cgroupFd, h.attachType);
  try {
    S.objPin(link, path);
  } finally {
    S.close(link); // the pin holds the link now
  }
  return 'attached';
}

/** Unpins each link under pinRoot, which detaches its program; returns the programs detached. A pin
 * under a link's name that is not that hook's link is another's: left. */
export function detachSockPrograms(pinRoot: string): string[] {
  return SOCK_HOOKS.filter((h) => isOwnPin(pinRoot, linkPin('', h.program))).map((h) => {
    unlinkSync(linkPin(pinRoot, h.program));
    return h.program;
  });
}
