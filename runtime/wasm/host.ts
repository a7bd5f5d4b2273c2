// Loads build/compiler.wasm and moves bytes in and out of it. The compiler
// keeps the cluster model between batches; one Compiler is one node's view.
import { readFileSync } from 'node:fs';
import { parseDiff, type MapDiff } from '../maps/mapDiff.ts';

export interface Problem {
  object: string; // "Kind namespace/name"
  field: string;
  reason: string;
}

interface Exports {
  memory: WebAssembly.Memory;
  input(len: number): number;
  configure(nodeLen: number, idBits: number): void;
  batch(len: number): number;
  rebuild(): number;
  piece(): number;
  problems(): number;
  problemsVersion(): number;
  explain(): number;
  heapCheck(): number;
  freePages(pageBits: number): bigint;
  __collect(): void;
}

/** What a release found in the compiler's heap after a collection, in bytes. */
export interface HeapRelease {
  /** In blocks the allocator has handed out: the live state, the buffers it keeps, the garbage a collection left. */
  used: number;
  /** In free blocks, of which released: the pages inside them given back. */
  free: number;
  released: number;
  /** The memory's size, which does not change. */
  memory: number;
}

/** Pages of the compiler's memory to give back to the system (madvise(MADV_DONTNEED)): they read back as zero. */
export type DropPages = (pages: Uint8Array) => void;

export interface CompilerOptions {
  /** Node whose maps to compile; null compiles with no local endpoints and no NodePorts. */
  node: string | null;
  /** Hash bits of content-derived ids (default 27); tests lower it to force collisions. */
  idBits?: number;
  /** The debug build checks bounds and carries names in traps. */
  debug?: boolean;
}

const modules = new Map<string, WebAssembly.Module>();

function module(debug: boolean): WebAssembly.Module {
  const file = new URL(`../../build/compiler.${debug ? 'debug' : 'release'}.wasm`, import.meta.url);
  let m = modules.get(file.href);
  if (!m) {
    try {
      m = new WebAssembly.Module(readFileSync(file));
    } catch (e) {
      throw new Error(`cannot load ${file.pathname}: ${(e as Error).message}; run \`npm run build\` first`, { cause: e });
    }
    modules.set(file.href, m);
  }
  return m;
}

export class Compiler {
  private readonly x: Exports;
  /** Garbage collections run so far, and their time: for metrics and benchmarks. */
  readonly gc = { runs: 0, ms: 0 };
  private grew = false;
  private readonly badNames: Map<number, string>;

  constructor(opts: CompilerOptions) {
    let x: Exports | undefined;
    const abort = (msg: number, file: number, line: number, col: number) => {
      throw new Error(`compiler.wasm aborted: ${readAsString(x!.memory, msg)} at ${readAsString(x!.memory, file)}:${line}:${col}`);
    };
    x = new WebAssembly.Instance(module(opts.debug ?? false), { env: { abort } }).exports as unknown as Exports;
    this.x = x;
    // compiler/heapPages.ts's enum Bad, exported as one global per member.
    this.badNames = new Map(Object.entries(x).filter(([k]) => k.startsWith('Bad.')).map(([k, g]) => [(g as WebAssembly.Global).value as number, k.slice(4)]));
    const name = new TextEncoder().encode(opts.node ?? '');
    this.write(name);
    this.x.configure(name.length, opts.idBits ?? 27);
  }

  /** Applies a batch of encoded records; returns the ops that move the maps to
   * the new state, in bytes of the caller's own. */
  batch(records: Uint8Array): MapDiff {
    // The minimal runtime collects only when asked. Asking once after the heap
    // had to grow keeps memory near twice the live state at a cost amortized over
    // the batches that made the garbage; asking at the start of the next batch
    // keeps it off the batch that grew (a full sync). Diffs live outside the heap.
    if (this.grew) this.collect();
    this.write(records);
    const size = this.memoryBytes();
    const length = this.x.batch(records.length) >>> 0;
    this.grew = this.memoryBytes() > size;
    return this.diff(length);
  }

  /** Collects the compiler's garbage now rather than before the next batch. */
  collect(): void {
    const t = performance.now();
    this.x.__collect();
    this.gc.runs++;
    this.gc.ms += performance.now() - t;
    this.grew = false;
  }

  /**
   * Collects, then gives back the pages inside the heap's free blocks, which
   * hold nothing the allocator reads (compiler/heapPages.ts): WebAssembly
   * memory never shrinks, and the pages a full sync touched stay resident
   * after it. Throws, having dropped nothing, if the heap's layout is not the
   * one that module knows; pageBytes is the system's page size, a power of two.
   */
  releaseFree(drop: DropPages, pageBytes: number): HeapRelease {
    this.collect();
    const at = this.x.heapCheck() >>> 0;
    const [bad, used, free] = new Uint32Array(this.x.memory.buffer, at, 4);
    if (bad !== 0) throw new Error(`the compiler's heap is not laid out as compiler/heapPages.ts expects (${this.badNames.get(bad) ?? bad}): nothing released`);
    const pageBits = Math.log2(pageBytes);
    let released = 0;
    for (let r = BigInt.asUintN(64, this.x.freePages(pageBits)); r !== 0n; r = BigInt.asUintN(64, this.x.freePages(pageBits))) {
      const start = Number(r >> 32n), end = Number(r & 0xffffffffn);
      drop(new Uint8Array(this.x.memory.buffer, start, end - start));
      released += end - start;
    }
    return { used, free, released, memory: this.memoryBytes() };
  }

  /** The whole current state, as upserts into empty maps. */
  rebuild(): MapDiff {
    return this.diff(this.x.rebuild() >>> 0);
  }

  /** Changes whenever problems() may have changed (and sometimes when it has not). */
  problemsVersion(): number {
    return this.x.problemsVersion() >>> 0;
  }

  /** Objects the compiler could not honour in the current state, sorted. */
  problems(): Problem[] {
    const at = this.x.problems() >>> 0;
    const v = new DataView(this.x.memory.buffer);
    const count = v.getUint32(at + 4, true);
    const dec = new TextDecoder();
    let p = at + 8;
    const str = () => {
      const n = v.getUint16(p, true);
      const s = dec.decode(new Uint8Array(this.x.memory.buffer, p + 2, n));
      p += 2 + n;
      return s;
    };
    return Array.from({ length: count }, () => ({ object: str(), field: str(), reason: str() }));
  }

  /** sluice explain: one side of a flow on this node, from the compiled state
   * (compiler/policy/explain.ts): dir 'ingress' of the pod at self from peer,
   * 'egress' of the pod at self to peer; 'who' says who self is. */
  explain(self: number, peer: number, dir: 'ingress' | 'egress' | 'who', proto: number, port: number): unknown {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    v.setUint32(0, self >>> 0);
    v.setUint32(4, peer >>> 0);
    v.setUint8(8, dir === 'ingress' ? 0 : dir === 'egress' ? 1 : 255);
    v.setUint8(9, proto);
    v.setUint16(10, port, true);
    this.write(b);
    const at = this.x.explain() >>> 0;
    const mem = this.x.memory.buffer;
    const n = new DataView(mem).getUint32(at, true) - 4;
    return JSON.parse(new TextDecoder().decode(new Uint8Array(mem, at + 4, n)));
  }

  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  private write(bytes: Uint8Array): void {
    const at = this.x.input(bytes.length) >>> 0;
    new Uint8Array(this.x.memory.buffer, at, bytes.length).set(bytes); // view made after input() may grow memory
  }

  /** The diff just computed, length bytes, gathered from its pieces: the
   * compiler hands it out a megabyte at a time, so that a full compile's
   * (83 MiB at 5,000 Services of more than 32 backends) never sits whole in
   * its memory, which once touched stays resident. */
  private diff(length: number): MapDiff {
    const bytes = new Uint8Array(length);
    for (let got = 0; got < length;) {
      const at = this.x.piece() >>> 0;
      const mem = this.x.memory.buffer;
      const n = new DataView(mem).getUint32(at, true) - 4;
      if (n <= 0 || got + n > length) throw new Error(`compiler.wasm handed out a piece of ${n} bytes at ${got} of a ${length}-byte diff`);
      bytes.set(new Uint8Array(mem, at + 4, n), got);
      got += n;
    }
    return parseDiff(bytes);
  }
}

/** AssemblyScript strings are UTF-16 with their byte length just before them. */
function readAsString(mem: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '?';
  const len = new Uint32Array(mem.buffer, ptr - 4, 1)[0];
  return String.fromCharCode(...new Uint16Array(mem.buffer, ptr, len >>> 1));
}
