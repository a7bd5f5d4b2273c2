// Policy map entries, laid out as bpf/include/sluice_abi.h says, and the
// epoch: the XOR of a hash of every sl_ipid, sl_polcidr and sl_pol entry,
// kept up to date from the entries each diff removes and adds.
import {
  IPID_VAL_FLAGS, IPID_VAL_GROUP, IPID_VAL_IDENTITY, IPID_VAL_KINDS, IPID_VAL_NS, POL_VAL_ACTION, POL_VAL_RULE,
  POLCIDR_VAL_KIND, POLCIDR_VAL_PREFIX, POLSTATE_VAL_EPOCH, POLSTATE_VAL_FLAGS, SL_MAP_IPID, SL_MAP_POL,
  SL_MAP_POLCIDR, SL_MAP_POLNAME, SL_MAP_POLSTATE, SL_POL_ALLOW, SL_SVCNAME_LEN,
} from '../abi/layouts';
import { MapSet } from '../diff';
import { fmix64 } from '../hash';

/** What one address's sl_ipid entry says. */
export class IpidVal {
  constructor(
    public identity: u32, public ns: u32, public g0: u32, public g1: u32,
    public k0: u8, public k1: u8, public flags: u8,
  ) {}

  same(o: IpidVal): bool {
    return this.identity == o.identity && this.ns == o.ns && this.g0 == o.g0 && this.g1 == o.g1 &&
      this.k0 == o.k0 && this.k1 == o.k1 && this.flags == o.flags;
  }
}

/** A group's entries as the maps hold them: keys whole, values resolved. */
export class GroupImage {
  polHi: u64[] = [];
  polLo: u64[] = [];
  polRule: u32[] = [];
  cidrHi: u64[] = [];
  cidrLo: u64[] = [];
  cidrVal: u64[] = []; // kind << 32 | prefix
}

@inline function entryHash(map: i32, hi: u64, lo: u64, v: u64): u32 {
  return <u32>fmix64(hi ^ fmix64(lo ^ fmix64(v ^ (<u64>map << 56))));
}

/** Pushes entries into a MapSet and folds each into the epoch. */
export class Emitter {
  epoch: u32 = 0;

  ipid(set: MapSet, ip: u32, v: IpidVal): void {
    const hi = (<u64>ip) << 32;
    const p = set.get(SL_MAP_IPID).push(hi, 0);
    store<u32>(p + IPID_VAL_IDENTITY, bswap<u32>(v.identity));
    store<u32>(p + IPID_VAL_NS, bswap<u32>(v.ns));
    store<u32>(p + IPID_VAL_GROUP, bswap<u32>(v.g0));
    store<u32>(p + IPID_VAL_GROUP + 4, bswap<u32>(v.g1));
    store<u8>(p + IPID_VAL_KINDS, v.k0);
    store<u8>(p + IPID_VAL_KINDS + 1, v.k1);
    store<u8>(p + IPID_VAL_FLAGS, v.flags);
    const packed = ((<u64>v.identity) << 32 | <u64>v.ns) ^ fmix64((<u64>v.g0) << 32 | <u64>v.g1) ^
      ((<u64>v.k0) << 16 | (<u64>v.k1) << 8 | <u64>v.flags);
    this.epoch ^= entryHash(SL_MAP_IPID, hi, 0, packed);
  }

  group(set: MapSet, g: GroupImage): void {
    const pol = set.get(SL_MAP_POL);
    for (let i = 0; i < g.polHi.length; i++) {
      const hi = unchecked(g.polHi[i]), lo = unchecked(g.polLo[i]), rule = unchecked(g.polRule[i]);
      const p = pol.push(hi, lo);
      store<u32>(p + POL_VAL_RULE, bswap<u32>(rule));
      store<u8>(p + POL_VAL_ACTION, <u8>SL_POL_ALLOW);
      this.epoch ^= entryHash(SL_MAP_POL, hi, lo, <u64>rule);
    }
    const cidr = set.get(SL_MAP_POLCIDR);
    for (let i = 0; i < g.cidrHi.length; i++) {
      const hi = unchecked(g.cidrHi[i]), lo = unchecked(g.cidrLo[i]), v = unchecked(g.cidrVal[i]);
      const p = cidr.push(hi, lo);
      store<u8>(p + POLCIDR_VAL_KIND, <u8>(v >> 32));
      store<u32>(p + POLCIDR_VAL_PREFIX, bswap<u32>(<u32>v));
      this.epoch ^= entryHash(SL_MAP_POLCIDR, hi, lo, v);
    }
  }

  name(set: MapSet, id: u32, name: string): void {
    const p = set.get(SL_MAP_POLNAME).push((<u64>id) << 32, 0);
    if (String.UTF8.byteLength(name) < SL_SVCNAME_LEN) String.UTF8.encodeUnsafe(changetype<usize>(name), name.length, p);
  }

  state(set: MapSet, epoch: u32, flags: u32): void {
    const p = set.get(SL_MAP_POLSTATE).push(0, 0);
    store<u32>(p + POLSTATE_VAL_EPOCH, epoch);
    store<u32>(p + POLSTATE_VAL_FLAGS, flags);
  }
}
