// Label strings, one copy of each. Issue 12's 10,000 Pods carry four labels
// each, but a few hundred distinct keys and values between them, and a
// string decoded for every label was 3 MiB of the compiler's heap. A pod's
// namespace, node and port names are held here too: 500, 100 and a few
// strings, not 10,000 each. A string is looked up by its UTF-8 bytes in the
// record, so one already held is not decoded again (decoding it to look it
// up would leave the copy as garbage, which the full sync's peak holds as
// much as the copy itself).
//
// Strings that no object uses any more would pile up (each rollout brings a
// new pod-template-hash), so when the table has doubled since it was last
// filled, its owner refills it from the labels it still holds.
import { hashBytes, hashString } from './hash';

/**
 * Whether s is the n bytes at p, for bytes that are ASCII. Others are never
 * found (label syntax allows none, though a snapshot's may have them): such a
 * string is decoded each time, which is still right.
 */
function sameBytes(s: string, p: usize, n: usize): bool {
  if (<usize>s.length != n) return false;
  for (let i: usize = 0; i < n; i++) {
    const b = <u32>load<u8>(p + i);
    if (b >= 0x80 || <u32>s.charCodeAt(<i32>i) != b) return false;
  }
  return true;
}

export class Strings {
  private byHash: Map<u64, string[]> = new Map();
  private held: i32 = 0;
  private filled: i32 = 0; // held at the last refill

  /** The string of the n UTF-8 bytes at p: the one held, else decoded and held. */
  at(p: usize, n: usize): string {
    const h = hashBytes(p, n, 0);
    if (this.byHash.has(h)) {
      const same = this.byHash.get(h);
      for (let i = 0; i < same.length; i++) if (sameBytes(unchecked(same[i]), p, n)) return unchecked(same[i]);
    }
    const s = String.UTF8.decodeUnsafe(p, n);
    this.hold(h, s);
    return s;
  }

  /** Whether it holds twice what it held after the last refill (and more than a few). */
  get stale(): bool { return this.held > max(2 * this.filled, 1024); }

  /** Forgets every string; keep() then refills it with those still in use. */
  clear(): void {
    this.byHash = new Map();
    this.held = 0;
  }

  /** Holds s (a string in use) unless a string of the same content is held. */
  keep(s: string): void {
    const h = hashString(s, 0);
    if (this.byHash.has(h)) {
      const same = this.byHash.get(h);
      for (let i = 0; i < same.length; i++) if (unchecked(same[i]) == s) return;
    }
    this.hold(h, s);
  }

  /** Adds s, which it does not hold, under its hash h. */
  private hold(h: u64, s: string): void {
    if (this.byHash.has(h)) this.byHash.get(h).push(s);
    else this.byHash.set(h, [s]);
    this.held++;
  }

  /** Marks the end of a refill. */
  refilled(): void { this.filled = this.held; }
}
