// A growable byte buffer outside the garbage collector. The big per-call
// buffers (entries, output) are reused for the life of the module: growing
// them with heap.realloc frees the old block at once, where a managed array
// would leave megabytes of garbage behind until the next collection.

// The largest block the runtime's allocator (TLSF) gives: 1 GiB less its
// 4-byte header. Asking for more aborts the module.
export const MAX_BLOCK: usize = (1 << 30) - 4;

export class RawBuf {
  ptr: usize = 0;
  cap: usize = 0;

  /** Makes room for n bytes (at most MAX_BLOCK); contents up to the old capacity are kept. */
  ensure(n: usize): usize {
    if (n > this.cap) {
      if (n > MAX_BLOCK) throw new Error('a buffer of ' + n.toString() + ' bytes: the compiler allocates at most ' + MAX_BLOCK.toString() + ' at once');
      const cap = min(max(n, max(this.cap << 1, 4096)), MAX_BLOCK);
      this.ptr = this.ptr == 0 ? heap.alloc(cap) : heap.realloc(this.ptr, cap);
      this.cap = cap;
    }
    return this.ptr;
  }
}
