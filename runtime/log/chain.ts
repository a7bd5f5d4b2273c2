// The digest chain that seals an event log file. A running SHA-256 over the
// JSON of every record of the file, in order, header first, each followed by
// a newline; a boundary (batch, snapshot, end) is hashed without its own
// chain and mac fields, then carries the digest so far as "chain". Any
// record changed, added, removed, duplicated or moved inside a file changes
// every chain after it; a rotated file's header carries the previous file's
// last chain ("prev"), which links the files of one agent's run. With a key,
// each boundary also carries "mac", the HMAC-SHA256 of its chain under the
// key: without the key a forger can recompute the chain, not the mac.
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';

/** The boundary fields the chain itself supplies; always last in a boundary's JSON. */
export interface Seal { chain: string; mac?: string }

export class Chain {
  private readonly hash: Hash = createHash('sha256');

  /** Adds one record's JSON (a header or an event, or a boundary without its seal). */
  add(json: string): void {
    this.hash.update(json).update('\n');
  }

  /** The chain up to and including the last record added, hex. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

export const macOf = (key: Uint8Array, chain: string) => createHmac('sha256', key).update(chain).digest('hex');

/** Whether mac is the key's HMAC of chain (constant time). */
export function macMatches(key: Uint8Array, chain: string, mac: string): boolean {
  const want = Buffer.from(macOf(key, chain), 'hex'), got = Buffer.from(mac, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A boundary record's JSON as the chain hashed it: without chain and mac. */
export function unsealedJson(record: object): string {
  const { chain: _c, mac: _m, ...rest } = record as Seal;
  return JSON.stringify(rest);
}
