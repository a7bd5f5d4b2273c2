// The pins sluice makes under a pin root, told from anyone else's by name and
// by what the kernel says each is: a map whose name is one of the datapath's
// (sl_svc, ..., as libbpf pins them by name) and that the kernel also names
// so, or a cgroup link of a host services hook (sl_connect4_link, ...) at
// that hook's attach type, or a program of the last load (sl_prog_<hash>_sl_from_pod,
// ...: progPins.ts) that the kernel names so. `detach --pins` removes these and nothing else,
// so a --pin-root of /sys/fs/bpf itself takes no other tool's pins.
import { existsSync, readdirSync, readlinkSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_MAPS } from '../abi/layouts.generated.ts';
import { asideDir, pinRootExists } from './bpffs.ts';
import { programOfPin } from './progPins.ts';
import { linkPin, SOCK_HOOKS } from './sockHooks.ts';
import * as S from './syscall.ts';

const MAP_NAMES = new Set<string>(ALL_MAPS.map((m) => m.name));
const LINKS = new Map(SOCK_HOOKS.map((h) => [linkPin('', h.program), h.attachType])); // "sl_connect4_link" -> its attach type

/** "map", "prog" or "link", as the kernel files the object's fd. */
function kindOf(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`).replace(/^anon_inode:bpf[-_]/, '');
}

/** Whether the pin at dir/name is one sluice makes. */
export function isOwnPin(dir: string, name: string): boolean {
  const link = LINKS.get(name), program = programOfPin(name);
  if (!MAP_NAMES.has(name) && link === undefined && program === undefined) return false;
  let fd: number | null;
  try {
    fd = S.objGet(join(dir, name));
  } catch {
    return false; // not a bpf object at all (a directory, say)
  }
  if (fd === null) return false;
  try {
    const kind = kindOf(fd);
    if (link !== undefined) return kind === 'link' && S.linkInfo(fd).type === S.BPF_LINK_TYPE_CGROUP && S.linkInfo(fd).attachType === link;
    if (program !== undefined) return kind === 'prog' && S.progInfo(fd).name === program.slice(0, 15); // the kernel keeps 15 characters
    return kind === 'map' && S.mapInfo(fd).name === name;
  } finally {
    S.close(fd);
  }
}

/**
 * Unlinks sluice's pins under root and its replaced/ directory, then each
 * directory once empty; returns what went and what was left (another's, by
 * name: the directory stays for them).
 */
export function removeOwnPins(root: string): { removed: string[]; left: string[] } {
  const out = { removed: [] as string[], left: [] as string[] };
  if (!pinRootExists(root)) return out;
  for (const dir of [asideDir(root), root]) {
    if (!existsSync(dir)) continue;
    const prefix = dir === root ? '' : 'replaced/';
    for (const name of readdirSync(dir).sort()) {
      if (join(dir, name) === asideDir(root)) continue;
      if (isOwnPin(dir, name)) {
        unlinkSync(join(dir, name));
        out.removed.push(`${prefix}${name}`);
      } else {
        out.left.push(`${prefix}${name}`);
      }
    }
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  }
  return out;
}
