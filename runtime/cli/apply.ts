// sluice apply: a snapshot -> this node's datapath. Compiles the snapshot for
// the node and hands the compiled maps to the dataplane (dataplane/
// programNode.ts), which loads, writes only what differs and attaches.
import type { DatapathArgs } from '../dataplane/datapathArgs.ts';
import { programNode } from '../dataplane/programNode.ts';
import { nodeFacts } from '../encode/nodeFacts.ts';
import { loadSnapshot, snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf, upserts } from '../streams/recordsOf.ts';
import { failed, parse } from './bpfArgs.ts';
import { compileObjects } from './compile.ts';
import { DATAPATH_OPTIONS, DATAPATH_USAGE, datapathArgsOf } from './datapathFlags.ts';
import { checkInputFiles, UsageError, type Io } from './io.ts';

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
