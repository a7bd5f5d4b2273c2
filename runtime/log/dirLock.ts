// One writer per record directory: an exclusive flock(2) on DIR/lock, held
// while the writer records. The kernel drops it when the holder exits, even
// killed, so a crashed agent never leaves a stale lock; and it holds across
// containers that mount the same host directory, whose pids mean nothing to
// each other. Node has no flock of its own: libc's.
import { closeSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { errno, libc } from '../bpf/native.ts';
import { errnoName } from '../bpf/syscall.ts';

const LOCK_EX = 2, LOCK_NB = 4;
const EWOULDBLOCK = 11;

export const LOCK_FILE = 'lock';

/** Takes dir's lock; throws, saying who holds it, when another writer does. Returns the release. */
export function lockDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const fd = openSync(path, 'a+', 0o600);
  if (libc.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const e = errno();
    closeSync(fd);
    if (e !== EWOULDBLOCK) throw new Error(`lock ${path}: ${errnoName(e)}`);
    const holder = readFileSync(path, 'utf8').trim();
    throw new Error(`${dir} is being recorded by another sluice agent${holder ? ` (${holder})` : ''}; give each agent a directory of its own`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `pid ${process.pid}\n`);
  return () => closeSync(fd); // closing the last fd drops the lock
}
