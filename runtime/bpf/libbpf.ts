// libbpf.so.1 (bound in native.ts): open, configure and load a BPF object, find its
// programs and maps, attach programs to tc hooks. libbpf rather than our own
// ELF loader: it does relocations, BTF fix-ups and map pinning the way every
// other tool on the machine does, and it is one shared library away.
import { address, errno, libbpf, libc, writeAt } from './native.ts';

const api = libbpf();

// libbpf reports verifier logs and load failures through its print callback;
// keep the last messages so an error can quote the verifier's own words.
let log: string[] = [];
const line = Buffer.alloc(4096);
api.onPrint((level, format, args) => {
  if (level > 1) return 0; // WARN and INFO; DEBUG is too chatty
  const n = libc.vsnprintf(line, line.length, format, args);
  log.push(line.toString('utf8', 0, Math.min(Math.max(n, 0), line.length - 1)));
  return 0;
});

/** A libbpf call failed: message is the call and libbpf's strerror, one line; log is what libbpf printed meanwhile. */
export class LibbpfError extends Error {
  readonly errno: number;
  readonly log: string;
  constructor(what: string, err: number, logText: string) {
    const buf = Buffer.alloc(256);
    api.strerror(err, buf, buf.length);
    super(`${what}: ${buf.toString('latin1').replace(/\0.*$/s, '')}`);
    this.name = 'LibbpfError';
    this.errno = Math.abs(err);
    this.log = logText;
  }
}

function check(what: string, r: number): number {
  if (r < 0) throw new LibbpfError(what, r, takeLog());
  return r;
}

function takeLog(): string {
  const text = log.join('').trimEnd();
  log = [];
  return text;
}

export const TC_INGRESS = 1;
export const TC_EGRESS = 2;

/** An opened BPF object file: configure it, then load() it into the kernel. */
export class BpfObject {
  private obj: unknown;
  readonly path: string;
  private readonly statLogs = new Map<string, Buffer>(); // program -> the verifier's statistics

  /** Maps marked LIBBPF_PIN_BY_NAME are pinned (or reused) under pinRoot. */
  constructor(path: string, pinRoot: string) {
    this.path = path;
    log = [];
    // struct bpf_object_open_opts (libbpf 1.1): sz at 0, pin_root_path at 24, 80 bytes in all.
    const root = Buffer.from(`${pinRoot}\0`);
    const opts = Buffer.alloc(80);
    opts.writeBigUInt64LE(80n, 0);
    opts.writeBigUInt64LE(address(root), 24);
    this.obj = api.open(path, opts);
    if (!this.obj) throw new LibbpfError(`open ${path}`, -errno(), takeLog());
  }

  private map(name: string): unknown {
    const m = api.findMap(this.obj, name);
    if (!m) throw new Error(`${this.path} has no map ${name}`);
    return m;
  }

  setMaxEntries(map: string, n: number): void {
    check(`set max_entries of ${map} to ${n}`, api.setMaxEntries(this.map(map), n));
  }

  /** Every map of the object, in section order. */
  maps(): MapDef[] {
    const out: MapDef[] = [];
    for (let m = api.nextMap(this.obj, null); m; m = api.nextMap(this.obj, m)) {
      out.push({
        name: api.mapName(m), type: api.mapType(m), keySize: api.mapKeySize(m), valueSize: api.mapValueSize(m),
        maxEntries: api.mapMaxEntries(m), flags: api.mapFlags(m), pinPath: api.mapPinPath(m) ?? null, internal: api.mapIsInternal(m),
      });
    }
    return out;
  }

  /** Overwrites the start of a data section's initial value (e.g. ".rodata") before load. */
  setInitialBytes(section: string, at: number, bytes: Uint8Array): void {
    const size = [0];
    const p = api.initialValue(this.map(section), size);
    if (!p || at + bytes.length > size[0]) throw new Error(`${this.path}: ${section} holds ${size[0]} bytes, not ${at + bytes.length}`);
    writeAt(p, at, bytes);
  }

  /** Loads every program and creates or reuses every map; the error quotes the verifier. */
  load(): void {
    log = [];
    check(`load ${this.path}`, api.load(this.obj));
  }

  private program(name: string): unknown {
    const p = api.findProgram(this.obj, name);
    if (!p) throw new Error(`${this.path} has no program ${name}`);
    return p;
  }

  /** Leaves a program out of load() (before it): one this kernel cannot run. */
  skipProgram(name: string): void {
    check(`leave out program ${name}`, api.setAutoload(this.program(name), false));
  }

  /** Has load() keep the verifier's statistics for a program (BPF_LOG_STATS), for verifiedInsns. */
  keepVerifierStats(name: string): void {
    const buf = Buffer.alloc(4096);
    this.statLogs.set(name, buf);
    check(`log buffer of program ${name}`, api.setLogBuf(this.program(name), buf, buf.length));
    check(`log level of program ${name}`, api.setLogLevel(this.program(name), 4));
  }

  /** The instructions the verifier processed for a program loaded with keepVerifierStats. */
  verifiedInsns(name: string): number {
    const text = this.statLogs.get(name)?.toString('latin1').replace(/\0.*$/s, '') ?? '';
    const m = /^processed (\d+) insns/m.exec(text);
    if (!m) throw new Error(`${this.path}: no verifier statistics for ${name}: ${JSON.stringify(text.slice(0, 200))}`);
    return Number(m[1]);
  }

  programFd(name: string): number {
    return check(`fd of program ${name}`, api.programFd(this.program(name)));
  }

  mapFd(name: string): number {
    return check(`fd of map ${name}`, api.mapFd(this.map(name)));
  }

  /** Frees libbpf's object; program and map fds close, pinned maps and attached programs stay. */
  close(): void {
    if (this.obj) api.close(this.obj);
    this.obj = null;
  }
}

/** A map as the object defines it (after setMaxEntries), before load. */
export interface MapDef {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinPath: string | null; // LIBBPF_PIN_BY_NAME maps: <pin root>/<name>
  internal: boolean; // .rodata, .data, .bss, .kconfig
}

const hook = (ifindex: number, point: number) => ({ sz: 24, ifindex, attach_point: point, parent: 0 });

/** Creates the clsact qdisc if missing. */
export function tcHookCreate(ifindex: number): void {
  const r = api.hookCreate(hook(ifindex, TC_INGRESS));
  if (r < 0 && r !== -17) check(`create clsact on ifindex ${ifindex}`, r); // EEXIST: already there
}

/** Removes the clsact qdisc and everything attached to it. */
export function tcHookDestroy(ifindex: number): void {
  api.hookDestroy(hook(ifindex, TC_INGRESS | TC_EGRESS));
}

/** Attaches (or replaces, at the same handle and priority) a program; returns its id. */
export function tcAttach(ifindex: number, point: number, progFd: number, handle: number, priority: number): number {
  const opts = { sz: 32, prog_fd: progFd, flags: 1 /* BPF_TC_F_REPLACE */, prog_id: 0, handle, priority };
  check(`attach to ifindex ${ifindex} ${point === TC_INGRESS ? 'ingress' : 'egress'}`, api.attach(hook(ifindex, point), opts));
  return opts.prog_id;
}

/** The id of the program at (handle, priority), or 0 when none. */
export function tcQuery(ifindex: number, point: number, handle: number, priority: number): number {
  const opts = { sz: 32, prog_fd: 0, flags: 0, prog_id: 0, handle, priority };
  const r = api.query(hook(ifindex, point), opts);
  // ENOENT: no such filter; EINVAL: no filter chain at that priority, or no clsact.
  if (r === -2 || r === -22) {
    takeLog();
    return 0;
  }
  check(`query ifindex ${ifindex}`, r);
  return opts.prog_id;
}

export function tcDetach(ifindex: number, point: number, handle: number, priority: number): void {
  const opts = { sz: 32, prog_fd: 0, flags: 0, prog_id: 0, handle, priority };
  const r = api.detach(hook(ifindex, point), opts);
  if (r < 0 && r !== -2) check(`detach from ifindex ${ifindex}`, r);
}
