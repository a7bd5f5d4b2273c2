// The programs of the last load, pinned under the pin root by what made them,
// so that an agent restarted on the same node takes them as they are instead
// of having the kernel verify the same code again (about 0.4 s of CPU for the
// three tc programs). A pin's name carries a hash of the object file, its
// settings (.rodata), which programs were loaded and the kernel release; the
// programs are reused only when every map they use is still the one pinned
// under that name (not one --replace-maps or detach --pins has since replaced).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import * as S from './syscall.ts';

const PREFIX = 'sl_prog_';
/** sl_prog_<16 hex digits>_<program>: bpffs refuses dots in a name. */
const PIN = /^sl_prog_[0-9a-f]{16}_(\w+)$/;

/** The program's name a pin of ours has, or undefined for any other name. */
export const programOfPin = (name: string): string | undefined => PIN.exec(name)?.[1];

/** What a load's programs are made of: the object's bytes, its settings, the programs loaded, the kernel. */
export function fingerprint(object: string, settings: Uint8Array, programs: readonly string[]): string {
  return createHash('sha256').update(readFileSync(object)).update(settings).update(programs.join(',')).update(release()).digest('hex').slice(0, 16);
}

const pinOf = (root: string, fp: string, program: string) => join(root, `${PREFIX}${fp}_${program}`);

/**
 * The fds of the programs a load with this fingerprint pinned, when every one
 * is there and uses no pinned map but the one pinned now (maps: name -> id);
 * undefined otherwise (nothing is left open then).
 */
export function reusePrograms(root: string, fp: string, programs: readonly string[], maps: ReadonlyMap<string, number>): Map<string, number> | undefined {
  const fds = new Map<string, number>();
  let reused = false;
  try {
    for (const p of programs) {
      const fd = S.objGet(pinOf(root, fp, p));
      if (fd === null) return undefined;
      fds.set(p, fd);
      const info = S.progInfo(fd);
      if (info.name !== p.slice(0, 15) || !info.mapIds.every((id) => usesCurrent(id, maps))) return undefined; // the kernel keeps 15 characters of a name
    }
    reused = true;
    return fds;
  } finally {
    if (!reused) for (const fd of fds.values()) S.close(fd);
  }
}

/** Whether a map a program uses is the one pinned under its name now, or one of the load's own (.rodata, .bss: not pinned). */
function usesCurrent(id: number, maps: ReadonlyMap<string, number>): boolean {
  const fd = S.mapFdById(id);
  if (fd === null) return false;
  try {
    const name = S.mapInfo(fd).name;
    return maps.has(name) ? maps.get(name) === id : /\.(rodata|data|bss|kconfig)$/.test(name);
  } finally {
    S.close(fd);
  }
}

/** Pins a load's programs under its fingerprint and unpins those of any other: they are attached (or replaced) by now. */
export function pinPrograms(root: string, fp: string, fds: ReadonlyMap<string, number>): void {
  for (const name of readdirSync(root)) if (programOfPin(name) !== undefined && !name.startsWith(`${PREFIX}${fp}_`)) unlinkSync(join(root, name));
  for (const [p, fd] of fds) {
    const path = pinOf(root, fp, p);
    try {
      unlinkSync(path); // left by a load that died before it was used
    } catch {
      // not there: the usual case
    }
    S.objPin(fd, path);
  }
}
