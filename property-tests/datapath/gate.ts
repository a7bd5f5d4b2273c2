// Whether the kernel-facing datapath tests can run here, and the suite that
// runs them: skipped with the reason printed when BPF is unusable, failed
// with the reason under CI (TOOLCHAIN.md section 5).
import { accessSync, constants, statfsSync } from 'node:fs';
import { suite, type Test } from 'uvu';

export const OBJECT = new URL('../../build/bpf/sluice.o', import.meta.url).pathname;

const BPFFS_MAGIC = 0xcafe4a11;

// syscall.ts and libbpf.ts load koffi, libc and libbpf at import: imported
// lazily, so that a machine without them skips with a reason instead of crashing.
type Syscall = typeof import('../../runtime/bpf/syscall.ts');
type Libbpf = typeof import('../../runtime/bpf/libbpf.ts');
export let sys: Syscall;
export let libbpf: Libbpf;

/** Why BPF tests cannot run here, or null when they can. Never throws. */
export async function bpfUnavailableReason(): Promise<string | null> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `unsupported platform ${process.platform}/${process.arch}`;
  try {
    sys = await import('../../runtime/bpf/syscall.ts');
    libbpf = await import('../../runtime/bpf/libbpf.ts');
  } catch (e) {
    return `koffi, libc or libbpf not loadable: ${(e as Error).message}`;
  }
  try {
    sys.close(sys.mapCreate(2 /* ARRAY */, 4, 8, 1, 0, 'sl_probe'));
  } catch (e) {
    return `bpf(BPF_MAP_CREATE) denied (${(e as Error).message}): run as root or with CAP_BPF + CAP_NET_ADMIN`;
  }
  try {
    if (statfsSync('/sys/fs/bpf').type !== BPFFS_MAGIC) return '/sys/fs/bpf is not bpffs: mount -t bpf bpf /sys/fs/bpf';
    accessSync('/sys/fs/bpf', constants.W_OK);
  } catch (e) {
    return `bpffs not usable: ${(e as Error).message}`;
  }
  try {
    accessSync(OBJECT, constants.R_OK);
  } catch {
    return `${OBJECT} is missing: run npm run build:bpf`;
  }
  return null;
}

/** A uvu suite for tests that need BPF. When BPF is unusable its tests
 * are skipped with the reason printed, except under CI, where the suite
 * fails with the reason (TOOLCHAIN.md section 5). */
export async function bpfTest(name = 'datapath'): Promise<Test> {
  const reason = await bpfUnavailableReason();
  const s = suite(name);
  if (!reason) return s;
  if (process.env.CI) {
    s('BPF is usable (required under CI)', () => {
      throw new Error(`datapath tests cannot run: ${reason}`);
    });
  } else {
    console.log(`# SKIP ${name}: ${reason}`);
  }
  const skipping = (n: string, fn: Parameters<Test>[1]) => s.skip(n, fn);
  return Object.assign(skipping, { only: s.skip, skip: s.skip, before: s.before, after: s.after, run: s.run }) as unknown as Test;
}
