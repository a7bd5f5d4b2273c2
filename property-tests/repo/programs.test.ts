// Whatever a test, a benchmark or sluice itself runs is something the install
// step provides. The list of programs and their Debian packages is
// runtime/exec/programs.ts; runtime/exec/command.ts runs nothing that is not
// on it (tsc checks its argv type); this test checks that nothing runs a
// program around that layer, that each program a folder names is one its
// install script brings, and that the install scripts read the list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEPENDENCIES, dependenciesFor, type Need } from '../../runtime/exec/programs.ts';
import { ROOT, sourceFiles } from './importGraph.ts';

const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const SPAWN = /(?<![\w.])(spawn|spawnSync|execFile|execFileSync|exec|execSync|fork)\(\s*([^,)]*)/g;
const SELF = 'property-tests/repo/programs.test.ts';
const FOLDERS = ['runtime', 'bench', 'property-tests', 'tools'];

/** Spawn calls of a file that imports child_process whose program is not node itself. */
function directSpawns(source: string): string[] {
  if (!/from 'node:child_process'|require\('node:child_process'\)|import\('node:child_process'\)/.test(source)) return [];
  return [...source.matchAll(SPAWN)].filter((m) => m[2].trim() !== 'process.execPath').map((m) => `${m[1]}(${m[2].trim()}`);
}

/** Programs a source names first in an argv literal: ['ip', ...]. */
function namedPrograms(source: string): string[] {
  const known = new Set<string>(DEPENDENCIES.map((d) => d.program));
  return [...source.matchAll(/\[\s*'([\w.-]+)'\s*[,\]]/g)].map((m) => m[1]).filter((p) => known.has(p));
}

/** The needs whose install brings what a folder runs: tools and tests under npm test (build, run, test), benchmarks under their deps script. */
const NEEDS_OF: { [folder: string]: Need[] } = {
  runtime: ['run'], tools: ['build', 'test'], 'property-tests': ['build', 'run', 'test'], bench: ['build', 'run', 'bench'],
};

test('directSpawns sees a program run around the exec layer, and lets node itself through', () => {
  const src = "import { spawnSync } from 'node:child_process';\nspawnSync(process.execPath, [MAIN]);\nspawnSync('nft', ['-f', '-']);";
  assert.equal(directSpawns(src), ["spawnSync('nft'"]);
  assert.equal(directSpawns("import { spawn } from 'node:child_process';\nconst m = /x/.exec(line);"), [], 'a RegExp exec is no spawn');
  assert.equal(namedPrograms("run(nsenter(ns, ['nft', '-f', f])); const t = ['tcp', 'udp']; run(['ip']);"), ['nft', 'ip']);
});

test('only runtime/exec runs programs (other code may spawn node itself)', () => {
  const offenders = sourceFiles(FOLDERS).filter((f) => !f.startsWith('runtime/exec/') && f !== SELF)
    .flatMap((f) => directSpawns(text(f)).map((s) => `${f}: ${s}`));
  assert.equal(offenders, [], 'run them through runtime/exec/command.ts, whose argv names a Program of runtime/exec/programs.ts');
});

test('each program a folder names is installed by that folder\'s install step', () => {
  const missing: string[] = [];
  for (const [folder, needs] of Object.entries(NEEDS_OF)) {
    const provided = new Set(dependenciesFor(needs).map((d) => d.program));
    for (const f of sourceFiles([folder])) {
      for (const p of namedPrograms(text(f))) if (!provided.has(p)) missing.push(`${f} runs ${p}, which ${needs.join('+')} does not install`);
    }
  }
  assert.equal(missing, []);
});

test('every program on the list but node comes from a Debian package, every file entry is a path, and each is there for a reason', () => {
  for (const d of DEPENDENCIES) {
    assert.ok(d.program === 'node' ? d.package === undefined : typeof d.package === 'string', d.program);
    assert.ok(d.why.length > 10 && d.need.length > 0, d.program);
    assert.ok(/^[\w.+-]+$|^\/[\w./+-]+$/.test(d.program), d.program);
  }
  assert.equal(new Set(DEPENDENCIES.map((d) => d.program)).size, DEPENDENCIES.length, 'each program once');
});

test('the install scripts read the list: npm test and npm run build through system-deps.sh, the benchmarks through deps.sh', () => {
  const pkg = JSON.parse(text('package.json')).scripts as { [s: string]: string };
  assert.match(pkg.build, /^bash tools\/system-deps\.sh build run && /);
  assert.match(pkg.test, /^bash tools\/system-deps\.sh && /);
  const systemDeps = text('tools/system-deps.sh'), benchDeps = text('bench/datapath/deps.sh');
  assert.match(systemDeps, /set -- build run test/);
  assert.match(systemDeps, /deps\.ts" missing "\$@"/);
  assert.match(benchDeps, /deps\.ts" missing build run bench/);
  for (const s of [systemDeps, benchDeps]) assert.not.match(s, /command -v|need\+=\(/, 'no list of its own');
});

test('the npm scripts run only npm-installed tools and programs the build installs', () => {
  const pkg = JSON.parse(text('package.json')) as { scripts: { [s: string]: string } };
  const build = new Set<string>(dependenciesFor(['build']).map((d) => d.program));
  const npmTools = new Set(['npm', 'asc', 'tsc', 'bash']);
  const commands = Object.values(pkg.scripts).flatMap((s) => s.split('&&').map((c) => c.trim().split(/\s+/)[0]));
  assert.equal(commands.filter((c) => !build.has(c) && !npmTools.has(c)), []);
});

test.run();
