// The pin root on bpffs: check that it is one, mount /sys/fs/bpf when a fresh
// machine lacks it (mode 0700, as systemd mounts it), create the root one
// level at a time, and refuse one that someone else could change. Node's
// recursive mkdirSync spins forever under a /sys/fs/bpf that is not bpffs, so
// nothing here creates a directory before statfs has said where it is.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { run, type CommandError } from '../exec/command.ts';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/sluice';
const BPF_FS_MAGIC = 0xcafe4a11;
const BPFFS_MOUNT = '/sys/fs/bpf';

export const isBpffs = (path: string) => statfsSync(path).type === BPF_FS_MAGIC;

/** The deepest existing directory on the way to path. */
function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return p;
}

/**
 * Makes root an existing directory on bpffs, mounting /sys/fs/bpf first when
 * root lies under it and it is not mounted (root only). Throws a message that
 * says what to do otherwise.
 */
export function ensurePinRoot(root: string): void {
  let base = existingAncestor(root);
  if (!isBpffs(base)) {
    const under = root === BPFFS_MOUNT || root.startsWith(`${BPFFS_MOUNT}/`);
    if (!under || !existsSync(BPFFS_MOUNT)) {
      throw new Error(`pin root ${root} is not on a bpf filesystem (${base} is not bpffs); choose a --pin-root under a bpffs mount`);
    }
    if (process.geteuid?.() !== 0) {
      throw new Error(`${BPFFS_MOUNT} is not mounted as bpffs; as root run: mount -t bpf bpf ${BPFFS_MOUNT}`);
    }
    try {
      // mode=0700: a bpffs mounted without it is 1777, where anyone may make the pin root first
      run(['mount', '-t', 'bpf', '-o', 'mode=0700', 'bpf', BPFFS_MOUNT]);
    } catch (e) {
      throw new Error(`mount -t bpf -o mode=0700 bpf ${BPFFS_MOUNT} failed: ${(e as CommandError).reason}`, { cause: e });
    }
    base = existingAncestor(root);
    if (!isBpffs(base)) throw new Error(`${base} is still not bpffs after mounting ${BPFFS_MOUNT}`);
  }
  // One level at a time, now that every new level is known to be on bpffs.
  const missing: string[] = [];
  for (let p = root; p !== base; p = dirname(p)) missing.unshift(p);
  for (const dir of missing) mkdirSync(dir, { mode: 0o700 });
  checkOwner(root);
}

/**
 * Throws unless root and each directory above it on bpffs belong to root and
 * no one else may write to them: whoever can, can unlink a pin (the link of
 * sl_connect4 takes host services with it) or put a map of their own in its
 * place. A directory above that others may write to is allowed when sticky,
 * as /sys/fs/bpf mounted without mode= is (1777): there, as in /tmp, no one
 * else may rename or remove root's entries.
 */
function checkOwner(root: string): void {
  for (let p = root; isBpffs(p); p = dirname(p)) {
    const st = statSync(p), mode = st.mode & 0o7777;
    const what = p === root ? `pin root ${p}` : `${p}, above the pin root ${root},`;
    if (st.uid !== 0) {
      throw new Error(`${what} belongs to uid ${st.uid}, not root: that user could unlink or replace sluice's pins; remove it (as root: rm -r ${p}) and try again`);
    }
    if ((mode & 0o022) !== 0 && (p === root || (mode & 0o1000) === 0)) {
      throw new Error(`${what} is writable by others (mode ${mode.toString(8).padStart(4, '0')}): they could unlink or replace sluice's pins; chmod go-w ${p}`);
    }
    if (dirname(p) === p) break;
  }
}

/** Whether root is an existing directory on bpffs (read-only commands never mount); throws, saying so, when
 * this user may not look into it (a missing root and a forbidden one must not read alike). */
export function pinRootExists(root: string): boolean {
  try {
    accessSync(root, constants.R_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new Error(`${root}: ${code === 'EACCES' || code === 'EPERM' ? `permission denied (${code}): sluice's pins belong to root; run as root` : (e as Error).message}`, { cause: e });
  }
  return isBpffs(root);
}

/** Where --replace-maps keeps old pins until the new programs are attached. bpffs refuses names with a dot. */
export const asideDir = (root: string) => join(root, 'replaced');

/** Unlinks every pin under root (and its replaced/ directory), then root itself; returns the names removed. */
export function removePinRoot(root: string): string[] {
  if (!pinRootExists(root)) return [];
  const removed: string[] = [];
  for (const dir of [asideDir(root), root]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (path === asideDir(root)) continue;
      unlinkSync(path);
      removed.push(dir === root ? name : `replaced/${name}`);
    }
    rmdirSync(dir);
  }
  return removed;
}

/** Moves a pin into root's replaced/ directory (rename(2) within one bpffs); returns where it went. */
export function movePinAside(root: string, path: string): string {
  const dir = asideDir(root);
  if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
  const to = join(dir, basename(path));
  if (existsSync(to)) unlinkSync(to); // left by an apply that died before it finished
  renameSync(path, to);
  return to;
}

/** Puts a pin moved aside back in place of whatever is there now. */
export function movePinBack(aside: string, path: string): void {
  if (existsSync(path)) unlinkSync(path);
  renameSync(aside, path);
  removeAsideDirIfEmpty(dirname(aside));
}

/** Drops pins moved aside, and replaced/ once empty. */
export function dropAside(aside: string): void {
  unlinkSync(aside);
  removeAsideDirIfEmpty(dirname(aside));
}

function removeAsideDirIfEmpty(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}
