// A growable array of fixed-size items outside the garbage collector, in
// blocks that never move: block b holds first << b items. So the address of
// an item stays valid while the buffer grows (Entries keeps such addresses),
// and growing copies nothing and leaves no outgrown buffer behind: fresh
// WebAssembly memory costs a page fault on first touch, which a copy-on-grow
// buffer pays again for every size it passes through.

const MAX_BLOCKS: i32 = 32;

export class BlockBuf {
  private blocks: StaticArray<usize> = new StaticArray<usize>(MAX_BLOCKS);
  private nBlocks: i32 = 0;
  private cap: u32 = 0; // items the blocks hold
  private firstLog: u32; // log2 of the items in block 0

  /** Items of size bytes; the first block holds about 4 KiB of them. */
  constructor(public size: u32) {
    this.firstLog = size >= 4096 ? 0 : 12 - (32 - clz<u32>(size - 1));
  }

  /** Address of item i, making room for it; contents of earlier items stay. */
  ensure(i: u32): usize {
    while (i >= this.cap) this.grow();
    return this.at(i);
  }

  /** Address of item i, which ensure has made room for. */
  @inline at(i: u32): usize {
    const b = 31 - clz<u32>((i >> this.firstLog) + 1);
    const start = ((<u32>1 << b) - 1) << this.firstLog;
    return unchecked(this.blocks[b]) + <usize>(i - start) * <usize>this.size;
  }

  private grow(): void {
    const b = this.nBlocks;
    if (b == MAX_BLOCKS) throw new Error('block buffer full');
    const items = (<u32>1 << <u32>b) << this.firstLog;
    unchecked(this.blocks[b] = heap.alloc(<usize>items * <usize>this.size));
    this.nBlocks = b + 1;
    this.cap += items;
  }
}
