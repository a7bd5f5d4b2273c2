// The repository's TypeScript files and the relative imports between them,
// read from the source text: static imports and re-exports, side-effect
// imports and dynamic import() of a literal path.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
const SKIP = new Set(['node_modules', 'build', '.git']);

/** Every .ts file under the given top-level folders, as a path relative to the repository. */
export function sourceFiles(folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) walk(path);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        out.push(path);
      }
    }
  };
  for (const f of folders) walk(f);
  return out.sort();
}

const IMPORT = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The files a source text imports by relative path, resolved against its own path. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(normalize(join(dirname(file), m[1] ?? m[2])));
  return out;
}

const LOADING = /^[ \t]*(?:import|export)\s+(?!type\b)(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The files a source text loads as it loads, by relative path: its static imports but type-only ones (Node strips those) and import(). */
export function loadsOf(file: string, text: string): string[] {
  return [...text.matchAll(LOADING)].map((m) => normalize(join(dirname(file), m[1])));
}

/** Every file loading the entries loads, the entries too. */
export function loadedWith(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of loadsOf(file, readFileSync(join(ROOT, file), 'utf8'))) visit(next);
  };
  for (const e of entries) visit(e);
  return seen;
}

export interface Edge { from: string; to: string; file: string; imports: string }

/** Edges between folders (as folderOf names them), each with one file that makes it. */
export function folderEdges(files: readonly string[], folderOf: (file: string) => string): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  for (const file of files) {
    for (const target of importsOf(file, readFileSync(join(ROOT, file), 'utf8'))) {
      const from = folderOf(file), to = folderOf(relative('.', target));
      if (from !== to && !edges.has(`${from} ${to}`)) edges.set(`${from} ${to}`, { from, to, file, imports: target });
    }
  }
  return edges;
}

/** One cycle of the graph as its edges, or undefined when it has none. */
export function findCycle(edges: Map<string, Edge>): Edge[] | undefined {
  const out = new Map<string, Edge[]>();
  for (const e of edges.values()) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const state = new Map<string, 'open' | 'done'>();
  const path: Edge[] = [];
  const visit = (node: string): Edge[] | undefined => {
    state.set(node, 'open');
    for (const e of out.get(node) ?? []) {
      if (state.get(e.to) === 'open') return [...path.slice(path.findIndex((p) => p.from === e.to)), e];
      if (state.has(e.to)) continue;
      path.push(e);
      const found = visit(e.to);
      if (found) return found;
      path.pop();
    }
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...out.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}
