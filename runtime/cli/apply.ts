// sluice apply: a snapshot -> this node's datapath. Compiles the snapshot for
// the node and hands the compiled maps to the dataplane (dataplane/
// programNode.ts), which loads, writes only what differs and attaches. The
// datapath flags are parsed here for `apply` and `run` alike.
import { DEFAULT_PIN_ROOT } from '../bpf/bpffs.ts';
import { DEFAULT_OBJECT } from '../bpf/loader.ts';
import { DEFAULT_HAIRPIN_IP, type DatapathArgs } from '../dataplane/datapathArgs.ts';
import { programNode } from '../dataplane/programNode.ts';
import { parseIp } from '../encode/ip.ts';
import { nodeFacts } from '../encode/nodeFacts.ts';
import { loadSnapshot, snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf, upserts } from '../streams/recordsOf.ts';
import { failed, listOf, NETNS_USAGE, parse, PIN_ROOT_USAGE, SIZE_OPTIONS, sizesOf } from './bpfArgs.ts';
import { compileObjects } from './compile.ts';
import { checkInputFiles, UsageError, type Io } from './io.ts';

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
  --policy-established revoke|keep
                         a NetworkPolicy change that denies an established flow:
                         revoke (default) cuts it on its next packet (a TCP RST to
                         the local pod); keep leaves it, judging only new flows
                         (Calico's behaviour)
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

interface ApplyArgs extends DatapathArgs {
  files: string[];
  node: string;
}

export const DATAPATH_OPTIONS = {
  'pin-root': { type: 'string' }, netns: { type: 'string' }, object: { type: 'string' },
  'pod-ifaces': { type: 'string' }, 'pod-iface-prefix': { type: 'string' }, 'node-ifaces': { type: 'string' },
  'node-ip': { type: 'string' }, 'hairpin-ip': { type: 'string' }, dsr: { type: 'boolean' }, 'no-fast-path': { type: 'boolean' },
  'policy-established': { type: 'string' }, 'no-host-services': { type: 'boolean' },
  'cgroup-root': { type: 'string' },
  'replace-maps': { type: 'boolean' }, verbose: { type: 'boolean' }, ...SIZE_OPTIONS,
} as const;

/** DATAPATH_OPTIONS' values, checked; throws UsageError. */
export function datapathArgsOf(v: { [k: string]: string | boolean | undefined }): DatapathArgs {
  if (v['pod-ifaces'] !== undefined && v['pod-iface-prefix'] !== undefined) throw new UsageError('give --pod-ifaces or --pod-iface-prefix, not both');
  for (const flag of ['node-ip', 'hairpin-ip'] as const) {
    if (v[flag] !== undefined && parseIp(v[flag] as string)?.family !== 4) throw new UsageError(`--${flag} must be an IPv4 address, not "${v[flag]}"`);
  }
  const established = v['policy-established'] ?? 'revoke';
  if (established !== 'revoke' && established !== 'keep') throw new UsageError(`--policy-established must be revoke or keep, not "${established}"`);
  return {
    pinRoot: (v['pin-root'] as string) ?? DEFAULT_PIN_ROOT,
    netns: v.netns as string | undefined, object: v.object as string | undefined, nodeIp: v['node-ip'] as string | undefined,
    hairpinIp: (v['hairpin-ip'] as string) ?? DEFAULT_HAIRPIN_IP, dsr: v.dsr === true, fastPath: v['no-fast-path'] !== true,
    policyEstablished: established, hostServices: v['no-host-services'] !== true,
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

function apply(a: ApplyArgs, io: Io): number {
  const snapshot = loadSnapshot(a.files);
  const [compiled] = compileObjects(snapshot.objects, a.node, snapshot.rejected, snapshot.ignored, snapshot.notes);
  for (const r of compiled.view.rejected) io.err(`sluice apply: rejected ${r.object}${r.field ? ` ${r.field}` : ''}: ${r.reason}\n`);
  const facts = nodeFacts(upserts(recordsOf(snapshotEvents(snapshot.objects)).records), a.node);
  const nodeIp = a.nodeIp ?? facts?.internalIp;
  if (!nodeIp) {
    throw new Error(facts ? `Node ${a.node} has no IPv4 InternalIP: pass --node-ip` : `no Node ${a.node} in the snapshot: pass --node-ip, or include the Node`);
  }
  const lines = programNode(compiled.store, facts, nodeIp, a);
  io.out(`node ${a.node}: ${a.pinRoot}\n${lines.join('\n')}\n`);
  return 0;
}
