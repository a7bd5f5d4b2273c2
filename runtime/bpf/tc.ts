// Our programs on tc clsact hooks, at one fixed handle and priority, so a
// re-attach replaces in place (no gap, no duplicate) and detach finds them.
// A hook that already runs the same code with the same maps and settings is
// left alone (sameProgram), so an unchanged apply does not churn programs.
import { readLinks, tcFiltersLeft } from './ifaces.ts';
import { TC_EGRESS, TC_INGRESS, tcAttach, tcDetach, tcHookCreate, tcHookDestroy, tcQuery } from './libbpf.ts';
import { sameProgram } from './sameProgram.ts';
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
  if (current !== 0 && sameProgram(current, S.progInfo(progFd))) return 'unchanged';
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
