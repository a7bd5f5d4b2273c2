// bpf(2) through libc's syscall() (native.ts): one function per command this
// project uses. The commands whose errno decides the result (absent, the end
// of a map, how many a batch did) go through libbpf's wrappers instead, which
// hand -errno back from C: errno read after syscall() has returned to
// JavaScript can be another call's (a map walk once ended in EAGAIN so).
// Attr layouts follow union bpf_attr in linux/bpf.h (offsets checked against
// the kernel headers, see TOOLCHAIN.md).
import { address, errno as lastErrno, libbpf, libc } from './native.ts';
import { constants } from 'node:os';

const NR_BPF = 321; // x86_64
const ATTR_SIZE = 144;

const CMD = {
  MAP_CREATE: 0, OBJ_PIN: 6, PROG_TEST_RUN: 10, OBJ_GET_INFO_BY_FD: 15, LINK_CREATE: 28, LINK_UPDATE: 29, ITER_CREATE: 33,
} as const;
type Command = keyof typeof CMD;

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

const errnoNames = new Map<number, string>([...Object.entries(constants.errno).map(([name, n]) => [n, name] as const), [524, 'ENOTSUPP']]);

/** "ENOENT" for 2; "errno N" for a number without a name. */
export const errnoName = (n: number) => errnoNames.get(n) ?? `errno ${n}`;

export class BpfError extends Error {
  readonly op: string;
  readonly errno: number;
  /** Entries a batch command handled before it failed. */
  readonly count: number;
  constructor(op: string, errno: number, count = 0, detail = '') {
    super(`${op}: ${errnoName(errno)}${detail ? ` (${detail})` : ''}`);
    this.op = op;
    this.errno = errno;
    this.count = count;
  }
}

export const errno = constants.errno;

/** The kernel's ENOTSUPP (524, not a userspace errno): a map type without batch ops says so. */
export const ENOTSUPP = 524;

/** Runs one command; returns its result or -errno (read right after: good for a message, not for a decision). */
function bpf(cmd: Command, attr: Buffer): number {
  const r = Number(libc.syscall(NR_BPF, CMD[cmd], attr, ATTR_SIZE));
  return r < 0 ? -lastErrno() : r;
}

function must(cmd: Command, attr: Buffer, what = ''): number {
  const r = bpf(cmd, attr);
  if (r < 0) throw new BpfError(what ? `${cmd} ${what}` : cmd, -r);
  return r;
}

export function close(fd: number): void {
  libc.close(fd);
}

export function mapCreate(type: number, keySize: number, valueSize: number, maxEntries: number, flags: number, name: string): number {
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeUInt32LE(type, 0);
  a.writeUInt32LE(keySize, 4);
  a.writeUInt32LE(valueSize, 8);
  a.writeUInt32LE(maxEntries, 12);
  a.writeUInt32LE(flags, 16);
  a.write(name.slice(0, 15), 28, 'latin1');
  return must('MAP_CREATE', a, name);
}

/** A libbpf wrapper's result r of op: false for ENOENT (absent, or the end), true for success; throws otherwise. */
function found(op: string, r: number): boolean {
  if (r === -errno.ENOENT) return false;
  if (r < 0) throw new BpfError(op, -r);
  return true;
}

/** Fills value and returns true, or returns false when the key is absent. */
export const mapLookup = (fd: number, key: Uint8Array, value: Uint8Array): boolean => found('MAP_LOOKUP_ELEM', libbpf().lookupElem(fd, key, value));

export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
  const r = libbpf().updateElem(fd, key, value, flags);
  if (r < 0) throw new BpfError('MAP_UPDATE_ELEM', -r);
}

/** Returns false when the key was absent. */
export const mapDelete = (fd: number, key: Uint8Array): boolean => found('MAP_DELETE_ELEM', libbpf().deleteElem(fd, key));

/** Writes the key after `key` (the first key when null) into next; false at the end. */
export const mapNextKey = (fd: number, key: Uint8Array | null, next: Uint8Array): boolean => found('MAP_GET_NEXT_KEY', libbpf().nextKey(fd, key, next));

/** One BPF_MAP_UPDATE_BATCH of count packed keys and values. */
export function mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number): void {
  const n = Uint32Array.of(count);
  const r = libbpf().updateBatch(fd, keys, values, n, null);
  if (r < 0) throw new BpfError('MAP_UPDATE_BATCH', -r, n[0]);
}

/** One BPF_MAP_DELETE_BATCH; every key must exist (ENOENT otherwise). */
export function mapDeleteBatch(fd: number, keys: Uint8Array, count: number): void {
  const n = Uint32Array.of(count);
  const r = libbpf().deleteBatch(fd, keys, n, null);
  if (r < 0) throw new BpfError('MAP_DELETE_BATCH', -r, n[0]);
}

/** BPF_MAP_LOOKUP_BATCH over a hash map: calls back with each chunk of packed
 * keys and values, until the map is read through. */
export function mapLookupAll(fd: number, keySize: number, valueSize: number, each: (keys: Uint8Array, values: Uint8Array, n: number) => void, chunk = 4096): void {
  const keys = new Uint8Array(chunk * keySize), values = new Uint8Array(chunk * valueSize);
  // The position token: a hash map's is a 4-byte bucket, the generic batch ops' (LPM tries) a whole key.
  const tokenIn = new Uint8Array(Math.max(8, keySize)), tokenOut = new Uint8Array(Math.max(8, keySize));
  const count = new Uint32Array(1);
  let first = true;
  for (;;) {
    count[0] = chunk;
    const r = libbpf().lookupBatch(fd, first ? null : tokenIn, tokenOut, keys, values, count, null);
    const n = count[0];
    if (r < 0 && r !== -errno.ENOENT) throw new BpfError('MAP_LOOKUP_BATCH', -r, n);
    if (n > 0) each(keys, values, n);
    if (r === -errno.ENOENT) return;
    tokenIn.set(tokenOut);
    first = false;
  }
}

export function objPin(fd: number, path: string): void {
  const p = Buffer.from(`${path}\0`);
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeBigUInt64LE(address(p), 0);
  a.writeUInt32LE(fd, 8);
  must('OBJ_PIN', a, path);
}

/** Opens a pinned object; returns -ENOENT's absence as null. */
export function objGet(path: string): number | null {
  const r = libbpf().objGet(path);
  return found(`OBJ_GET ${path}`, r) ? r : null;
}

export interface MapInfo { type: number; id: number; keySize: number; valueSize: number; maxEntries: number; flags: number; name: string }

/** BPF_OBJ_GET_INFO_BY_FD into info, a struct bpf_{map,prog,link}_info the caller sized (and primed). */
function objInfo(fd: number, info: Buffer, what: string): Buffer {
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeUInt32LE(fd, 0);
  a.writeUInt32LE(info.length, 4);
  a.writeBigUInt64LE(address(info), 8);
  must('OBJ_GET_INFO_BY_FD', a, what);
  return info;
}

export function mapInfo(fd: number): MapInfo {
  const info = objInfo(fd, Buffer.alloc(88), 'map');
  return {
    type: info.readUInt32LE(0), id: info.readUInt32LE(4), keySize: info.readUInt32LE(8), valueSize: info.readUInt32LE(12),
    maxEntries: info.readUInt32LE(16), flags: info.readUInt32LE(20), name: info.toString('latin1', 24, 40).replace(/\0.*$/, ''),
  };
}

export const BPF_MAP_TYPE = {
  HASH: 1, ARRAY: 2, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11,
} as const;

export interface ProgInfo { type: number; id: number; tag: string; name: string; mapIds: number[]; xlatedBytes: number }

/** struct bpf_prog_info: type@0 id@4 tag[8]@8 xlated_prog_len@20 nr_map_ids@52 map_ids@56 name[16]@64. */
export function progInfo(fd: number): ProgInfo {
  const ids = new Uint32Array(64);
  const info = Buffer.alloc(80);
  info.writeUInt32LE(ids.length, 52);
  info.writeBigUInt64LE(address(ids), 56);
  objInfo(fd, info, 'program');
  const n = Math.min(info.readUInt32LE(52), ids.length);
  return {
    type: info.readUInt32LE(0), id: info.readUInt32LE(4), tag: info.toString('hex', 8, 16),
    name: info.toString('latin1', 64, 80).replace(/\0.*$/, ''), mapIds: [...ids.subarray(0, n)], xlatedBytes: info.readUInt32LE(20),
  };
}

/** An fd of the program with this id, or null when it is gone. */
export function progFdById(id: number): number | null {
  const r = libbpf().progFdById(id);
  return found(`PROG_GET_FD_BY_ID ${id}`, r) ? r : null;
}

/** An fd of the map with this id, or null when it is gone. */
export function mapFdById(id: number): number | null {
  const r = libbpf().mapFdById(id);
  return found(`MAP_GET_FD_BY_ID ${id}`, r) ? r : null;
}

/** BPF_LINK_CREATE: attaches a program to target (a cgroup's fd; 0 for an iterator) at attachType; returns the link's fd. */
export function linkCreate(progFd: number, targetFd: number, attachType: number): number {
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeUInt32LE(progFd, 0);
  a.writeUInt32LE(targetFd, 4);
  a.writeUInt32LE(attachType, 8);
  return must('LINK_CREATE', a, `attach type ${attachType}`);
}

/** BPF_LINK_UPDATE: the link runs progFd from now on; the kernel swaps them atomically. */
export function linkUpdate(linkFd: number, progFd: number): void {
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeUInt32LE(linkFd, 0);
  a.writeUInt32LE(progFd, 4);
  must('LINK_UPDATE', a);
}

/** BPF_ITER_CREATE: an iterator of an iterator program's link, in the calling thread's network namespace; read it to run it. */
export function iterCreate(linkFd: number): number {
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeUInt32LE(linkFd, 0);
  return must('ITER_CREATE', a);
}

export const BPF_LINK_TYPE_CGROUP = 3;

export interface LinkInfo { type: number; id: number; progId: number; attachType: number }

/** struct bpf_link_info: type@0 id@4 prog_id@8; for cgroup links cgroup_id@16 attach_type@24. */
export function linkInfo(fd: number): LinkInfo {
  const info = objInfo(fd, Buffer.alloc(32), 'link');
  const type = info.readUInt32LE(0);
  return { type, id: info.readUInt32LE(4), progId: info.readUInt32LE(8), attachType: type === BPF_LINK_TYPE_CGROUP ? info.readUInt32LE(24) : -1 };
}

export interface TestRun { retval: number; data: Uint8Array; durationNs: number }

const SK_BUFF_SIZE = 192, SK_BUFF_IFINDEX = 40; // struct __sk_buff, the context of a tc program

/**
 * BPF_PROG_TEST_RUN: runs a program on a packet, returns its verdict and the
 * packet it left. ifindex: the device the packet comes in by (a tc program's
 * context); without it, the loopback of the calling thread's namespace.
 */
export function progTestRun(progFd: number, packet: Uint8Array, o: { repeat?: number; ifindex?: number } = {}): TestRun {
  const out = new Uint8Array(packet.length + 256);
  const ctx = new Uint8Array(SK_BUFF_SIZE);
  new DataView(ctx.buffer).setUint32(SK_BUFF_IFINDEX, o.ifindex ?? 0, true);
  const a = Buffer.alloc(ATTR_SIZE);
  a.writeUInt32LE(progFd, 0);
  a.writeUInt32LE(packet.length, 8);
  a.writeUInt32LE(out.length, 12);
  a.writeBigUInt64LE(address(packet), 16);
  a.writeBigUInt64LE(address(out), 24);
  a.writeUInt32LE(o.repeat ?? 1, 32);
  if (o.ifindex) {
    a.writeUInt32LE(ctx.length, 40);
    a.writeBigUInt64LE(address(ctx), 48);
  }
  must('PROG_TEST_RUN', a);
  return { retval: a.readUInt32LE(4), data: out.slice(0, a.readUInt32LE(12)), durationNs: a.readUInt32LE(36) };
}
