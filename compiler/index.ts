// compiler.wasm's exports. The host writes a batch of records (abi/records.ts)
// into the input buffer and gets back the length of a MapDiff:
//   u32 total length · u32 section count · sections by map id, each
//   u32 map id · u32 key size · u32 value size · u32 upserts · u32 deletes ·
//   upsert keys · upsert values · delete keys (keys sorted by their bytes).
// It then reads the diff with piece() until it has that many bytes. Results
// live in a buffer the next call reuses.
import { piece as diffPiece } from './diff';
import { Engine } from './engine';
import { setHashBits } from './ids';
import * as out from './out';
import { explainSideJson, resolveJson } from './policy/explain';

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

/** Applies the first len input bytes as a batch; returns its diff's length. */
export function batch(len: u32): u32 {
  return engine.batch(inbuf.dataStart, <usize>len);
}

/** Every entry the maps should hold now, as upserts: the diff's length, as batch. */
export function rebuild(): u32 {
  return engine.rebuild();
}

/** The next piece of the last diff (batch or rebuild): u32 length, its own 4
 * bytes included, then the diff's next bytes. Any other call in between
 * leaves the rest of the diff as it was. */
export function piece(): usize {
  return diffPiece();
}

/** Objects that could not be compiled as asked, in the current state. */
export function problems(): usize {
  return engine.problems();
}

/** A number that changes whenever problems() may have: the host reads them only then. */
export function problemsVersion(): u32 {
  return engine.problemsVersion;
}

/** sluice explain, from the compiled state: the first 12 input bytes are the
 * pod's address and the peer's (network order), u8 direction (0 ingress of
 * the pod from the peer, 1 egress to it), u8 protocol, u16 port. Returns
 * u32 length · UTF-8 JSON of that side on this node; direction 255 gives the
 * first address's identity alone. */
export function explain(): usize {
  const p = inbuf.dataStart;
  const self = bswap<u32>(load<u32>(p)), peer = bswap<u32>(load<u32>(p, 4));
  const dir = load<u8>(p, 8);
  const json = dir == 255 ? resolveJson(engine.policy, self)
    : explainSideJson(engine.policy, <i32>dir, self, peer, load<u8>(p, 9), load<u16>(p, 10));
  const n = String.UTF8.byteLength(json);
  out.begin();
  const at = out.reserve(4 + n);
  String.UTF8.encodeUnsafe(changetype<usize>(json), json.length, out.at(at + 4));
  return out.finish();
}

/** The heap after a collection, and the pages inside its free blocks (heapPages.ts). */
export { check as heapCheck, freePages, Bad } from './heapPages';
