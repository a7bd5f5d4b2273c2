// Loads build/compiler.wasm and moves bytes in and out of it. The compiler
// keeps the cluster model between batches; one Compiler is one node's view.
import { readFileSync } from 'node:fs';
import { MAPS } from '../abi/layouts.generated.ts';
import type { MapDiff, MapOps } from '../maps/mapDiff.ts';

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
  problems(): number;
}

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
      throw new Error(`cannot load ${file.pathname}: ${(e as Error).message}; run \`npm run build\` first`);
    }
    modules.set(file.href, m);
  }
  return m;
}

export class Compiler {
  private readonly x: Exports;

  constructor(opts: CompilerOptions) {
    let x: Exports | undefined;
    const abort = (msg: number, file: number, line: number, col: number) => {
      throw new Error(`compiler.wasm aborted: ${readAsString(x!.memory, msg)} at ${readAsString(x!.memory, file)}:${line}:${col}`);
    };
    x = new WebAssembly.Instance(module(opts.debug ?? false), { env: { abort } }).exports as unknown as Exports;
    this.x = x;
    const name = new TextEncoder().encode(opts.node ?? '');
    this.write(name);
    this.x.configure(name.length, opts.idBits ?? 27);
  }

  /** Applies a batch of encoded records; returns the ops that move the maps to the new state. */
  batch(records: Uint8Array): MapDiff {
    this.write(records);
    return this.diffAt(this.x.batch(records.length));
  }

  /** The whole current state, as upserts into empty maps. */
  rebuild(): MapDiff {
    return this.diffAt(this.x.rebuild());
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

  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  private write(bytes: Uint8Array): void {
    const at = this.x.input(bytes.length) >>> 0;
    new Uint8Array(this.x.memory.buffer, at, bytes.length).set(bytes); // view made after input() may grow memory
  }

  /** Copies the diff out: the compiler reuses its output buffer on the next call. */
  private diffAt(at: number): MapDiff {
    at >>>= 0;
    const mem = this.x.memory.buffer;
    const v = new DataView(mem);
    const bytes = new Uint8Array(mem.slice(at, at + v.getUint32(at, true)));
    const d = new DataView(bytes.buffer);
    const sections: MapOps[] = [];
    let p = 8;
    for (let i = d.getUint32(4, true); i > 0; i--) {
      const id = d.getUint32(p, true), ks = d.getUint32(p + 4, true), vs = d.getUint32(p + 8, true);
      const nu = d.getUint32(p + 12, true), nd = d.getUint32(p + 16, true);
      const map = MAPS.find((m) => m.id === id);
      if (!map || map.key.size !== ks || map.value.size !== vs) {
        throw new Error(`compiler.wasm and runtime/abi disagree on map ${id} (key ${ks}, value ${vs}): rebuild both`);
      }
      p += 20;
      const upsertKeys = bytes.subarray(p, (p += nu * ks));
      const upsertValues = bytes.subarray(p, (p += nu * vs));
      const deleteKeys = bytes.subarray(p, (p += nd * ks));
      sections.push({ map, upsertKeys, upsertValues, deleteKeys });
    }
    return { sections, bytes };
  }
}

/** AssemblyScript strings are UTF-16 with their byte length just before them. */
function readAsString(mem: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '?';
  const len = new Uint32Array(mem.buffer, ptr - 4, 1)[0];
  return String.fromCharCode(...new Uint16Array(mem.buffer, ptr, len >>> 1));
}
