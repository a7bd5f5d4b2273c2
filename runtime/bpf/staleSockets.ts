// Runs the socket iterators (bpf/lib/stale.h) that destroy the node's
// sockets stuck on a backend that left: a bpf link per iterator program, an
// iterator made from it inside the node's network namespace (the kernel
// walks the sockets of the namespace the iterator is made in), read to its
// end: reading is what runs the program over every socket. Needs Linux 6.5
// (bpf_sock_destroy); on an older kernel the loader leaves the iterators out.
import { closeSync, readFileSync, readSync } from 'node:fs';
import { inNetns } from './netns.ts';
import { decodeStaleSocks, type StaleSock } from './staleRecords.ts';
import * as S from './syscall.ts';

export const ITERATORS = ['sl_iter_tcp', 'sl_iter_udp'] as const;
export type IteratorName = (typeof ITERATORS)[number];

const BPF_TRACE_ITER = 28;
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/** Whether this kernel has bpf_sock_destroy: its name is in the kernel's BTF (it is a kfunc, Linux 6.5). */
export function kernelDestroysSockets(): boolean {
  try {
    return readFileSync(VMLINUX_BTF).includes('\0bpf_sock_destroy\0');
  } catch {
    return false; // no BTF: no CO-RE either, so the iterators could not load
  }
}

/** Runs each iterator in netns (here when undefined); returns the sockets they destroyed. */
export function sweepStaleSockets(iterators: ReadonlyMap<IteratorName, number>, netns?: string): StaleSock[] {
  const out: StaleSock[] = [];
  for (const [name, progFd] of iterators) {
    const link = S.linkCreate(progFd, 0, BPF_TRACE_ITER);
    try {
      const iter = inNetns(netns, () => S.iterCreate(link));
      try {
        out.push(...decodeStaleSocks(readAll(iter)));
      } catch (e) {
        throw new Error(`run ${name}: ${(e as Error).message}`, { cause: e });
      } finally {
        closeSync(iter);
      }
    } finally {
      S.close(link);
    }
  }
  return out;
}

function readAll(fd: number): Uint8Array {
  const chunks: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(64 << 10);
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(buf.subarray(0, n));
  }
}
