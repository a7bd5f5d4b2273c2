// Where the cgroup v2 hierarchy is mounted, from the text of /proc/mounts:
// /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one
// (cgroup v1 controllers beside it). Pure: the caller reads the file.

/** The first cgroup2 mount point, or undefined when none is mounted. */
export function cgroup2Mount(mounts: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    // the kernel writes space, tab, newline and backslash in paths as octal escapes
    if (type === 'cgroup2') return dir.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}
