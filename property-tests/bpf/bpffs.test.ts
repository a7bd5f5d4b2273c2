// The pin root: made level by level on bpffs, refused anywhere else (before
// any mkdir, since a recursive mkdir under a /sys/fs/bpf that is not bpffs
// never returns), removed whole.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensurePinRoot, isBpffs, removePinRoot } from '../../runtime/bpf/bpffs.ts';
import { kernelTest } from './env.ts';

const it = kernelTest({ netns: false });

test('a pin root outside bpffs is refused with the way out, and nothing is made', () => {
  const dir = mkdtempSync(`${tmpdir()}/sl-test-`);
  try {
    assert.throws(() => ensurePinRoot(`${dir}/a/b`), (e: Error) =>
      e.message === `pin root ${dir}/a/b is not on a bpf filesystem (${dir} is not bpffs); choose a --pin-root under a bpffs mount`);
    assert.not.ok(existsSync(`${dir}/a`));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

it('nested levels are made on bpffs and removed with their pins', () => {
  const top = `/sys/fs/bpf/sl-test-${process.pid}-nested`;
  try {
    ensurePinRoot(`${top}/x/y`);
    assert.ok(isBpffs(`${top}/x/y`));
    ensurePinRoot(`${top}/x/y`); // already there: fine
    assert.equal(removePinRoot(`${top}/x/y`), []);
    assert.not.ok(existsSync(`${top}/x/y`));
  } finally {
    for (const d of [`${top}/x/y`, `${top}/x`, top]) if (existsSync(d)) rmSync(d, { recursive: true });
  }
});

test.run();
