// compiler/heapPages.ts reads the AssemblyScript runtime's allocator layout:
// these fail when that layout changes (an upgrade of assemblyscript), as the
// heap walk then refuses the heap. And a refused heap is left as it was.
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { dropPages, pageBytes } from '../../runtime/wasm/dropPages.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { scaleCluster } from '../../testkit/scaleCluster.ts';
import { deleteOf } from '../model/kube.ts';

/** A twentieth of the issue-12 cluster, then a third of it gone: free blocks of many pages. */
function synced(debug: boolean): Compiler {
  const records = [...scaleCluster({ namespaces: 25, podsPerNamespace: 20, servicesPerNamespace: 10, endpoints: 5, policiesPerNamespace: 2, nodes: 100 })]
    .map(([, o]) => normalize(o).record!);
  const c = new Compiler({ node: 'node-1', debug });
  c.batch(encodeRecords(records));
  c.batch(encodeRecords(records.filter((_, i) => i % 3 === 0).map(deleteOf)));
  return c;
}

/** The compiler's memory, which its host keeps to itself. */
const memoryOf = (c: Compiler) => (c as unknown as { x: { memory: WebAssembly.Memory } }).x.memory;

for (const debug of [false, true]) {
  test(`after a sync the ${debug ? 'debug' : 'release'} build's heap is laid out as heapPages.ts reads it, and its free pages read back as zero once dropped`, () => {
    const c = synced(debug);
    const before = c.rebuild().bytes;
    const dropped: Uint8Array[] = [];
    const r = c.releaseFree((pages) => {
      assert.is(pages.byteOffset % pageBytes, 0, 'a range that starts inside a page');
      assert.is(pages.byteLength % pageBytes, 0, 'a range that ends inside a page');
      pages.fill(0xa5); // so that zero after the drop is the drop's doing
      dropPages(pages);
      dropped.push(pages);
    }, pageBytes);
    assert.ok(r.used > 0 && r.free > 0, `nothing used or nothing free: ${JSON.stringify(r)}`);
    assert.ok(r.used + r.free < r.memory && r.memory === memoryOf(c).buffer.byteLength, `more in blocks than in memory: ${JSON.stringify(r)}`);
    assert.ok(r.released > 0 && r.released <= r.free, `released ${r.released} of ${r.free} free bytes`);
    assert.is(dropped.reduce((n, p) => n + p.byteLength, 0), r.released);
    for (const p of dropped) assert.ok(p.every((b) => b === 0), `a dropped range at ${p.byteOffset} does not read as zero`);
    assert.ok(Buffer.compare(c.rebuild().bytes, before) === 0, 'the state changed');
  });
}

test('a heap that is not laid out as heapPages.ts reads it is left as it was, with the reason', () => {
  const c = synced(false);
  const words = new Uint32Array(memoryOf(c).buffer);
  const tail = words.length - 1; // the allocator's last block header, at the end of memory
  const was = words[tail];
  words[tail] = 0xdead0000 | was;
  let drops = 0;
  assert.throws(() => c.releaseFree(() => drops++, pageBytes), /not laid out as compiler\/heapPages\.ts expects \(Tail\): nothing released/);
  assert.is(drops, 0);
  words[tail] = was;
  const r = c.releaseFree(dropPages, pageBytes);
  assert.ok(r.released > 0, 'the heap, restored, released nothing');
});

test('a free block missing from the free lists (the head of its list moved past it) is refused as such: nothing released', () => {
  const c = synced(false);
  c.collect(); // so that releaseFree's own collection frees nothing, and no free relinks the lists
  const memory = memoryOf(c).buffer, words = new Uint32Array(memory);
  // The allocator's root (heapPages.ts: flMap, slMap[23], head[23 * 16], then the tail's address) is the first
  // word of the heap that holds the tail's address.
  const HEADS = 96, LISTS = 23 * 16;
  const root = 4 * words.indexOf(memory.byteLength - 4) - (HEADS + 4 * LISTS);
  const list = Array.from({ length: LISTS }, (_, i) => (root + HEADS) / 4 + i).find((w) => words[w] !== 0)!;
  const head = words[list];
  words[list] = words[head / 4 + 2]; // its next: the block stays free, linked to it, and off every list
  let drops = 0;
  assert.throws(() => c.releaseFree(() => drops++, pageBytes), /not laid out as compiler\/heapPages\.ts expects \(Lists\): nothing released/);
  assert.is(drops, 0);
  words[list] = head;
  assert.ok(c.releaseFree(dropPages, pageBytes).released > 0, 'the heap, restored, released nothing');
});

test.run();
