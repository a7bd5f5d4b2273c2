// Whether an attached program (a tc filter's, a bpf link's) is the one a
// fresh load would attach, so that an unchanged apply leaves it in place.
import * as S from './syscall.ts';

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
export function sameProgram(attachedId: number, mine: S.ProgInfo): boolean {
  if (attachedId === mine.id) return true;
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
