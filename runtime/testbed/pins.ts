// The testbed's pins: /sys/fs/bpf/<prefix>/<node> per node, made by `sluice
// apply`. Removed here whole, and only on bpffs: a path that is not there is
// never recursed into.
import { existsSync, lstatSync, readdirSync, rmdirSync, statfsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const BPF_FS_MAGIC = 0xcafe4a11;

const onBpffs = (path: string) => statfsSync(path).type === BPF_FS_MAGIC;

/** Removes dir and everything under it, if it is a directory on bpffs; returns how many pins went. */
export function removePinTree(dir: string): number {
  if (!existsSync(dir) || !onBpffs(dir) || !lstatSync(dir).isDirectory()) return 0;
  let pins = 0;
  const walk = (d: string, depth: number) => {
    if (depth > 8) throw new Error(`${d}: deeper than any pin directory sluice makes; not removed`);
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (lstatSync(p).isDirectory()) walk(p, depth + 1);
      else {
        unlinkSync(p);
        pins++;
      }
    }
    rmdirSync(d);
  };
  walk(dir, 0);
  return pins;
}

/** Removes dir if it is an empty directory; true if it is gone. */
export function removeIfEmpty(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (readdirSync(dir).length > 0) return false;
  rmdirSync(dir);
  return true;
}

/** How many pins lie under dir (0 when it is missing or not bpffs). */
export function countPins(dir: string): number {
  if (!existsSync(dir) || !onBpffs(dir) || !lstatSync(dir).isDirectory()) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((n, d) => n + (d.isDirectory() ? countPins(join(dir, d.name)) : 1), 0);
}
