// Gives pages of the compiler's memory back to the kernel. A WebAssembly
// memory is a private anonymous mapping (V8 reserves it with mmap), so after
// madvise(MADV_DONTNEED) its pages are no longer resident and read back as
// zero when next touched.
import { errnoName } from '../bpf/syscall.ts';
import { errno, libc } from '../bpf/native.ts';

const MADV_DONTNEED = 4;

/** The system's page size: what madvise() takes, aligned. */
export const pageBytes = libc.getpagesize();

/** Drops pages, a view whose start and length are multiples of pageBytes. */
export function dropPages(pages: Uint8Array): void {
  if (libc.madvise(pages, pages.byteLength, MADV_DONTNEED) !== 0) {
    throw new Error(`madvise(MADV_DONTNEED) of ${pages.byteLength} bytes at offset ${pages.byteOffset}: ${errnoName(errno())}`);
  }
}
