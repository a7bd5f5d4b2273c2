// One writer per record directory (flock on DIR/lock): the holder's line
// replaces whatever the file held, a second taker is refused naming the
// holder (or not, when the holder wrote nothing) and keeps no descriptor,
// and the lock is free again once released.
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { libc } from '../../runtime/bpf/native.ts';
import { LOCK_FILE, lockDir } from '../../runtime/log/dirLock.ts';

const LOCK_EX = 2, LOCK_NB = 4;
const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
const openFds = () => readdirSync('/proc/self/fd').length;

test('the holder\'s line replaces what the lock file held', () => {
  writeFileSync(join(dir, LOCK_FILE), 'pid 999999 of an agent that died with a longer line\n');
  const release = lockDir(dir);
  try {
    assert.is(readFileSync(join(dir, LOCK_FILE), 'utf8'), `pid ${process.pid}\n`);
  } finally {
    release();
  }
});

test('a second taker is refused, naming the holder, and keeps no descriptor; after the release it gets the lock', () => {
  const release = lockDir(dir);
  const before = openFds();
  assert.throws(() => lockDir(dir), (e: Error) => e.message === `${dir} is being recorded by another sluice agent (pid ${process.pid}); give each agent a directory of its own`);
  assert.is(openFds(), before);
  release();
  lockDir(dir)();
});

test('a holder that wrote nothing is not named', () => {
  writeFileSync(join(dir, LOCK_FILE), '');
  const fd = openSync(join(dir, LOCK_FILE), 'r');
  try {
    assert.is(libc.flock(fd, LOCK_EX | LOCK_NB), 0);
    assert.throws(() => lockDir(dir), (e: Error) => e.message === `${dir} is being recorded by another sluice agent; give each agent a directory of its own`);
  } finally {
    closeSync(fd);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
