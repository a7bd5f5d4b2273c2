// Our programs on tc clsact hooks, at one fixed handle and priority, so a
// re-attach replaces in place (no gap, no duplicate) and detach finds them.
// A hook that already runs the same code with the same maps and settings is
// left alone, so an unchanged apply does not churn programs.
import { readLinks, tcFiltersLeft } from './ifaces.ts';
import { TC_EGRESS, TC_INGRESS, tcAttach, tcDetach, tcHookCreate, tcHookDestroy, tcQuery } from './libbpf.ts';
import * as S from './syscall.ts';

/** tc filter handle and priority of every sluice program; `tc filter show` prints them as "handle 0x51c pref 1". */
export const TC_HANDLE = 0x51c;
export const TC_PRIORITY = 1;

export type Hook = 'ingress' | 'egress';
const POINT = { ingress: TC_INGRESS, egress: TC_EGRESS } as const;

export type AttachResult = 'attached' | 'replaced' | 'unchanged';

/** Creates clsact if missing and puts the program on the hook; idempotent. */
export function attachProgram(ifindex: number, hook: Hook, progFd: number): AttachResult {
  tcHookCreate(ifindex);
  const current = tcQuery(ifindex, POINT[hook], TC_HANDLE, TC_PRIORITY);
  const mine = S.progInfo(progFd);
  if (current !== 0 && (current === mine.id || sameProgram(current, mine))) return 'unchanged';
  tcAttach(ifindex, POINT[hook], progFd, TC_HANDLE, TC_PRIORITY);
  return current === 0 ? 'attached' : 'replaced';
}

/** The id of the program at our handle and priority, 0 when none. */
export function attachedProgram(ifindex: number, hook: Hook): number {
  return tcQuery(ifindex, POINT[hook], TC_HANDLE, TC_PRIORITY);
}

/** Detaches ours from both hooks of an interface; drops clsact when nothing else is on it. Returns the hooks freed. */
export function detachInterface(ifindex: number, ifname: string): Hook[] {
  const freed: Hook[] = [];
  for (const hook of ['ingress', 'egress'] as const) {
    if (tcQuery(ifindex, POINT[hook], TC_HANDLE, TC_PRIORITY) === 0) continue;
    tcDetach(ifindex, POINT[hook], TC_HANDLE, TC_PRIORITY);
    freed.push(hook);
  }
  if (freed.length > 0 && tcFiltersLeft(ifname, 'ingress') === 0 && tcFiltersLeft(ifname, 'egress') === 0) tcHookDestroy(ifindex);
  return freed;
}

/** Interfaces of the current network namespace that carry one of our programs. */
export function interfacesWithPrograms(): { ifindex: number; ifname: string }[] {
  return readLinks().filter((l) => (['ingress', 'egress'] as const).some((h) => attachedProgram(l.ifindex, h) !== 0));
}

const INTERNAL = /\.(rodata|data|bss|kconfig)$/;

interface UsedMap { name: string; id: number; settings?: string }

function usedMaps(ids: readonly number[]): UsedMap[] | null {
  const out: UsedMap[] = [];
  for (const id of ids) {
    const fd = S.mapFdById(id);
    if (fd === null) return null;
    try {
      const info = S.mapInfo(fd);
      let settings: string | undefined;
      if (info.name.endsWith('.rodata')) {
        const v = new Uint8Array(info.valueSize);
        S.mapLookup(fd, new Uint8Array(4), v);
        settings = Buffer.from(v).toString('hex');
      }
      out.push({ name: info.name, id, settings });
    } finally {
      S.close(fd);
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Whether the attached program (by id) is the one we would attach: the same
 * code (the kernel's tag hashes the instructions with map references blanked),
 * the same pinned maps, and the same .rodata settings. Per-load data maps
 * (.data, .bss) are the running program's state: theirs is kept.
 */
function sameProgram(attachedId: number, mine: S.ProgInfo): boolean {
  const fd = S.progFdById(attachedId);
  if (fd === null) return false;
  let theirs: S.ProgInfo;
  try {
    theirs = S.progInfo(fd);
  } finally {
    S.close(fd);
  }
  if (theirs.tag !== mine.tag || theirs.name !== mine.name || theirs.type !== mine.type) return false;
  const a = usedMaps(theirs.mapIds), b = usedMaps(mine.mapIds);
  return a !== null && b !== null && a.length === b.length && a.every((m, i) => m.name === b[i].name &&
    (INTERNAL.test(m.name) ? m.settings === b[i].settings : m.id === b[i].id));
}
