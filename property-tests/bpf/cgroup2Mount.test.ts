// Where host services attach: the cgroup2 mount point read from /proc/mounts,
// on a hybrid host (this machine), a unified one (CI), and without cgroup v2,
// where sluice mounts it itself (tried in a mount namespace of its own, so
// the machine's mounts are not touched).
import { existsSync, rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OWN_CGROUP2 } from '../../runtime/bpf/cgroup.ts';
import { cgroup2Mount } from '../../runtime/bpf/cgroup2Mount.ts';
import { kernelTest } from './env.ts';
import { tryRun } from '../../runtime/exec/command.ts';

const it = kernelTest({ netns: false });
const CGROUP2_SUPER_MAGIC = 0x63677270;

const v1 = 'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0';

test('hybrid: the cgroup2 line among v1 controllers', () => {
  assert.is(cgroup2Mount(`tmpfs /sys/fs/cgroup tmpfs rw 0 0\n${v1}\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n`), '/sys/fs/cgroup/unified');
});

test('unified: /sys/fs/cgroup itself; octal escapes in the path decoded', () => {
  assert.is(cgroup2Mount('sysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n'), '/sys/fs/cgroup');
  assert.is(cgroup2Mount('none /mnt/cg\\040two cgroup2 rw 0 0'), '/mnt/cg two');
});

test('v1 only: none', () => {
  assert.is(cgroup2Mount(`${v1}\n`), undefined);
});

it('nothing mounted: rootCgroup mounts the cgroup2 hierarchy at its own place', () => {
  const made = [dirname(OWN_CGROUP2), OWN_CGROUP2].filter((d) => !existsSync(d)).reverse(); // removed after, deepest first
  const cgroup = new URL('../../runtime/bpf/cgroup.ts', import.meta.url).pathname;
  const script = `import { rootCgroup } from '${cgroup}'; import { statfsSync } from 'node:fs';
    const dir = rootCgroup(); console.log(JSON.stringify({ dir, type: statfsSync(dir).type }));`;
  const unmountAll = `awk '$3 == "cgroup2" { print $2 }' /proc/mounts | while read -r m; do umount "$m" || exit 1; done`;
  try {
    const r = tryRun(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${unmountAll} && exec "$0" --input-type=module -e "$1"`, process.execPath, script]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), { dir: OWN_CGROUP2, type: CGROUP2_SUPER_MAGIC });
  } finally {
    for (const d of made) if (existsSync(d)) rmdirSync(d); // the mount went with the namespace
  }
});

test.run();
