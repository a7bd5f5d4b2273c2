// sl_podnet: where pods are, for forwarding past the stack (bpf/lib/fwd.h).
// Each local pod's address (/32) with the host side of its interface, and
// each other node's podCIDR. The agent and `sluice apply` own it: they write
// it whole from interface discovery and the Nodes, and only the entries
// that differ reach the kernel.
import { join } from 'node:path';
import { NODE_MAPS } from '../abi/layouts.generated.ts';
import { parseCidr } from '../encode/ip.ts';
import { fieldOf } from '../abi/fieldReader.ts';
import type { PodAddr } from './pickInterfaces.ts';
import * as S from '../bpf/syscall.ts';

const LAYOUT = NODE_MAPS.find((m) => m.name === 'sl_podnet')!;
const PREFIXLEN = fieldOf(LAYOUT.key, 'prefixlen'), ADDR = fieldOf(LAYOUT.key, 'addr'), IFINDEX = fieldOf(LAYOUT.value, 'ifindex');

export interface PodnetEntry { key: Uint8Array; value: Uint8Array }

function entry(cidr: string, ifindex: number): PodnetEntry {
  const c = parseCidr(cidr);
  if (!c || c.ip.family !== 4) throw new Error(`sl_podnet: ${cidr} is not an IPv4 CIDR`);
  const key = new Uint8Array(LAYOUT.key.size), value = new Uint8Array(LAYOUT.value.size);
  new DataView(key.buffer).setUint32(PREFIXLEN.offset, c.prefix, true); // host order, as the kernel wants it
  key.set(c.ip.bytes, ADDR.offset); // network order
  new DataView(value.buffer).setUint32(IFINDEX.offset, ifindex, true);
  return { key, value };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The map's whole contents, by key (hex): other nodes' podCIDRs, then local pods (which win a clash). */
export function podnetImage(podAddrs: readonly PodAddr[], peerPodCidrs: readonly string[]): Map<string, PodnetEntry> {
  const out = new Map<string, PodnetEntry>();
  for (const c of peerPodCidrs) {
    const e = entry(c, 0);
    out.set(hex(e.key), e);
  }
  for (const p of podAddrs) {
    const e = entry(`${p.ip}/32`, p.ifindex);
    out.set(hex(e.key), e);
  }
  return out;
}

export interface PodnetSync { entries: number; local: number; added: number; removed: number; changed: number }

/** Brings the sl_podnet pinned under pinRoot to image, one entry at a time (an LPM trie has no batch ops on every kernel). */
export function syncPodnet(pinRoot: string, image: ReadonlyMap<string, PodnetEntry>): PodnetSync {
  const path = join(pinRoot, LAYOUT.name);
  const fd = S.objGet(path);
  if (fd === null) throw new Error(`open ${LAYOUT.name}: no map pinned at ${path}; the datapath is not loaded`);
  const r: PodnetSync = { entries: image.size, local: 0, added: 0, removed: 0, changed: 0 };
  try {
    const have = new Map<string, Uint8Array>();
    const key = new Uint8Array(LAYOUT.key.size), value = new Uint8Array(LAYOUT.value.size);
    for (let at: Uint8Array | null = null; S.mapNextKey(fd, at, key); at = key.slice()) {
      if (S.mapLookup(fd, key, value)) have.set(hex(key), value.slice());
    }
    for (const k of have.keys()) {
      if (image.has(k)) continue;
      S.mapDelete(fd, Buffer.from(k, 'hex'));
      r.removed++;
    }
    for (const [k, e] of image) {
      if (new DataView(e.value.buffer).getUint32(IFINDEX.offset, true) !== 0) r.local++;
      const old = have.get(k);
      if (old && hex(old) === hex(e.value)) continue;
      S.mapUpdate(fd, e.key, e.value);
      if (old) r.changed++;
      else r.added++;
    }
  } finally {
    S.close(fd);
  }
  return r;
}

/** One line for apply and the agent's log: "sl_podnet: 2 local pods, 1 podCIDR of other nodes (+3 -0 ~0)". */
export const podnetLine = (s: PodnetSync) =>
  `sl_podnet: ${s.local} local pod${s.local === 1 ? '' : 's'}, ${s.entries - s.local} podCIDR${s.entries - s.local === 1 ? '' : 's'} of other nodes ` +
  `(+${s.added} -${s.removed} ~${s.changed})`;
