// Where host services attach: the cgroup2 mount point read from /proc/mounts,
// on a hybrid host (this machine), a unified one (CI), and without cgroup v2.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroup2Mount } from '../../runtime/bpf/cgroup2Mount.ts';

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

test.run();
