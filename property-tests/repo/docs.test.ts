// The documentation a newcomer reads stays true to the tree: the README's
// layout names every folder (and every one of runtime/'s), every relative
// link of the README, doc/ and bench/README.md leads to a file that exists,
// and no file of the tree names a path of a development machine.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './importGraph.ts';

const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const DOCS = ['README.md', 'bench/README.md', ...readdirSync(join(ROOT, 'doc')).filter((f) => f.endsWith('.md')).map((f) => `doc/${f}`)];
/** The tree's files (not .git, build output or node_modules). */
function treeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (['.git', 'node_modules', 'build'].includes(e.name)) continue;
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk('');
  return out;
}

test('the README\'s layout names every top-level folder and every folder of runtime/', () => {
  const layout = text('README.md').split('## Layout')[1].split('\n## ')[0];
  const folders = (dir: string) => readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !['node_modules', 'build'].includes(e.name)).map((e) => e.name);
  const missing = [...folders('').map((f) => `\`${f}/\``), ...folders('runtime').map((f) => `\`${f}/\``)].filter((f) => !layout.includes(f));
  assert.equal(missing, []);
});

test('every relative link in the docs leads to a file that exists', () => {
  const broken: string[] = [];
  for (const doc of DOCS) {
    for (const m of text(doc).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(m[1])) continue;
      if (!existsSync(join(ROOT, dirname(doc), m[1]))) broken.push(`${doc}: ${m[1]}`);
    }
  }
  assert.equal(broken, []);
});

test('no file of the tree names a path of a development machine', () => {
  const leaks = treeFiles().filter((f) => !f.endsWith('package-lock.json') && !/\.(svg|wasm|o)$/.test(f))
    .flatMap((f) => [...readFileSync(join(ROOT, f), 'latin1').matchAll(/\/(?:work|home|root)\/[\w.-]+/g)].map((m) => `${f}: ${m[0]}`));
  assert.equal(leaks, []);
});

test.run();
