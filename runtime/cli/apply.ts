// sluice apply: a snapshot -> this node's datapath. Compiles the snapshot for
// the node, loads the datapath object (maps pinned, reused when they fit),
// moves the pinned maps to the compiled image with only the ops that differ,
// then attaches the programs: tc programs to the node's and its pods'
// interfaces, cgroup programs (host services) to the root cgroup. Maps are
// filled before any program is attached, so a program never sees half of
// them; sl_ct is never written, so tracked connections survive a re-apply or
// an upgrade. When the maps lose backends, the node's own sockets stuck on
// them are destroyed next (bpf/lib/stale.h).
import { DEFAULT_PIN_ROOT } from '../bpf/bpffs.ts';
import { DEFAULT_TIMEOUTS, type DatapathConfig } from '../bpf/config.ts';
import { readLinks, routesTo } from '../bpf/ifaces.ts';
import { attachSockPrograms, detachSockPrograms } from '../bpf/cgroup.ts';
import { DEFAULT_OBJECT, loadDatapath, type Datapath, type ProgramName } from '../bpf/loader.ts';
import { PinnedStore } from '../bpf/maps.ts';
import { podnetImage, podnetLine, syncPodnet } from '../bpf/podnet.ts';
import { inNetns, netnsCookie } from '../bpf/netns.ts';
import { pickInterfaces, type Choice, type Chosen } from '../bpf/pickInterfaces.ts';
import { describeStaleSocks, type StaleSock } from '../bpf/staleRecords.ts';
import { sweepStaleSockets } from '../bpf/staleSockets.ts';
import { attachProgram, type AttachResult, type Hook } from '../bpf/tc.ts';
import { SL_CFG_DSR, SL_CFG_NO_FAST_PATH } from '../abi/layouts.generated.ts';
import { parseIp } from '../encode/ip.ts';
import { nodeFacts, type NodeFacts } from '../encode/nodeFacts.ts';
import { backendsRemoved, deleteCount, opCount, upsertCount } from '../maps/mapDiff.ts';
import { reconcile } from '../maps/reconcile.ts';
import { loadSnapshot, snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf, upserts } from '../streams/recordsOf.ts';
import { failed, listOf, NETNS_USAGE, parse, PIN_ROOT_USAGE, SIZE_OPTIONS, sizesOf } from './bpfArgs.ts';
import { compileObjects } from './compile.ts';
import { checkInputFiles, UsageError, type Io } from './io.ts';

export const DEFAULT_HAIRPIN_IP = '169.254.42.1';

/** The options `apply` and `run` share: where the maps are, which interfaces, sizes. */
export const DATAPATH_USAGE = `${PIN_ROOT_USAGE}
${NETNS_USAGE}
  --pod-ifaces A,B       pod programs on exactly these interfaces
  --pod-iface-prefix P   pod programs on every interface named P...
                         (default: where the node routes each local pod's IP)
  --node-ifaces A,B      sl_from_netdev on exactly these interfaces
                         (default: the interfaces holding the Node's addresses)
  --node-ip IP           SNAT source toward other nodes (default: the Node's InternalIP)
  --hairpin-ip IP        source of a pod's flow back to itself (default ${DEFAULT_HAIRPIN_IP})
  --dsr                  backends on other nodes answer external clients directly
  --no-fast-path         hand translated requests and pod-to-pod traffic to the
                         kernel's stack instead of forwarding them past it (for
                         comparison); answers still go past it (default: past it)
  --no-host-services     leave the node's own processes (host network) untranslated:
                         no cgroup programs (default: translated at connect time)
  --cgroup-root DIR      the root of the cgroup v2 hierarchy to attach them to
                         (default: the cgroup2 mount in /proc/mounts, else one made at
                         /run/sluice/cgroup2); in a container, the host's, bind-mounted
  --svc-max N            max_entries of sl_svc and sl_svcname; likewise --be-max,
                         --maglev-max, --srcrange-max, --ct-max, --affinity-max
                         (default: as pinned, else as the object says)
  --replace-maps         move aside pinned maps that do not fit this build (another
                         version, or a new size) and start them afresh; a
                         replaced sl_ct forgets tracked connections
  --object FILE          the datapath object (default ${DEFAULT_OBJECT})
  --verbose              print libbpf's log after a load error
`;

export const APPLY_USAGE = `usage: sluice apply <file>... --node NAME [options]

Compiles a cluster snapshot for NAME, loads the datapath, brings its pinned
maps to the compiled state (only the entries that differ), and attaches
sl_from_pod/sl_to_pod to the host side of each local pod's interface and
sl_from_netdev to each interface holding one of the node's addresses, and
the host services programs to the root cgroup (for sockets of the node's
network namespace only). When backends go, the node's sockets still connected
or connecting to them are destroyed, so their applications move on. Run as
root. Applying the same snapshot again changes nothing.

  --node NAME            the node to program (required)
${DATAPATH_USAGE}  -h, --help             print this text

Exit status: 0 done (rejected objects are listed on stderr and left out),
1 failed (one line says what and why), 2 usage error.
`;

/** What `apply` and `run` share: where the maps are pinned, how the datapath is loaded and attached. */
export interface DatapathArgs {
  pinRoot: string;
  netns?: string;
  object?: string;
  nodeIp?: string;
  hairpinIp: string;
  dsr: boolean;
  fastPath: boolean;
  hostServices: boolean;
  cgroupRoot?: string;
  replaceMaps: boolean;
  verbose: boolean;
  sizes: ReturnType<typeof sizesOf>;
  ifaces: { podIfaces?: string[]; podIfacePrefix?: string; nodeIfaces?: string[] };
}

interface ApplyArgs extends DatapathArgs {
  files: string[];
  node: string;
}

export const DATAPATH_OPTIONS = {
  'pin-root': { type: 'string' }, netns: { type: 'string' }, object: { type: 'string' },
  'pod-ifaces': { type: 'string' }, 'pod-iface-prefix': { type: 'string' }, 'node-ifaces': { type: 'string' },
  'node-ip': { type: 'string' }, 'hairpin-ip': { type: 'string' }, dsr: { type: 'boolean' }, 'no-fast-path': { type: 'boolean' },
  'no-host-services': { type: 'boolean' },
  'cgroup-root': { type: 'string' },
  'replace-maps': { type: 'boolean' }, verbose: { type: 'boolean' }, ...SIZE_OPTIONS,
} as const;

/** DATAPATH_OPTIONS' values, checked; throws UsageError. */
export function datapathArgsOf(v: { [k: string]: string | boolean | undefined }): DatapathArgs {
  if (v['pod-ifaces'] !== undefined && v['pod-iface-prefix'] !== undefined) throw new UsageError('give --pod-ifaces or --pod-iface-prefix, not both');
  for (const flag of ['node-ip', 'hairpin-ip'] as const) {
    if (v[flag] !== undefined && parseIp(v[flag] as string)?.family !== 4) throw new UsageError(`--${flag} must be an IPv4 address, not "${v[flag]}"`);
  }
  return {
    pinRoot: (v['pin-root'] as string) ?? DEFAULT_PIN_ROOT,
    netns: v.netns as string | undefined, object: v.object as string | undefined, nodeIp: v['node-ip'] as string | undefined,
    hairpinIp: (v['hairpin-ip'] as string) ?? DEFAULT_HAIRPIN_IP, dsr: v.dsr === true, fastPath: v['no-fast-path'] !== true,
    hostServices: v['no-host-services'] !== true,
    cgroupRoot: v['cgroup-root'] as string | undefined,
    replaceMaps: v['replace-maps'] === true,
    verbose: v.verbose === true, sizes: sizesOf(v),
    ifaces: { podIfaces: listOf(v['pod-ifaces']), podIfacePrefix: v['pod-iface-prefix'] as string | undefined, nodeIfaces: listOf(v['node-ifaces']) },
  };
}

/** Returns undefined for --help. */
export function parseApplyArgs(args: readonly string[]): ApplyArgs | undefined {
  const p = parse(args, { node: { type: 'string' }, ...DATAPATH_OPTIONS });
  if (!p) return undefined;
  if (p.positionals.length === 0) throw new UsageError('no input files');
  if (p.values.node === undefined) throw new UsageError('--node is required: the node whose datapath this is');
  checkInputFiles(p.positionals);
  return { files: p.positionals, node: p.values.node as string, ...datapathArgsOf(p.values) };
}

export function applyCommand(args: readonly string[], io: Io): number {
  const a = parseApplyArgs(args);
  if (!a) {
    io.out(APPLY_USAGE);
    return 0;
  }
  try {
    return apply(a, io);
  } catch (e) {
    return failed('apply', e, io, a.verbose);
  }
}

export const PROGRAMS_OF: { pod: [ProgramName, Hook][]; node: [ProgramName, Hook][] } = {
  pod: [['sl_from_pod', 'ingress'], ['sl_to_pod', 'egress']],
  node: [['sl_from_netdev', 'ingress']],
};

function apply(a: ApplyArgs, io: Io): number {
  const snapshot = loadSnapshot(a.files);
  const [compiled] = compileObjects(snapshot.objects, a.node, snapshot.rejected, snapshot.ignored, snapshot.notes);
  for (const r of compiled.view.rejected) io.err(`sluice apply: rejected ${r.object}${r.field ? ` ${r.field}` : ''}: ${r.reason}\n`);
  const facts = nodeFacts(upserts(recordsOf(snapshotEvents(snapshot.objects)).records), a.node);
  const nodeIp = a.nodeIp ?? facts?.internalIp;
  if (!nodeIp) {
    throw new Error(facts ? `Node ${a.node} has no IPv4 InternalIP: pass --node-ip` : `no Node ${a.node} in the snapshot: pass --node-ip, or include the Node`);
  }
  const config = datapathConfig(nodeIp, a);
  // Which interfaces, before anything is loaded: a wrong --pod-ifaces fails with nothing changed.
  const choice = chooseInterfaces(facts, nodeIp, a);
  const dp = loadDatapath({ object: a.object, pinRoot: a.pinRoot, sizes: a.sizes, config, replaceMaps: a.replaceMaps });
  const lines: string[] = [];
  try {
    const store = PinnedStore.open(a.pinRoot);
    try {
      const diff = reconcile(store, compiled.store);
      const { syscalls } = store.apply(diff);
      const changed = diff.sections.map((s) => `${s.map.name} +${upsertCount(s)} -${deleteCount(s)}`);
      lines.push(changed.length === 0 ? 'maps: no change' : `maps: ${changed.join(', ')} (${opCount(diff)} ops, ${syscalls} syscalls)`);
      if (dp.replaced.length > 0) lines.push(`maps replaced (old pins dropped): ${dp.replaced.join(', ')}`);
      const swept = backendsRemoved(diff) > 0 ? sweepStale(dp, a) : undefined;
      if (swept) lines.push(sweepLine(swept));
    } finally {
      store.close();
    }
    lines.push(podnetLine(syncPodnet(a.pinRoot, podnetImage(choice.podAddrs, facts?.peerPodCidrs ?? []))));
    lines.push(...inNetns(a.netns, () => [
      ...choice.node.map((i) => attachLine(dp, i, PROGRAMS_OF.node)),
      ...choice.pod.map((i) => attachLine(dp, i, PROGRAMS_OF.pod)),
    ]));
    const host = hostServicesLine(dp, a);
    if (host) lines.push(host);
    dp.commit();
  } catch (e) {
    dp.rollback();
    throw e;
  } finally {
    dp.close();
  }
  for (const s of choice.skipped) lines.push(`skipped ${s}`);
  io.out(`node ${a.node}: ${a.pinRoot}\n${lines.join('\n')}\n`);
  return 0;
}

/** sl_config for a node: its IP, the hairpin source, DSR or not, the fast path or not, and with host services its namespace's cookie. */
export function datapathConfig(nodeIp: string, a: Pick<DatapathArgs, 'hairpinIp' | 'dsr' | 'fastPath' | 'hostServices' | 'netns'>): DatapathConfig {
  return {
    netnsCookie: a.hostServices ? inNetns(a.netns, netnsCookie) : 0n,
    nodeIp: parseIp(nodeIp)!.bytes, hairpinIp: parseIp(a.hairpinIp)!.bytes,
    flags: (a.dsr ? SL_CFG_DSR : 0) | (a.fastPath ? 0 : SL_CFG_NO_FAST_PATH), ...DEFAULT_TIMEOUTS,
  };
}

/**
 * Host services: the cgroup programs on the root cgroup (kept when already
 * there); with --no-host-services, those an earlier apply left are detached.
 * Says what happened, or nothing when there was nothing to do.
 */
export function hostServicesLine(dp: Datapath, a: Pick<DatapathArgs, 'pinRoot' | 'hostServices' | 'cgroupRoot'>): string | undefined {
  if (!a.hostServices) {
    const gone = detachSockPrograms(a.pinRoot);
    return gone.length > 0 ? `host services off: ${gone.join(', ')} detached` : undefined;
  }
  const { cgroup, done } = attachSockPrograms(a.pinRoot, dp.programs, a.cgroupRoot);
  return `host services (root cgroup ${cgroup}): ${done.join(', ')}`;
}

/** What a stale socket sweep did: the sockets it destroyed, or why it could not run. */
export type Sweep = { destroyed: StaleSock[] } | { error: string };

/**
 * After an update that removed backends (maps written): destroys the node's
 * host sockets still connected, or connecting, to one (bpf/lib/stale.h), so
 * their applications open new ones. Nothing to do (undefined) without host
 * services. A failure is returned, not thrown: the maps are written.
 */
export function sweepStale(dp: Datapath, a: Pick<DatapathArgs, 'hostServices' | 'netns'>): Sweep | undefined {
  if (!a.hostServices) return undefined;
  if (dp.iterators.size === 0) return { error: 'this kernel has no bpf_sock_destroy (Linux 6.5)' };
  try {
    return { destroyed: sweepStaleSockets(dp.iterators, a.netns) };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

export const sweepLine = (s: Sweep) => `stale sockets: ${'error' in s ? `not swept: ${s.error}` : describeStaleSocks(s.destroyed)}`;

/** The interfaces to attach to, as the kernel (inside --netns) and the node's records say; runs `ip`. */
export function chooseInterfaces(facts: NodeFacts | undefined, nodeIp: string, a: Pick<DatapathArgs, 'netns' | 'ifaces'>): Choice {
  return inNetns(a.netns, () => {
    const want = { nodeAddresses: facts?.addresses ?? [nodeIp], pods: facts?.pods ?? [] };
    return pickInterfaces(readLinks(), routesTo(want.pods.map((p) => p.ip)), want, a.ifaces);
  });
}

/** Attaches programs to one interface (call inside the netns); says what each hook got. */
export function attachLine(dp: Datapath, i: Chosen, programs: [ProgramName, Hook][]): string {
  const done = programs.map(([p, hook]) => `${p} ${hook} ${attachProgram(i.ifindex, hook, dp.programs.get(p)!) satisfies AttachResult}`);
  return `${i.ifname} (${i.why}): ${done.join(', ')}`;
}
