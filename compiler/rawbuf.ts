// A growable byte buffer outside the garbage collector. The big per-call
// buffers (entries, output) are reused for the life of the module: growing
// them with heap.realloc frees the old block at once, where a managed array
// would leave megabytes of garbage behind until the next collection.

export class RawBuf {
  ptr: usize = 0;
  cap: usize = 0;

  /** Makes room for n bytes; contents up to the old capacity are kept. */
  ensure(n: usize): usize {
    if (n > this.cap) {
      const cap = max(n, max(this.cap << 1, 4096));
      this.ptr = this.ptr == 0 ? heap.alloc(cap) : heap.realloc(this.ptr, cap);
      this.cap = cap;
    }
    return this.ptr;
  }
}
