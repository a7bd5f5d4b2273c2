// One Stryker mutant applied to the pristine text of its file, for sources
// that cannot run instrumented: the AssemblyScript compiler is rebuilt per
// mutant. Stryker's instrumenter finds the mutants (the same ids, as every
// file's ids are consecutive); only the mutated part is printed by Babel,
// the rest is the file's own text. Babel's printer drops parentheses a type
// assertion needs (`<u32>(c >> 32)` comes out as `<u32> c >> 32`), so every
// subtree the mutant left as it was is spliced in from the source, in
// parentheses, and the printer sees only the mutant's own new nodes.
import { types as t, traverse, type NodePath } from '@babel/core';
import { generate } from '@babel/generator';
import { Instrumenter } from '@stryker-mutator/instrumenter';
import type { Range } from './sample.ts';

interface Logger { isDebugEnabled(): boolean; debug(...a: unknown[]): void; info(...a: unknown[]): void }
const quiet: Logger = { isDebugEnabled: () => false, debug() {}, info() {} };

/** What Stryker's instrumenter keeps of a mutant (its internal Mutant class); ids count from 0 per run, with gaps
 * where a mutant was made and then dropped, so a file's ids are Stryker's minus the same offset. */
interface RawMutant { id: string; mutatorName: string; original: t.Node; replacement: t.Node }
interface Collector { mutants: RawMutant[] }
type Transform = (ast: t.File, collector: Collector, context: unknown) => void;
type Parse = (content: string, name: string) => Promise<{ root: t.File }>;

// The instrumenter's defaults, reached through the constructor it offers for injection.
const base = new Instrumenter(quiet as never) as unknown as { _createParser: (o: object) => Parse; _print: unknown; _transform: Transform };
const OPTIONS = { plugins: null, excludedMutations: [], ignorers: [] };

export interface FileMutants { mutants: RawMutant[]; pristine: t.File }

/** Every mutant Stryker makes in one file (or in the given ranges of it: a sample's), in id order, and a
 * pristine parse of it. */
export async function mutantsOf(name: string, content: string, ranges?: Range[]): Promise<FileMutants> {
  let collector: Collector | undefined;
  const capture: Transform = (ast, c, context) => {
    collector = c;
    base._transform(ast, c, context);
  };
  const instrumenter = new (Instrumenter as unknown as new (...a: unknown[]) => Instrumenter)(quiet, base._createParser, base._print, capture);
  await instrumenter.instrument([{ name, content, mutate: ranges ?? true }], OPTIONS as never);
  const pristine = (await base._createParser(OPTIONS)(content, name)).root;
  return { mutants: collector?.mutants ?? [], pristine };
}

const span = (n: t.Node) => `${n.type}@${n.start}-${n.end}`;

/** The file's text with mutant i applied. */
export function applyMutant(content: string, fm: FileMutants, i: number): string {
  const m = fm.mutants[i];
  if (!m) throw new Error(`no mutant ${i}: the file has ${fm.mutants.length}`);
  const original = m.original;
  if (original.start == null || original.end == null) throw new Error(`mutant ${i} (${m.mutatorName}) has no source range`);
  const nodes = new Map<string, t.Node>();
  traverse(fm.pristine, { enter(p) { nodes.set(span(p.node), p.node); } });
  const text = printSpliced(content, m.replacement, nodes);
  const wrapped = t.isExpression(original) ? `(${text})` : text;
  return content.slice(0, original.start) + wrapped + content.slice(original.end);
}

/** Source range of a clone, from the location Babel's cloneNode keeps. */
function rangeOf(n: t.Node): [number, number] | undefined {
  const s = n.loc?.start.index, e = n.loc?.end.index;
  return s === undefined || e === undefined ? undefined : [s, e];
}

function printSpliced(content: string, replacement: t.Node, nodes: Map<string, t.Node>): string {
  const slots: string[] = [];
  const root = t.cloneNode(replacement, true, false);
  const holder = t.file(t.program([t.isStatement(root) ? root : t.expressionStatement(root as t.Expression)]));
  traverse(holder, {
    enter(p: NodePath) {
      if (p.node === root) return;
      const r = rangeOf(p.node);
      if (!r) return;
      const same = nodes.get(`${p.node.type}@${r[0]}-${r[1]}`);
      if (!same || !t.isNodesEquivalent(same, p.node)) return;
      if (t.isExpression(p.node)) {
        p.replaceWith(t.identifier(`__sluice_expr_${slots.length}`));
        slots.push(`(${content.slice(r[0], r[1])})`);
      } else if (t.isStatement(p.node)) {
        p.replaceWith(t.expressionStatement(t.identifier(`__sluice_stmt_${slots.length}`)));
        slots.push(content.slice(r[0], r[1]));
      } else {
        return;
      }
      p.skip();
    },
  });
  let code = generate(holder, { comments: false }).code.trim();
  if (!t.isStatement(root) && code.endsWith(';')) code = code.slice(0, -1);
  return code.replace(/__sluice_stmt_(\d+);|__sluice_expr_(\d+)/g, (_, st, ex) => slots[Number(st ?? ex)]);
}
