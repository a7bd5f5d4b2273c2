// What the socket iterators (bpf/lib/stale.h) report: one struct stale_sock
// per socket they destroyed, read from the iterator's fd. Decoding and the
// one-line summary `apply` prints and the agent logs. Pure.
import { STALE_SOCK } from '../abi/layouts.generated.ts';
import { uintReader } from '../abi/fieldReader.ts';
import { textOf } from '../encode/ipv4.ts';

export interface StaleSock { frontend: string; backend: string; proto: 'TCP' | 'UDP' }

const read = Object.fromEntries(['vip', 'vport', 'backend', 'port', 'proto'].map((f) => [f, uintReader(STALE_SOCK, f)]));

/** The records in bytes (a whole number of them, as the iterator writes them). */
export function decodeStaleSocks(bytes: Uint8Array): StaleSock[] {
  if (bytes.length % STALE_SOCK.size !== 0) throw new Error(`socket iterator wrote ${bytes.length} bytes, not whole ${STALE_SOCK.size}-byte records`);
  const out: StaleSock[] = [];
  for (let at = 0; at < bytes.length; at += STALE_SOCK.size) {
    const r = bytes.subarray(at, at + STALE_SOCK.size);
    out.push({
      frontend: `${textOf(read.vip(r))}:${read.vport(r)}`, backend: `${textOf(read.backend(r))}:${read.port(r)}`,
      proto: read.proto(r) === 6 ? 'TCP' : 'UDP',
    });
  }
  return out;
}

/** "3 destroyed (10.96.0.10:53/UDP 2, 10.96.81.81:80/TCP 1)", by frontend in text order; "none" when nothing was. */
export function describeStaleSocks(socks: readonly StaleSock[]): string {
  if (socks.length === 0) return 'none';
  const by = new Map<string, number>();
  for (const s of socks) {
    const k = `${s.frontend}/${s.proto}`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  const parts = [...by.keys()].sort().map((k) => `${k} ${by.get(k)}`);
  return `${socks.length} destroyed (${parts.join(', ')})`;
}
