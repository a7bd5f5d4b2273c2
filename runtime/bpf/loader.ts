// Loads the datapath object: pinned maps reused (or created) under the pin
// root, max_entries from the size flags, struct sl_config written into
// .rodata, then the verifier. A pin that does not fit this build stops the
// load with an error naming it and the way out, before libbpf is asked to
// reuse it; --replace-maps moves such pins aside instead and drops them once
// the new programs are attached. sl_stats, counters only, is replaced so
// without asking when a build counts more (or fewer) things, and so is
// sl_sockrev of another layout: a cache the host sockets' next connect or
// send refills, whose loss only shows a backend as the peer of an older
// socket meanwhile. When the pins fit and the last load's programs are pinned
// with the same object, settings and maps (progPins.ts), those are taken as
// they are: the verifier does not run again for the same code.
import { existsSync } from 'node:fs';
import { ALL_MAPS, CONFIG, isMapName } from '../abi/layouts.generated.ts';
import { encodeConfig, type DatapathConfig } from './config.ts';
import { BpfObject, LibbpfError, type MapDef } from './libbpf.ts';
import { STALE_PIN_HINT, typeName } from './maps.ts';
import { DEFAULT_OBJECT } from './objectFile.ts';
import { dropAside, ensurePinRoot, movePinAside, movePinBack } from './bpffs.ts';
import { fingerprint, pinPrograms, reusePrograms } from './progPins.ts';
import { maxEntriesOf, sizeFlagOf, type Sizes } from './sizes.ts';
import { SOCK_HOOKS } from './sockHooks.ts';
import { ITERATORS, kernelDestroysSockets, type IteratorName } from './staleSockets.ts';
import * as S from './syscall.ts';

/** The tc programs, then the cgroup programs of host services. */
export const PROGRAMS = ['sl_from_pod', 'sl_to_pod', 'sl_from_netdev', ...SOCK_HOOKS.map((h) => h.program)] as const;
export type ProgramName = (typeof PROGRAMS)[number];

export interface LoadOptions {
  object?: string;
  pinRoot: string;
  sizes?: Sizes;
  config: DatapathConfig;
  /** Move pins that do not fit this build aside instead of failing. */
  replaceMaps?: boolean;
}

/** A load failure: message is one line naming the map or program and the way out; log is libbpf's full text. */
export class LoadError extends Error {
  readonly log: string;
  constructor(message: string, options: { log?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'LoadError';
    this.log = options.log ?? '';
  }
}

/** A pinned map that does not fit this build (another version's layout, or another size). */
export class IncompatiblePinError extends LoadError {
  readonly map: string;
  readonly pinPath: string;
  /** How the pin differs ("value 12 B, this build 16 B"); empty when libbpf found it and did not say. */
  readonly differences: readonly string[];
  constructor(map: string, pinPath: string, differences: readonly string[], way: string, options: { log?: string; cause?: unknown } = {}) {
    super(`map ${map} pinned at ${pinPath}${differences.length ? `: ${differences.join('; ')}` : ' does not fit this build'}; ${way}`, options);
    this.name = 'IncompatiblePinError';
    this.map = map;
    this.pinPath = pinPath;
    this.differences = differences;
  }
}

/** The kernel's verifier refused a program: which, its last word, and the instruction when the log names one. */
export class VerifierError extends LoadError {
  readonly program: string;
  readonly reason: string;
  readonly insn: number | undefined;
  constructor(program: string, reason: string, insn: number | undefined, message: string, options: { log?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'VerifierError';
    this.program = program;
    this.reason = reason;
    this.insn = insn;
  }
}

export interface Datapath {
  readonly programs: ReadonlyMap<ProgramName, number>; // program fds, valid until close()
  /** The stale socket iterators' fds; none when the kernel lacks bpf_sock_destroy (before 6.5). */
  readonly iterators: ReadonlyMap<IteratorName, number>;
  readonly replaced: readonly string[]; // maps whose old pins were moved aside
  /** Drops the moved-aside pins: the new programs are attached and nothing needs the old maps. */
  commit(): void;
  /** Undoes --replace-maps (new pins removed, old ones back): a later step failed. */
  rollback(): void;
  /** Closes libbpf's object; pinned maps and attached programs stay. */
  close(): void;
}

/** One line per way a pinned map differs from the object's definition of it. */
function mismatches(def: MapDef, pin: S.MapInfo): string[] {
  const out: string[] = [];
  if (pin.type !== def.type) out.push(`type ${typeName(pin.type)}, this build ${typeName(def.type)}`);
  if (pin.keySize !== def.keySize) out.push(`key ${pin.keySize} B, this build ${def.keySize} B`);
  if (pin.valueSize !== def.valueSize) out.push(`value ${pin.valueSize} B, this build ${def.valueSize} B`);
  if (pin.flags !== def.flags) out.push(`flags 0x${pin.flags.toString(16)}, this build 0x${def.flags.toString(16)}`);
  return out;
}

function pinnedInfo(path: string): S.MapInfo | null {
  const fd = S.objGet(path);
  if (fd === null) return null;
  try {
    return S.mapInfo(fd);
  } finally {
    S.close(fd);
  }
}

export function loadDatapath(opts: LoadOptions): Datapath {
  const objectPath = opts.object ?? DEFAULT_OBJECT;
  if (!existsSync(objectPath)) throw new LoadError(`load: ${objectPath} does not exist; build it with \`npm run build:bpf\``);
  ensurePinRoot(opts.pinRoot);
  let obj: BpfObject;
  try {
    obj = new BpfObject(objectPath, opts.pinRoot);
  } catch (e) {
    throw new LoadError(`open ${objectPath}: ${(e as Error).message}`, { log: (e as LibbpfError).log, cause: e });
  }
  const moved: { path: string; aside: string }[] = [];
  const restore = () => {
    for (const { path, aside } of moved.splice(0)) movePinBack(aside, path);
  };
  try {
    checkAbi(obj.maps(), objectPath);
    const asked = maxEntriesOf(opts.sizes ?? {});
    const stale: string[] = [];
    const pinned = new Map<string, number>(); // the kernel's name of a map -> its id, for the pins that fit
    let everyPin = true;
    for (const def of obj.maps().filter((m) => m.pinPath !== null)) {
      const pin = pinnedInfo(def.pinPath!);
      if (pin) pinned.set(pin.name, pin.id);
      else everyPin = false;
      // A size flag sets max_entries; without one, a pinned map keeps its size. Maps
      // no flag sizes (sl_stats: one slot per enum sl_stat) keep the object's.
      const flag = isMapName(def.name) ? sizeFlagOf(def.name) : undefined, resize = isMapName(def.name) ? asked.get(def.name) : undefined;
      const want = resize ?? (flag && pin ? pin.maxEntries : def.maxEntries);
      if (want !== def.maxEntries) obj.setMaxEntries(def.name, want);
      if (!pin) continue;
      const layout = mismatches(def, pin);
      const diff = [...layout];
      if (pin.maxEntries !== want) diff.push(`max_entries ${pin.maxEntries}, ${resize !== undefined ? `${flag} asks` : 'this build'} ${want}`);
      if (diff.length === 0) continue;
      pinned.delete(pin.name);
      const countersOnly = def.name === 'sl_stats' && layout.length === 0; // a build that counts more things: only counts are lost
      if (!opts.replaceMaps && !countersOnly && def.name !== 'sl_sockrev') {
        const resizeOnly = diff.length === 1 && resize !== undefined && pin.maxEntries !== want;
        throw new IncompatiblePinError(def.name, def.pinPath!, diff, resizeOnly
          ? `a map cannot be resized in place: apply with --replace-maps (it is rebuilt${def.name === 'sl_ct' ? ', and tracked connections are lost' : ''}) or without ${flag}`
          : STALE_PIN_HINT);
      }
      stale.push(def.pinPath!);
    }
    for (const path of stale) moved.push({ path, aside: movePinAside(opts.pinRoot, path) });
    const cfg = encodeConfig(opts.config);
    if (cfg.length !== CONFIG.size) throw new LoadError(`sl_config encodes to ${cfg.length} bytes, not ${CONFIG.size}`);
    obj.setInitialBytes('.rodata', 0, cfg);
    const destroys = kernelDestroysSockets();
    const names = [...PROGRAMS, ...(destroys ? ITERATORS : [])];
    const fp = fingerprint(objectPath, cfg, names);
    const reused = stale.length === 0 && everyPin ? reusePrograms(opts.pinRoot, fp, names, pinned) : undefined;
    if (reused) {
      obj.close();
      return datapathOf(reused, destroys, [], { commit: () => {}, rollback: () => {}, close: () => reused.forEach((fd) => S.close(fd)) });
    }
    if (!destroys) for (const p of ITERATORS) obj.skipProgram(p);
    try {
      obj.load();
    } catch (e) {
      if (!(e instanceof LibbpfError)) throw e;
      throw loadFailure(e, objectPath);
    }
    const fds = new Map(names.map((p) => [p, obj.programFd(p)] as const));
    const replaced = moved.map((m) => m.path.slice(m.path.lastIndexOf('/') + 1));
    return datapathOf(fds, destroys, replaced, {
      commit: () => {
        for (const { aside } of moved.splice(0)) dropAside(aside);
        pinPrograms(opts.pinRoot, fp, fds); // attached now: a restart may take them as they are
      },
      rollback: restore,
      close: () => obj.close(),
    });
  } catch (e) {
    restore();
    obj.close();
    throw e;
  }
}

function datapathOf(fds: ReadonlyMap<string, number>, destroys: boolean, replaced: string[], rest: Pick<Datapath, 'commit' | 'rollback' | 'close'>): Datapath {
  return {
    programs: new Map(PROGRAMS.map((p) => [p, fds.get(p)!] as const)),
    iterators: new Map(destroys ? ITERATORS.map((p) => [p, fds.get(p)!] as const) : []),
    replaced,
    ...rest,
  };
}

/** The object's maps must have the layouts this runtime (and the compiler) were generated from. */
function checkAbi(defs: readonly MapDef[], object: string): void {
  for (const l of ALL_MAPS) {
    const def = defs.find((d) => d.name === l.name);
    if (!def) throw new LoadError(`load: ${object} has no map ${l.name}: it is not a sluice datapath of this version; rebuild it (npm run build:bpf)`);
    if (def.keySize !== l.key.size || def.valueSize !== l.value.size) {
      throw new LoadError(`load: ${object} defines ${l.name} with key ${def.keySize} B and value ${def.valueSize} B, this runtime ` +
        `expects ${l.key.size} B and ${l.value.size} B: rebuild both from one tree (npm run gen, npm run build:bpf)`);
    }
    if (def.pinPath === null) throw new LoadError(`load: ${object} does not pin ${l.name} (LIBBPF_PIN_BY_NAME): the agent could not find it`);
  }
}

/**
 * A failed load, from libbpf's log, as one line: which program or map, the
 * verifier's own words, what to do; typed where the caller may act on it
 * (VerifierError, IncompatiblePinError). The log and the LibbpfError stay on it.
 */
export function loadFailure(e: LibbpfError, object: string): LoadError {
  const log = e.log, options = { log, cause: e };
  const prog = /prog '([^']+)': -- BEGIN PROG LOAD LOG --\n([\s\S]*?)-- END PROG LOAD LOG --/.exec(log);
  const redo = `${object} does not pass this kernel's verifier: rebuild it from a matching source, or report`;
  if (prog) {
    const lines = prog[2].split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    const tail = lines.filter((l) => !/^(processed \d+ insns|verification time|stack depth|\d+: )/.test(l) && !l.startsWith(';'));
    const reason = tail.at(-1) ?? 'no reason logged';
    const insn = lines.findLast((l) => /^\d+: /.test(l))?.split(':')[0];
    const source = lines.findLast((l) => l.startsWith(';'))?.replace(/^;\s*/, '');
    const at = insn ? ` (insn ${insn}${source ? `: ${source}` : ''})` : '';
    return new VerifierError(prog[1], reason, insn === undefined ? undefined : Number(insn),
      `load ${prog[1]}: the verifier rejected it: ${reason}${at}; ${redo} the full log (--verbose)`, options);
  }
  const failed = /prog '([^']+)': BPF program load failed: (.*)/.exec(log);
  const pin = /couldn't reuse pinned map at '([^']+)'/.exec(log);
  if (pin) return new IncompatiblePinError(pin[1].slice(pin[1].lastIndexOf('/') + 1), pin[1], [], STALE_PIN_HINT, options);
  // As root, EACCES is the verifier refusing the program without a log it could quote.
  if (e.errno === S.errno.EACCES && process.getuid?.() === 0) {
    const program = failed?.[1] ?? object;
    return new VerifierError(program, 'EACCES, with no log', undefined,
      `load ${program}: the kernel refused it (EACCES, the verifier's answer, with no log); ${redo} the output of --verbose`, options);
  }
  if (e.errno === S.errno.EPERM || e.errno === S.errno.EACCES) {
    return new LoadError(`load ${failed?.[1] ?? object}: permission denied: run as root (CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON or CAP_SYS_ADMIN)`, options);
  }
  if (failed) return new LoadError(`load ${failed[1]}: ${failed[2]}`, options);
  const map = /map '([^']+)': (.*)/.exec(log);
  if (map) return new LoadError(`create map ${map[1]}: ${map[2]}`, options);
  return new LoadError(`load ${object}: ${e.message}`, options);
}
