// What the kernel-facing tests share: a probe that says why BPF or network
// namespaces cannot be used here (the tests then skip, or fail under CI), the
// stand-in datapath object built from fixtures/, and scratch pin roots and
// network namespaces that are always removed, on failure and at exit too.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensurePinRoot, removePinRoot } from '../../runtime/bpf/bpffs.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { run, tryRun } from '../../runtime/exec/command.ts';

const REPO = new URL('../../', import.meta.url).pathname;
export const MAIN = `${REPO}runtime/cli/main.ts`;
export const REAL_OBJECT = `${REPO}build/bpf/sluice.o`;
const OUT = `${REPO}build/test-bpf`;

let seq = 0;
const pinRoots = new Set<string>();
const namespaces = new Set<string>();

/** Removes everything made here that is still around; also runs at exit. */
export function cleanup(): void {
  for (const ns of namespaces) tryRun(['ip', 'netns', 'del', ns]);
  namespaces.clear();
  for (const root of pinRoots) {
    try {
      removePinRoot(root);
    } catch {
      // gone already
    }
  }
  pinRoots.clear();
}
process.on('exit', cleanup);

/** A fresh pin root under /sys/fs/bpf (mounting bpffs when needed), removed by dropPinRoot or at exit. */
export function scratchPinRoot(): string {
  const root = `/sys/fs/bpf/sl-test-${process.pid}-${++seq}`;
  pinRoots.add(root);
  ensurePinRoot(root);
  return root;
}

export function dropPinRoot(root: string): void {
  removePinRoot(root);
  pinRoots.delete(root);
}

/** A new network namespace "sl-test-<pid>-<tag>", deleted by dropNetns or at exit. */
export function scratchNetns(tag: string): string {
  const ns = `sl-test-${process.pid}-${tag}`;
  run(['ip', 'netns', 'add', ns]);
  namespaces.add(ns);
  return ns;
}

export function dropNetns(ns: string): void {
  tryRun(['ip', 'netns', 'del', ns]);
  namespaces.delete(ns);
}

/** `ip -n NS ...` and `tc -n NS ...`: netlink inside the namespace, no remount of /sys as `ip netns exec` does. */
export const ipIn = (ns: string, ...args: string[]) => run(['ip', '-n', ns, ...args]);
export const tcIn = (ns: string, ...args: string[]) => run(['tc', '-n', ns, ...args]);

/**
 * Builds the stand-in datapath (fixtures/mini.bpf.c) with the given -D
 * defines into build/test-bpf/; returns the object's path.
 */
export function fixtureObject(...defines: string[]): string {
  const src = new URL('./fixtures/mini.bpf.c', import.meta.url).pathname;
  const out = `${OUT}/mini${defines.map((d) => `-${d}`).join('')}.o`;
  if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs && statSync(out).mtimeMs > statSync(`${REPO}bpf/include/sluice_abi.h`).mtimeMs) return out;
  mkdirSync(OUT, { recursive: true });
  run(['clang', '-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    `-I${REPO}bpf/include`, ...defines.map((d) => `-D${d}`), '-c', src, '-o', out]);
  return out;
}

function probe(netns: boolean): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `unsupported ${process.platform}/${process.arch}`;
  try {
    S.close(S.mapCreate(1, 8, 16, 1, 0, 'sl_probe'));
  } catch (e) {
    return `bpf(BPF_MAP_CREATE) denied: ${(e as Error).message}`;
  }
  try {
    dropPinRoot(scratchPinRoot());
  } catch (e) {
    return `bpffs not usable: ${(e as Error).message}`;
  }
  try {
    fixtureObject();
  } catch (e) {
    return `cannot build the fixture datapath with clang: ${(e as Error).message.split('\n')[0]}`;
  }
  if (netns) {
    try {
      dropNetns(scratchNetns('probe'));
    } catch (e) {
      return `cannot make network namespaces (ip netns add): ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return null;
}

/**
 * test, when BPF (and network namespaces, if asked) work here; otherwise
 * test.skip, after printing why. Under CI a missing capability is a failure.
 */
export function kernelTest(opts: { netns: boolean }): typeof test {
  const reason = probe(opts.netns);
  if (reason === null) return test;
  if (process.env.CI) {
    test(`kernel features these tests need are missing: ${reason}`, () => assert.unreachable(reason));
  } else {
    console.log(`# SKIP: ${reason}`);
  }
  return test.skip as unknown as typeof test;
}
