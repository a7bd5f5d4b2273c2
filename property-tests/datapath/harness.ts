// Runs the datapath programs of build/bpf/sluice.o on the real kernel with
// BPF_PROG_TEST_RUN. Each Datapath is one load of the object under a fresh
// pin root, with the compiler-owned maps filled by the real compiler: the
// cluster's objects go through normalize, encode and compiler.wasm, and its
// diff goes into the pinned maps with the batch calls, so the tests check
// that the compiler and the datapath read the maps the same way. The
// programs run inside a network namespace made as the node's network
// (nodeNet.ts), on the device a packet would arrive by, so their route
// lookups see that network; sl_podnet holds its pods, written as the agent
// writes it.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { DEFAULT_TIMEOUTS, encodeConfig, type DatapathConfig } from '../../runtime/bpf/config.ts';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf } from '../../runtime/streams/recordsOf.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import type { MapDiff } from '../../runtime/maps/mapDiff.ts';
import { bytesReader, u64Reader, uintReader } from '../../runtime/abi/fieldReader.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { ipBytes, ipText, ETH_HLEN as ETH } from '../../testkit/packet.ts';
import { neighboursOf, type NodeNet } from '../model/datapath.ts';
import { inNetns } from '../../runtime/bpf/netns.ts';
import { podnetImage, syncPodnet } from '../../runtime/dataplane/podnet.ts';
import { dropNodeNet, forgetNeighbour, makeNodeNet, restoreNeighbours, type MadeNet } from './nodeNet.ts';
import type { BpfObject } from '../../runtime/bpf/libbpf.ts';
import { SOCK_HOOKS } from '../../runtime/bpf/sockHooks.ts';
import { libbpf, OBJECT, sys } from './gate.ts';
import { STAT_NAMES } from '../../runtime/view/state.ts';

export { bpfTest, bpfUnavailableReason, OBJECT } from './gate.ts';

export const PROGRAMS = ['sl_from_pod', 'sl_to_pod', 'sl_from_netdev'] as const;
/** The cgroup programs: loaded with the rest; the kernel has no PROG_TEST_RUN for them (property-tests/e2e tests them). */
export const SOCK_PROGRAMS = SOCK_HOOKS.map((h) => h.program);
export type Program = (typeof PROGRAMS)[number] | (typeof SOCK_PROGRAMS)[number];

export { ETH_HLEN } from '../../testkit/packet.ts';
export const TC_ACT = { OK: 0, SHOT: 2, REDIRECT: 7 } as const;
export const VERDICT_NAMES: { [v: number]: string } = { 0: 'TC_ACT_OK', 2: 'TC_ACT_SHOT', 7: 'TC_ACT_REDIRECT' };

export const CONFIG: DatapathConfig = {
  netnsCookie: 0n,
  nodeIp: ipBytes('192.168.1.10'),
  hairpinIp: ipBytes('169.254.42.1'),
  flags: 0,
  ...DEFAULT_TIMEOUTS,
};

export interface DatapathOptions {
  objects: unknown[]; // Kubernetes objects, as `kubectl get -o json` prints them
  node: string; // the node whose maps to compile
  net: NodeNet; // that node's network
  config?: Partial<DatapathConfig>;
}

/** Small maps: every load of a test preallocates them. */
const TEST_MAX_ENTRIES: { [map in A.MapName]?: number } = { sl_svc: 1024, sl_be: 4096, sl_ct: 4096, sl_affinity: 1024 };

export interface RunResult { verdict: number; frame: Uint8Array }

export interface CtEntry {
  key: { saddr: string; daddr: string; sport: number; dport: number; proto: number };
  expires: bigint;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  bset: number;
  backend: number;
  state: number;
  flags: number;
  peerMac: string;
  polgen: number;
}

const CT = A.STATE_MAPS.find((m) => m.name === 'sl_ct')!;
const ctKey = {
  saddr: bytesReader(CT.key, 'saddr'), daddr: bytesReader(CT.key, 'daddr'),
  sport: uintReader(CT.key, 'sport'), dport: uintReader(CT.key, 'dport'), proto: uintReader(CT.key, 'proto'),
};
const ctVal = {
  expires: u64Reader(CT.value, 'expires'), saddr: bytesReader(CT.value, 'saddr'), daddr: bytesReader(CT.value, 'daddr'),
  sport: uintReader(CT.value, 'sport'), dport: uintReader(CT.value, 'dport'), bset: uintReader(CT.value, 'bset'),
  backend: uintReader(CT.value, 'backend'), state: uintReader(CT.value, 'state'), flags: uintReader(CT.value, 'flags'),
  peerMac: bytesReader(CT.value, 'peer_mac'), polgen: uintReader(CT.value, 'polgen'),
};

let nets = 0;

export class Datapath {
  readonly pinRoot: string;
  private readonly node: string;
  private config: Uint8Array = new Uint8Array(0);
  private readonly described: NodeNet;
  private made: MadeNet | undefined;
  private unresolved: string[] = [];
  private obj: BpfObject | null = null;
  private compiler!: Compiler;
  private readonly progFds = new Map<string, number>();
  private readonly mapFds = new Map<string, number>();

  /** Loads the object under a new pin root and compiles objects into its maps.
   * Call close() (withDatapath does) even when this throws. */
  constructor(opts: DatapathOptions) {
    this.pinRoot = `/sys/fs/bpf/sluice-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.node = opts.node;
    this.described = opts.net;
    mkdirSync(this.pinRoot); // not recursive: on a non-bpffs /sys/fs/bpf that can loop
    openRoots.add(this.pinRoot);
    try {
      const netns = `sldp${process.pid.toString(36)}n${nets++}`;
      openNets.add(netns);
      this.made = makeNodeNet(opts.net, netns);
      this.compiler = new Compiler({ node: opts.node });
      this.obj = new libbpf.BpfObject(OBJECT, this.pinRoot);
      for (const [map, n] of Object.entries(TEST_MAX_ENTRIES)) this.obj.setMaxEntries(map, n);
      this.config = encodeConfig({ ...CONFIG, ...opts.config });
      this.obj.setInitialBytes('.rodata', 0, this.config);
      this.obj.load();
      for (const p of [...PROGRAMS, ...SOCK_PROGRAMS]) this.progFds.set(p, this.obj.programFd(p));
      for (const m of [...A.MAPS, ...A.STATE_MAPS, ...A.NODE_MAPS]) this.mapFds.set(m.name, this.obj.mapFd(m.name));
      this.applyRecords(recordsOf(snapshotEvents(opts.objects)).records);
      this.setLocalPods(opts.net.pods.map((p) => p.ip));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Loads the object once more over this one's pins (the maps as they are now, as an upgrade would find them) and returns what the kernel says of each program it verified then; the second load is closed again. */
  loadAgain(): { [p: string]: ReturnType<typeof sys.progInfo> } {
    const obj = new libbpf.BpfObject(OBJECT, this.pinRoot);
    try {
      for (const [map, n] of Object.entries(TEST_MAX_ENTRIES)) obj.setMaxEntries(map, n);
      obj.setInitialBytes('.rodata', 0, this.config);
      obj.load();
      return Object.fromEntries(PROGRAMS.map((p) => [p, sys.progInfo(obj.programFd(p))]));
    } finally {
      obj.close();
    }
  }

  programFd(p: Program): number {
    return this.progFds.get(p)!;
  }

  mapFd(name: string): number {
    const fd = this.mapFds.get(name);
    if (fd === undefined) throw new Error(`no map ${name}`);
    return fd;
  }

  /** Feeds records to this datapath's compiler and applies its diff. */
  applyRecords(records: Record[]): number {
    const diff = this.compiler.batch(encodeRecords(records));
    const problems = this.compiler.problems();
    if (problems.length) throw new Error(`compiler rejected: ${JSON.stringify(problems)}`);
    return this.applyDiff(diff);
  }

  /** Applies a MapDiff as the applier does: one batch call per map and op. */
  private applyDiff(diff: MapDiff): number {
    let n = 0;
    for (const s of diff.sections) {
      const fd = this.mapFd(s.map.name);
      const ks = s.map.key.size, vs = s.map.value.size;
      const ups = s.upsertKeys.length / ks, dels = s.deleteKeys.length / ks;
      if (ups) this.batchOr(() => sys.mapUpdateBatch(fd, s.upsertKeys.slice(), s.upsertValues.slice(), ups), () => {
        for (let i = 0; i < ups; i++) sys.mapUpdate(fd, s.upsertKeys.slice(i * ks, i * ks + ks), s.upsertValues.slice(i * vs, i * vs + vs));
      });
      if (dels) this.batchOr(() => sys.mapDeleteBatch(fd, s.deleteKeys.slice(), dels), () => {
        for (let i = 0; i < dels; i++) sys.mapDelete(fd, s.deleteKeys.slice(i * ks, i * ks + ks));
      });
      n += ups + dels;
    }
    return n;
  }

  /** LPM tries have no batch ops on every kernel: one by one then. */
  private batchOr(batch: () => void, oneByOne: () => void): void {
    try {
      batch();
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (errno !== sys.errno.EINVAL && errno !== 524 /* ENOTSUPP */ && errno !== sys.errno.EOPNOTSUPP) throw e;
      oneByOne();
    }
  }

  /** Writes sl_podnet as the agent would if only these of the network's pods were the node's. */
  setLocalPods(ips: readonly string[]): void {
    const pods = this.described.pods.filter((p) => ips.includes(p.ip)).map((p) => ({ ip: p.ip, ifindex: this.ifindex(p.dev) }));
    syncPodnet(this.pinRoot, podnetImage(pods, this.described.peerPodCidrs));
  }

  /** The ifindex of a device of the node's network. */
  ifindex(dev: string): number {
    const i = this.made?.ifindex.get(dev);
    if (i === undefined) throw new Error(`no device ${dev} in the node's network`);
    return i;
  }

  /** The device frame arrives by: the uplink for sl_from_netdev; else the
   * veth of the pod that sends (sl_from_pod) or gets (sl_to_pod) it, or
   * the first pod's when no pod of this node does. */
  ingressOf(p: Program, frame: Uint8Array): string {
    if (p === 'sl_from_netdev') return this.net.uplink.name;
    const ip = ipText(frame.subarray(ETH + (p === 'sl_to_pod' ? 16 : 12)));
    return (this.net.pods.find((x) => x.ip === ip) ?? this.net.pods[0]).dev;
  }

  /** The node's network as it is now: as described, but for the neighbours forgotten since the last reset(). */
  get net(): NodeNet {
    return { ...this.described, unresolved: [...this.unresolved] };
  }

  /** Removes a neighbour of the node's network until the next reset(). */
  forgetNeighbour(ip: string): void {
    const n = neighboursOf(this.described).find((x) => x.ip === ip);
    if (!n) throw new Error(`no neighbour ${ip} in the node's network`);
    forgetNeighbour(this.made!, ip, n.dev);
    this.unresolved.push(ip);
  }

  /** Runs program p on frame, arriving by dev (default: ingressOf); returns the verdict and the frame it left. */
  run(p: Program, frame: Uint8Array, dev = this.ingressOf(p, frame)): RunResult {
    const ifindex = this.ifindex(dev);
    const r = inNetns(this.made!.netns, () => sys.progTestRun(this.programFd(p), frame, { ifindex }));
    return { verdict: r.retval, frame: r.data };
  }

  /** Every sl_ct entry, decoded. */
  ct(): CtEntry[] {
    const fd = this.mapFd('sl_ct');
    const out: CtEntry[] = [];
    const key = new Uint8Array(CT.key.size), next = new Uint8Array(CT.key.size), val = new Uint8Array(CT.value.size);
    for (let at: Uint8Array | null = null; sys.mapNextKey(fd, at, next); at = key) {
      key.set(next);
      if (!sys.mapLookup(fd, key, val)) continue;
      out.push({
        key: { saddr: ipText(ctKey.saddr(key)), daddr: ipText(ctKey.daddr(key)), sport: ctKey.sport(key), dport: ctKey.dport(key), proto: ctKey.proto(key) },
        expires: ctVal.expires(val), saddr: ipText(ctVal.saddr(val)), daddr: ipText(ctVal.daddr(val)),
        sport: ctVal.sport(val), dport: ctVal.dport(val), bset: ctVal.bset(val), backend: ctVal.backend(val),
        state: ctVal.state(val), flags: ctVal.flags(val),
        peerMac: [...ctVal.peerMac(val)].map((b) => b.toString(16).padStart(2, '0')).join(':'), polgen: ctVal.polgen(val),
      });
    }
    return out;
  }

  /** Packets per counter and drop reason (enum sl_stat, enum sl_drop), by name, summed over CPUs. */
  stats(): { [name: string]: number } {
    const fd = this.mapFd('sl_stats');
    const cpus = possibleCpus(), stride = 16; // struct stats_val, already a multiple of 8
    const key = new Uint8Array(4), val = new Uint8Array(stride * cpus);
    const dv = new DataView(val.buffer);
    return Object.fromEntries([...STAT_NAMES].map(([slot, name]) => {
      new DataView(key.buffer).setUint32(0, slot, true);
      if (!sys.mapLookup(fd, key, val)) return [name, 0];
      let n = 0n;
      for (let c = 0; c < cpus; c++) n += dv.getBigUint64(c * stride, true);
      return [name, Number(n)];
    }));
  }

  /** sl_polstate: the policy epoch and flags, or undefined while the cluster has no NetworkPolicy. */
  policyState(): { epoch: number; flags: number } | undefined {
    const v = this.lookup('sl_polstate', new Uint8Array(4), 8);
    if (!v) return undefined;
    const d = new DataView(v.buffer);
    return { epoch: d.getUint32(0, true), flags: d.getUint32(4, true) };
  }

  /** Raw lookup in a map; undefined when absent. */
  lookup(map: A.MapName, key: Uint8Array, valueSize: number): Uint8Array | undefined {
    const val = new Uint8Array(valueSize);
    return sys.mapLookup(this.mapFd(map), key, val) ? val : undefined;
  }

  /** Back to a just-loaded state: conntrack and affinity emptied, counters
   * zeroed, and the compiler-owned maps holding objects (whatever the
   * previous state or a scenario's changes). Cheaper than a new load, which
   * runs the verifier. */
  reset(objects: unknown[]): void {
    this.clearState();
    if (this.unresolved.length > 0) restoreNeighbours(this.made!, this.described);
    this.unresolved = [];
    this.recompile(objects);
  }

  /** The compiler-owned maps made to hold exactly what a fresh compile of objects gives. */
  recompile(objects: unknown[]): void {
    this.compiler = new Compiler({ node: this.node });
    this.compiler.batch(encodeRecords(recordsOf(snapshotEvents(objects)).records));
    this.syncToCompiler();
  }

  /** Makes the compiler-owned maps equal the compiler's whole image, undoing
   * any entry a test wrote or deleted behind the compiler's back. */
  private syncToCompiler(): void {
    const image = this.compiler.rebuild();
    for (const m of A.MAPS) {
      const s = image.sections.find((x) => x.map.id === m.id);
      const want = new Set<string>();
      const ks = m.key.size, vs = m.value.size, fd = this.mapFd(m.name);
      for (let i = 0; s && i * ks < s.upsertKeys.length; i++) {
        const k = s.upsertKeys.slice(i * ks, i * ks + ks);
        want.add(Buffer.from(k).toString('hex'));
        sys.mapUpdate(fd, k, s.upsertValues.slice(i * vs, i * vs + vs));
      }
      for (const k of this.keys(m.name, ks)) if (!want.has(Buffer.from(k).toString('hex'))) sys.mapDelete(fd, k);
    }
  }

  private keys(map: A.MapName, size: number): Uint8Array[] {
    const fd = this.mapFd(map), keys: Uint8Array[] = [];
    for (let at: Uint8Array | null = null, next = new Uint8Array(size); sys.mapNextKey(fd, at, next); at = keys.at(-1)!) {
      keys.push(next.slice());
    }
    return keys;
  }

  /** Empties the maps the datapath owns: conntrack, affinity, fragments, counters. */
  clearState(): void {
    for (const m of ['sl_ct', 'sl_affinity', 'sl_frag'] as const) this.clear(m);
    const fd = this.mapFd('sl_stats'), zero = new Uint8Array(16 * possibleCpus()), key = new Uint8Array(4);
    for (const slot of STAT_NAMES.keys()) {
      new DataView(key.buffer).setUint32(0, slot, true);
      sys.mapUpdate(fd, key, zero);
    }
  }

  private clear(map: A.MapName): void {
    const fd = this.mapFd(map);
    for (const k of this.keys(map, A.STATE_MAPS.find((m) => m.name === map)!.key.size)) sys.mapDelete(fd, k);
  }

  /** Writes one entry, as another flow (or a test) would have left it. */
  update(map: A.MapName, key: Uint8Array, value: Uint8Array): void {
    sys.mapUpdate(this.mapFd(map), key, value);
  }

  /** Deletes one entry; false when it was not there. */
  delete(map: A.MapName, key: Uint8Array): boolean {
    return sys.mapDelete(this.mapFd(map), key);
  }

  /** Frees the object, removes every pin and the pin root, and the node's network. */
  close(): void {
    this.obj?.close();
    this.obj = null;
    removePinRoot(this.pinRoot);
    openRoots.delete(this.pinRoot);
    if (this.made) {
      dropNodeNet(this.made.netns);
      openNets.delete(this.made.netns);
    }
  }
}

// A test run that dies between a load and its close() must not leave pins
// or namespaces behind either: whatever is still open goes at exit.
const openRoots = new Set<string>(), openNets = new Set<string>();
process.on('exit', () => {
  for (const root of openRoots) removePinRoot(root);
  for (const netns of openNets) dropNodeNet(netns);
});

function removePinRoot(dir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) unlinkSync(`${dir}/${n}`);
  rmdirSync(dir);
}

let cpuCount = 0;
function possibleCpus(): number {
  if (!cpuCount) {
    // "0-3" or "0,2-5": the kernel sizes per-CPU values by possible CPUs
    const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    cpuCount = Math.max(...text.split(',').map((r) => Number(r.split('-').at(-1)))) + 1;
  }
  return cpuCount;
}

/** Runs fn on a fresh Datapath and removes it afterwards, even on failure. */
export function withDatapath<T>(opts: DatapathOptions, fn: (dp: Datapath) => T): T {
  const dp = new Datapath(opts);
  try {
    return fn(dp);
  } finally {
    dp.close();
  }
}
