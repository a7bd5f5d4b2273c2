// The folder drawing of doc/architecture.md: runtime's folders depend on each other
// without a cycle (cli -> agent -> dataplane -> bpf -> maps -> abi), and so
// do the top-level folders. A folder is one of runtime's subfolders, or a
// top-level folder whole (the compiler is one AssemblyScript program, the
// tests one suite).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findCycle, folderEdges, importsOf, ROOT, sourceFiles, type Edge } from './importGraph.ts';

const FOLDERS = ['runtime', 'compiler', 'bench', 'property-tests', 'testkit', 'tools'];
const folderOf = (file: string) => {
  const parts = file.split('/');
  return parts[0] === 'runtime' && parts.length > 2 ? `runtime/${parts[1]}` : parts[0];
};
const show = (edges: Edge[]) => edges.map((e) => `${e.from} -> ${e.to} (${e.file} imports ${e.imports})`).join('\n  ');

test('importsOf finds static, type-only, re-exported, side-effect and dynamic imports, and only relative ones', () => {
  const text = `import { a } from './a.ts';\nimport type {\n  B,\n} from '../b/b.ts';\nexport { c } from "./c.ts";\nimport './d.ts';\n` +
    `const e = await import('../e.ts');\nimport koffi from 'koffi';\nconst s = 'from "./not-an-import.ts"';`;
  assert.equal(importsOf('runtime/x/f.ts', text), ['runtime/x/a.ts', 'runtime/b/b.ts', 'runtime/x/c.ts', 'runtime/x/d.ts', 'runtime/e.ts']);
});

test('findCycle finds a cycle through three folders and none in a chain', () => {
  const edge = (from: string, to: string): [string, Edge] => [`${from} ${to}`, { from, to, file: `${from}/f.ts`, imports: `${to}/g.ts` }];
  assert.is(findCycle(new Map([edge('a', 'b'), edge('b', 'c'), edge('a', 'c')])), undefined);
  const cycle = findCycle(new Map([edge('a', 'b'), edge('b', 'c'), edge('c', 'b'), edge('c', 'd')]));
  assert.equal(cycle?.map((e) => `${e.from}>${e.to}`), ['b>c', 'c>b']);
});

test('no folder imports a folder that imports it back, through any chain', () => {
  const edges = folderEdges(sourceFiles(FOLDERS), folderOf);
  assert.ok(edges.has('runtime/cli runtime/agent') && edges.has('runtime/agent runtime/dataplane'), 'the graph was read');
  const cycle = findCycle(edges);
  assert.ok(!cycle, `folder cycle:\n  ${show(cycle ?? [])}`);
});

test('bench and property-tests do not import each other: what both use lives in testkit or runtime', () => {
  const edges = folderEdges(sourceFiles(['bench', 'property-tests']), folderOf);
  assert.equal([...edges.values()].filter((e) => ['bench', 'property-tests'].includes(e.to)).map((e) => `${e.file} imports ${e.imports}`), []);
});

test('runtime imports none of bench, property-tests, testkit and tools', () => {
  const edges = [...folderEdges(sourceFiles(['runtime']), folderOf).values()].filter((e) => !e.to.startsWith('runtime'));
  assert.ok(edges.every((e) => e.to === 'compiler'), `runtime imports:\n  ${show(edges)}`);
});

test('koffi behind one module: runtime/bpf/native.ts alone imports it', () => {
  const importers = sourceFiles(FOLDERS).filter((f) => /^\s*import\b[^;]*\bfrom ['"]koffi['"]/m.test(readFileSync(`${ROOT}/${f}`, 'utf8')));
  assert.equal(importers, ['runtime/bpf/native.ts']);
});

test.run();
