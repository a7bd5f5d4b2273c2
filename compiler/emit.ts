// The map entries of one backend set and of one frontend, laid out as
// bpf/include/sluice_abi.h says (through the generated abi/layouts).
import {
  BE_VAL_FLAGS, BE_VAL_IP, BE_VAL_PORT, SL_MAP_BE, SL_MAP_MAGLEV, SL_MAP_SRCRANGE,
  SL_MAP_SVC, SL_MAP_SVCNAME, SL_SVCNAME_LEN, SVC_VAL_AFFINITY, SVC_VAL_BSET, SVC_VAL_COUNT,
  SVC_VAL_FLAGS, SVC_VAL_KIND, SVC_VAL_SLOTS,
} from './abi/layouts';
import { MapSet } from './diff';
import { Cidr } from './model';
import { BsetSpec } from './services';

/** A backend set as the maps hold it. */
export class BsetState {
  constructor(public id: u32, public spec: BsetSpec) {}
}

/** Emits a backend set's entries under id: its backends, table and owner.
 * The table's entries are built when the diff reads them (tables.ts). */
export function emitBset(set: MapSet, id: u32, spec: BsetSpec): void {
  if (id == 0) return; // no id (full bucket): its frontends reject, see frontState
  const top = (<u64>id) << 32;
  const backends = spec.backends;
  const be = set.get(SL_MAP_BE);
  for (let i = 0; i < backends.length; i++) {
    const b = unchecked(backends[i]);
    const v = be.push(top | <u64>b.id, 0);
    store<u32>(v + BE_VAL_IP, b.ip);
    store<u16>(v + BE_VAL_PORT, bswap<u16>(b.port));
    store<u8>(v + BE_VAL_FLAGS, b.flags);
  }
  set.get(SL_MAP_MAGLEV).pushTable(top, backends);
  // Kubernetes names make "namespace/name" at most 127 bytes, so it fits with its NUL.
  const owner = spec.owner;
  const v = set.get(SL_MAP_SVCNAME).push(top, 0);
  if (String.UTF8.byteLength(owner) < SL_SVCNAME_LEN) String.UTF8.encodeUnsafe(changetype<usize>(owner), owner.length, v);
}

/** A frontend's value, resolved against its backend set's id and size. */
export class FrontState {
  constructor(
    public bset: u32, public slots: u32, public affinity: u32, public count: u16,
    public kind: u8, public flags: u8, public ranges: StaticArray<Cidr>,
  ) {}
}

export function emitFront(set: MapSet, key: u64, f: FrontState): void {
  const v = set.get(SL_MAP_SVC).push(key, 0);
  store<u32>(v + SVC_VAL_BSET, f.bset);
  store<u32>(v + SVC_VAL_SLOTS, f.slots);
  store<u32>(v + SVC_VAL_AFFINITY, f.affinity);
  store<u16>(v + SVC_VAL_COUNT, f.count);
  store<u8>(v + SVC_VAL_KIND, f.kind);
  store<u8>(v + SVC_VAL_FLAGS, f.flags);
  // LPM key: host-order prefixlen, then the frontend's vip/port/proto, then the client.
  const front = key >> 8; // vip, port, proto
  const lpm = set.get(SL_MAP_SRCRANGE);
  for (let i = 0; i < f.ranges.length; i++) {
    const r = unchecked(f.ranges[i]);
    const hi = ((<u64>bswap<u32>(64 + <u32>r.prefix)) << 32) | (front >> 24);
    const lo = ((front & 0xffffff) << 40) | <u64>bswap<u32>(r.ip);
    store<u32>(lpm.push(hi, lo), 1);
  }
}
