// The pin root: made level by level on bpffs (0700), refused anywhere else
// (before any mkdir, since a recursive mkdir under a /sys/fs/bpf that is not
// bpffs never returns) and where another user could change it, removed
// whole; where sluice mounts bpffs itself, it mounts it 0700 (tried in a
// mount namespace of the test's own, so the host's /sys/fs/bpf is untouched).
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensurePinRoot, isBpffs, removePinRoot } from '../../runtime/bpf/bpffs.ts';
import { kernelTest } from './env.ts';
import { tryRun } from '../../runtime/exec/command.ts';

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
    assert.is(statSync(`${top}/x/y`).mode & 0o7777, 0o700);
    assert.equal(removePinRoot(`${top}/x/y`), []);
    assert.not.ok(existsSync(`${top}/x/y`));
  } finally {
    for (const d of [`${top}/x/y`, `${top}/x`, top]) if (existsSync(d)) rmSync(d, { recursive: true });
  }
});

it('a pin root, or a directory above it on bpffs, that another user owns or may write to is refused in one line', () => {
  const top = `/sys/fs/bpf/sl-test-${process.pid}-owner`;
  try {
    mkdirSync(top, { mode: 0o700 });
    chownSync(top, 65534, 65534); // as if an unprivileged user had made it first
    assert.throws(() => ensurePinRoot(top), (e: Error) =>
      e.message === `pin root ${top} belongs to uid 65534, not root: that user could unlink or replace sluice's pins; remove it (as root: rm -r ${top}) and try again`);
    assert.throws(() => ensurePinRoot(`${top}/node-a`), (e: Error) =>
      e.message.startsWith(`${top}, above the pin root ${top}/node-a, belongs to uid 65534, not root:`));
    chownSync(top, 0, 0);
    chmodSync(top, 0o777);
    assert.throws(() => ensurePinRoot(top), (e: Error) =>
      e.message === `pin root ${top} is writable by others (mode 0777): they could unlink or replace sluice's pins; chmod go-w ${top}`);
    chmodSync(top, 0o1777);
    assert.throws(() => ensurePinRoot(top), /is writable by others \(mode 1777\)/, 'sticky is not enough for the root itself');
    ensurePinRoot(`${top}/node-a`); // above it, sticky as /sys/fs/bpf mounted without mode= is: others cannot touch root's entries
    chmodSync(top, 0o755);
    ensurePinRoot(top);
    assert.ok(existsSync(`${top}/node-a`));
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

it('where sluice mounts bpffs itself, it is 0700', () => {
  // A private mount namespace: /sys/fs/bpf hidden under a tmpfs, so ensurePinRoot must mount a bpffs of its own there
  // (bpffs adds the sticky bit to its root whatever the mode: 1700).
  const script = `import { ensurePinRoot } from ${JSON.stringify(new URL('../../runtime/bpf/bpffs.ts', import.meta.url).pathname)};
    import { statSync } from 'node:fs';
    ensurePinRoot('/sys/fs/bpf/sluice');
    console.log((statSync('/sys/fs/bpf').mode & 0o777).toString(8), (statSync('/sys/fs/bpf/sluice').mode & 0o7777).toString(8));`;
  const r = tryRun(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
    `mount -t tmpfs sluice-test /sys/fs/bpf && exec ${process.execPath} --input-type=module -e "$0"`, script]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '700 700\n');
});

test.run();
