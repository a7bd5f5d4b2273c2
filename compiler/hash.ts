// 64-bit content hashes: FNV-1a over the bytes, then the murmur3 finalizer,
// whose avalanche makes every output bit depend on every input bit (FNV alone
// leaves the high bits weak for short inputs like an address and a port).

const FNV_OFFSET: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

@inline export function fmix64(h: u64): u64 {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 33;
  return h;
}

export function hashBytes(ptr: usize, len: usize, seed: u64): u64 {
  let h = FNV_OFFSET ^ seed;
  for (let i: usize = 0; i < len; i++) {
    h ^= <u64>load<u8>(ptr + i);
    h *= FNV_PRIME;
  }
  return fmix64(h);
}

let scratch = new ArrayBuffer(256);

/** Hash of a string's UTF-8 bytes. */
export function hashString(s: string, seed: u64): u64 {
  const n = String.UTF8.byteLength(s);
  if (n > scratch.byteLength) scratch = new ArrayBuffer(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, changetype<usize>(scratch));
  return hashBytes(changetype<usize>(scratch), <usize>n, seed);
}

/** Hash of an IPv4 address (network-order bytes as loaded) and a port. */
export function hashAddr(ip: u32, port: u16, seed: u64): u64 {
  return fmix64((((<u64>ip) << 16) | <u64>port) ^ fmix64(seed));
}
