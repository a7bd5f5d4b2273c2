// compiler.wasm's exports. The host writes a batch of records (abi/records.ts)
// into the input buffer and gets back the address of a MapDiff:
//   u32 total length · u32 section count · sections by map id, each
//   u32 map id · u32 key size · u32 value size · u32 upserts · u32 deletes ·
//   upsert keys · upsert values · delete keys (keys sorted by their bytes).
// The result lives in a buffer the next call reuses.
import { Engine } from './engine';
import { setHashBits } from './ids';

let engine = new Engine();
let inbuf = new Uint8Array(1 << 16);

/** Address of an input buffer of at least len bytes. */
export function input(len: u32): usize {
  if (<u32>inbuf.length < len) inbuf = new Uint8Array(max(<i32>len, inbuf.length * 2));
  return inbuf.dataStart;
}

/** Starts over for one node: its name is the first nodeLen input bytes. */
export function configure(nodeLen: u32, idBits: u32): void {
  setHashBits(idBits);
  engine = new Engine();
  engine.cluster.nodeBytes = inbuf.slice(0, <i32>nodeLen).buffer;
}

/** Applies the first len input bytes as a batch; returns the diff. */
export function batch(len: u32): usize {
  return engine.batch(inbuf.dataStart, <usize>len);
}

/** Every entry the maps should hold now, as upserts. */
export function rebuild(): usize {
  return engine.rebuild();
}

/** Objects that could not be compiled as asked, in the current state. */
export function problems(): usize {
  return engine.problems();
}

/** A number that changes whenever problems() may have: the host reads them only then. */
export function problemsVersion(): u32 {
  return engine.problemsVersion;
}
