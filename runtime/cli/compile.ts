// sluice compile: a cluster snapshot -> the maps each node would get, without
// a cluster or root. The snapshot goes through the agent's pipeline
// (recordsOf: its objects, then 'synced'), and each node gets a fresh
// compiler and that one batch, so the output is the canonical image for that
// state, and the first batch an agent would apply.
import { parseArgs } from 'node:util';
import * as R from '../../compiler/abi/records.ts';
import { compareFindings, type Note, type Rejection } from '../encode/records.ts';
import { labelOf } from '../encode/objectKey.ts';
import { encodeBatch, type Record } from '../encode/schema.ts';
import { MemoryStore } from '../maps/store.ts';
import { loadSnapshot, snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf } from '../streams/recordsOf.ts';
import { Compiler } from '../wasm/host.ts';
import { viewOf } from '../view/frontends.ts';
import { FORMATS, render, type Format, type NodeResult } from '../view/render.ts';
import { checkInputFiles, UsageError, type Io } from './io.ts';

export const COMPILE_USAGE = `usage: sluice compile <file>... [--node NAME] [--format table|json|maps]

Compiles a cluster snapshot (files from \`kubectl get -A -o yaml\` or \`-o json\`)
into the eBPF map contents a node would get, and prints them.

  --node NAME      compile for this node only (default: each Node in the input,
                   in name order; with no Node in the input, for no node)
  --format FORMAT  table (default); json: one JSON document per node, one per
                   line; maps: every map entry in hex, then a sha256 of them all
  -h, --help       print this text

Exit status: 0 when nothing was rejected, 1 when some object was rejected (the
output is still complete), 2 on a usage error.
`;

interface CompileArgs { files: string[]; node: string | undefined; format: Format }

/** Returns undefined for --help. */
export function parseCompileArgs(args: readonly string[]): CompileArgs | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { node: { type: 'string' }, format: { type: 'string', default: 'table' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (!(FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`);
  }
  if (positionals.length === 0) throw new UsageError('no input files');
  if (values.node === '') throw new UsageError('--node needs a node name');
  checkInputFiles(positionals);
  return { files: positionals, node: values.node, format: values.format as Format };
}

export function compileCommand(args: readonly string[], io: Io): number {
  const parsed = parseCompileArgs(args);
  if (!parsed) {
    io.out(COMPILE_USAGE);
    return 0;
  }
  const snapshot = loadSnapshot(parsed.files);
  if (parsed.node !== undefined) checkNode(snapshot.objects, parsed.node);
  const results = compileObjects(snapshot.objects, parsed.node, snapshot.rejected, snapshot.ignored, snapshot.notes);
  // json: one document per line; table and maps: sections a blank line apart.
  io.out(results.map((r) => render(parsed.format, r)).join(parsed.format === 'json' ? '' : '\n'));
  return results.some((r) => r.view.rejected.length > 0) ? 1 : 0;
}

/** A --node the input has no Node of would compile for a node that does not exist: a usage error. */
function checkNode(objects: unknown[], node: string): void {
  const nodes = nodeNames(recordsOf(snapshotEvents(objects)).records);
  if (nodes.includes(node)) return;
  throw new UsageError(`--node ${node}: the input has no Node of that name (${nodes.length ? `its Nodes: ${nodes.join(', ')}` : 'it has no Node'})`);
}

const nodeNames = (records: readonly Record[]) => records.filter((r) => r.kind === R.KIND_NODE && r.op === 'upsert').map((r) => r.name);

/** One result per node: the given one, else every Node in the input, else none; rejected and notes carry the loader's findings. */
export function compileObjects(objects: unknown[], node: string | undefined, rejected: Rejection[] = [], ignored = 0, notes: Note[] = []): NodeResult[] {
  const set = recordsOf(snapshotEvents(objects));
  const { bytes: batch, refused } = encodeBatch(set.records);
  const unencodable = refused.map((x) => ({ object: labelOf(x.ref), field: '', reason: x.reason }));
  const nodes = node !== undefined ? [node] : nodeNames(set.records);
  return (nodes.length > 0 ? nodes : [null]).map((name) => {
    const compiler = new Compiler({ node: name });
    const store = new MemoryStore();
    store.apply(compiler.batch(batch));
    const all = [...rejected, ...set.rejected, ...unencodable, ...compiler.problems()].sort(compareFindings);
    return { view: viewOf(store, { node: name, rejected: all, notes: [...notes, ...set.notes].sort(compareFindings) }), store, ignored };
  });
}
