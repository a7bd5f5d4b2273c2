// The heap's free pages, for the host to give back to the system
// (runtime/wasm/host.ts, releaseFree). WebAssembly memory never shrinks, and
// a page the full sync once touched stays resident after the allocator has
// freed it. No one reads a free block's bytes but the allocator (the
// collector frees to it, and keeps nothing in what it freed), and it reads
// only the block's header, its two list links and its last word, so the
// pages between those can be dropped (they read back as zero).
//
// This is the one place that knows the layout of AssemblyScript's TLSF
// allocator (std/assembly/rt/tlsf.ts and rt/common.ts, assemblyscript
// 0.28, wasm32): check() walks the whole heap and refuses it if anything
// does not add up, so a changed layout makes the release a no-op with a
// reason rather than a wrong zero; property-tests/compiler/heapPages.test.ts
// fails then.
import { ROOT } from '~lib/rt/tlsf';

// Block: u32 mmInfo (size | LEFTFREE | FREE), then the payload; a free
// block's payload starts with its prev and next links and ends with a
// pointer back to the block.
// @ts-ignore: decorator
@inline const OVERHEAD: usize = 4;
// @ts-ignore: decorator
@inline const AL_MASK: usize = 15;
// @ts-ignore: decorator
@inline const FREE: usize = 1;
// @ts-ignore: decorator
@inline const LEFTFREE: usize = 2;
// @ts-ignore: decorator
@inline const TAGS: usize = FREE | LEFTFREE;
// @ts-ignore: decorator
@inline const MINSIZE: usize = 12; // prev, next, back
// Root: u32 flMap, u32 slMap[23], usize head[23 * 16] (the free lists), then the tail block's address.
// @ts-ignore: decorator
@inline const LISTS: usize = 23 * 16;
// @ts-ignore: decorator
@inline const HL_START: usize = 96;
// @ts-ignore: decorator
@inline const HL_END: usize = HL_START + LISTS * 4;
// @ts-ignore: decorator
@inline const ROOT_SIZE: usize = HL_END + 4;

/** What check() found: u32 error (0: none, else a Bad), u32 bytes in used
 * blocks, u32 bytes in free blocks, u32 free blocks. */
const report = memory.data(16);
let cursor: usize = 0;

/** Why the heap was refused: the host names them (runtime/wasm/host.ts). */
export enum Bad {
  None, NoRoot, Tail, Misaligned, Overrun, BackLink, ListLink, Unmerged, LeftTag, Lists,
}

function fail(bad: Bad): usize {
  store<u32>(report, bad);
  cursor = 0;
  return report;
}

function firstBlock(): usize {
  return ((changetype<usize>(ROOT) + ROOT_SIZE + OVERHEAD + AL_MASK) & ~AL_MASK) - OVERHEAD;
}

function tailBlock(): usize {
  return load<usize>(changetype<usize>(ROOT) + HL_END);
}

function isLink(p: usize, first: usize, tail: usize): bool {
  return p == 0 || (p >= first && p < tail && ((p + OVERHEAD) & AL_MASK) == 0);
}

/** Walks every block from the first to the tail, then every free list, and
 * reports (above) whether they agree with the layout this module knows.
 * Call it after __collect, and freePages() only after it, with no allocation
 * in between. */
export function check(): usize {
  store<u64>(report, 0);
  store<u64>(report, 0, 8);
  if (changetype<usize>(ROOT) == 0) return fail(Bad.NoRoot);
  const first = firstBlock(), tail = tailBlock();
  if (tail != (<usize>memory.size() << 16) - OVERHEAD || (load<usize>(tail) & ~TAGS) != 0 || (load<usize>(tail) & FREE) != 0) return fail(Bad.Tail);
  let used: usize = 0, free: usize = 0, blocks: u32 = 0;
  let leftFree: usize = 0;
  let block = first;
  while (block < tail) {
    const info = load<usize>(block);
    const size = info & ~TAGS;
    const right = block + OVERHEAD + size;
    if (((block + OVERHEAD) & AL_MASK) != 0 || size < MINSIZE) return fail(Bad.Misaligned);
    if (right > tail) return fail(Bad.Overrun);
    if ((info & LEFTFREE) != leftFree) return fail(Bad.LeftTag);
    if (info & FREE) {
      if (leftFree) return fail(Bad.Unmerged);
      if (load<usize>(right - 4) != block) return fail(Bad.BackLink);
      const prev = load<usize>(block, 4), next = load<usize>(block, 8);
      if (!isLink(prev, first, tail) || !isLink(next, first, tail)) return fail(Bad.ListLink);
      if ((prev != 0 && load<usize>(prev, 8) != block) || (next != 0 && load<usize>(next, 4) != block)) return fail(Bad.ListLink);
      free += size;
      blocks++;
      leftFree = LEFTFREE;
    } else {
      used += size;
      leftFree = 0;
    }
    block = right;
  }
  if (block != tail) return fail(Bad.Overrun);
  if ((load<usize>(tail) & LEFTFREE) != leftFree) return fail(Bad.LeftTag);
  if (listed(first, tail, blocks) != blocks) return fail(Bad.Lists);
  store<u32>(report, <u32>used, 4);
  store<u32>(report, <u32>free, 8);
  store<u32>(report, blocks, 12);
  cursor = first;
  return report;
}

/** Free blocks on the root's lists, counting no further than one past limit. */
function listed(first: usize, tail: usize, limit: u32): u32 {
  let n: u32 = 0;
  for (let i: usize = 0; i < LISTS; i++) {
    let b = load<usize>(changetype<usize>(ROOT) + HL_START + (i << 2));
    while (b != 0 && n <= limit) {
      if (!isLink(b, first, tail) || (load<usize>(b) & FREE) == 0) return limit + 1;
      n++;
      b = load<usize>(b, 8);
    }
  }
  return n;
}

/** The next free block's pages (of 1 << pageBits bytes) that hold nothing
 * the allocator reads: start << 32 | end, or 0 when there are no more. */
export function freePages(pageBits: u32): u64 {
  const mask: usize = (<usize>1 << pageBits) - 1;
  const tail = tailBlock();
  while (cursor != 0 && cursor < tail) {
    const block = cursor;
    const info = load<usize>(block);
    const right = block + OVERHEAD + (info & ~TAGS);
    cursor = right;
    if ((info & FREE) == 0) continue;
    const start = (block + OVERHEAD + 8 + mask) & ~mask;
    const end = (right - 4) & ~mask;
    if (start < end) return (<u64>start << 32) | <u64>end;
  }
  cursor = 0;
  return 0;
}
