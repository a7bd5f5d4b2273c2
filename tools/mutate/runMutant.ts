// Stryker's command (tools/mutate.ts writes it into the config): runs in
// Stryker's sandbox once per mutant, and once without one (the dry run).
//   node tools/mutate/runMutant.ts STAGE [SKIPPED-TEST...]
// TypeScript mutants run as Stryker placed them (switched on by
// __STRYKER_ACTIVE_MUTANT__); an AssemblyScript mutant is applied to the
// pristine text in STAGE and compiler.wasm is rebuilt. Each concurrent run
// works in a copy of the sandbox of its own, as each has a compiler.wasm of
// its own (slot()).
// Exit 0: the tests passed (the mutant survived), or a sampled run's range
// took in a mutant outside the sample (sample.ts; the summary leaves it out);
// 1: a test failed, or the mutant did not build (added to
// STAGE/../compile-errors.txt, so the summary counts it apart from the
// mutants a test killed).
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libc } from '../../runtime/bpf/native.ts';
import { inSample, readSample, TESTED_FILE } from './sample.ts';
import { mutantKey } from './summary.ts';
import { testOrder } from './tests.ts';

const stage = process.argv[2];
if (!stage) throw new Error('usage: runMutant.ts STAGE');
const active = process.env.__STRYKER_ACTIVE_MUTANT__;
const sandbox = process.cwd();
const LOCK_EX = 2, LOCK_NB = 4;

/** The first copy of the sandbox no other run holds, held (flock) until this process exits. Stryker runs the
 * command runner's commands from its main process, in one sandbox, and with no worker id: at concurrency 2,
 * two mutants once built into one compiler.wasm, and a compiler mutant was tested with another's build. */
function slot(): string {
  for (let k = 0; ; k++) {
    const dir = join(sandbox, '.mutate', `worker-${k}`);
    mkdirSync(dir, { recursive: true });
    const fd = openSync(`${dir}.lock`, 'a');
    if (libc.flock(fd, LOCK_EX | LOCK_NB) === 0) return dir;
    closeSync(fd);
  }
}
const work = slot();
const wasm = join(work, 'build', 'compiler.release.wasm');
const pristineWasm = join(work, 'build', 'compiler.pristine.wasm');
const sample = readSample(join(stage, '..'));

/** `@inline` of a function or a const does not parse as TypeScript: tools/mutate.ts stages it as a comment. */
export const unstage = (text: string) => text.replace(/^\/\*@inline\*\/ /gm, '@inline ');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
}

function setUp(): void {
  if (existsSync(pristineWasm)) return;
  mkdirSync(work, { recursive: true });
  for (const e of readdirSync(sandbox)) {
    if (e === '.mutate') continue;
    cpSync(join(sandbox, e), join(work, e), { recursive: true, verbatimSymlinks: true });
  }
  const built = build(new Map());
  if (built !== true) throw new Error(`the staged compiler does not build: ${built}`);
  copyFileSync(wasm, pristineWasm);
}

/** asc's flags for the release target, from asconfig.json (one place for them), but
 * without optimizing: a build takes 2 s instead of 5, and the tests run as fast. */
function ascArgs(entry: string, out: string): string[] {
  const conf = JSON.parse(readFileSync(join(work, 'asconfig.json'), 'utf8'));
  const opts = { ...conf.options, ...conf.targets.release, outFile: out, optimizeLevel: 0, shrinkLevel: 0 };
  return [entry, ...Object.entries(opts).flatMap(([k, v]) => (v === true ? [`--${k}`] : v === false ? [] : [`--${k}`, String(v)]))];
}

/** Builds compiler.wasm from the staged sources, with the given files replaced; asc's error if it refuses. */
function build(replaced: Map<string, string>): true | string {
  const src = join(work, 'build', 'mutant-src');
  rmSync(src, { recursive: true, force: true });
  for (const f of files(join(stage, 'compiler'))) {
    const rel = relative(stage, f);
    mkdirSync(dirname(join(src, rel)), { recursive: true });
    writeFileSync(join(src, rel), unstage(replaced.get(rel) ?? readFileSync(f, 'utf8')));
  }
  // Run where no asconfig.json is, or asc would add its entries to the build.
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.resolve('assemblyscript/bin/asc.js')), ...ascArgs(join(src, 'compiler/index.ts'), wasm)],
    { cwd: src, encoding: 'utf8' });
  return r.status === 0 ? true : (r.stderr || r.stdout).split('\n').find((l) => /ERROR/.test(l)) ?? `asc exited ${r.status}`;
}

/** The mutated file holding mutant id, and the ids Stryker placed in it, sorted. */
function locate(id: number): { file: string; ids: number[] } {
  const indexFile = join(work, 'mutants.json');
  if (!existsSync(indexFile)) {
    const index: { file: string; ids: number[] }[] = [];
    for (const f of [...files(join(work, 'compiler')), ...files(join(work, 'runtime'))]) {
      const ids = [...new Set([...readFileSync(f, 'utf8').matchAll(/stryMutAct_9fa48\("(\d+)"\)/g)].map((m) => Number(m[1])))];
      if (ids.length > 0) index.push({ file: relative(work, f), ids: ids.sort((a, b) => a - b) });
    }
    writeFileSync(indexFile, JSON.stringify(index));
  }
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { file: string; ids: number[] }[];
  const at = index.find((e) => e.ids.includes(id));
  if (!at) throw new Error(`mutant ${id} is in no instrumented file`);
  return at;
}

/** Mutant `id` of a staged file, with its key for the summary. The instrumenter, run on the file alone, gives
 * the same mutants with ids less an offset (checked: the same ids, shifted); every mutant of the file is worked
 * out at its first, and kept for the rest (Babel is slow to load). */
async function mutantText(file: string, ids: number[], id: number): Promise<{ text: string; key: string }> {
  const cache = join(work, 'mutants', `${file.replaceAll('/', '-')}.json`);
  if (!existsSync(cache)) {
    const { applyMutant, mutantsOf } = await import('./spliceMutant.ts');
    const content = readFileSync(join(stage, file), 'utf8');
    const fm = await mutantsOf(file, content, sample?.ranges[file]);
    const mine = fm.mutants.map((m) => Number(m.id));
    const shift = ids[0] - Math.min(...mine);
    if (mine.length !== ids.length || mine.some((m) => !ids.includes(m + shift))) {
      throw new Error(`${file}: the ids Stryker placed are not the instrumenter's, shifted by ${shift}`);
    }
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, JSON.stringify(Object.fromEntries(fm.mutants.map((m, k) => [Number(m.id) + shift, {
      text: applyMutant(content, fm, k),
      key: mutantKey(file, m.original.loc!.start.line, m.original.loc!.start.column, m.mutatorName),
    }]))));
  }
  return (JSON.parse(readFileSync(cache, 'utf8')) as { [id: string]: { text: string; key: string } })[id];
}

/** Puts the mutant in place; returns the mutated file (undefined for the dry run). */
async function prepare(): Promise<string | undefined> {
  if (active === undefined) {
    copyFileSync(pristineWasm, wasm);
    return undefined;
  }
  const { file, ids } = locate(Number(active));
  const compiler = file.startsWith('compiler/');
  if (!compiler && !sample) {
    copyFileSync(pristineWasm, wasm);
    return file;
  }
  const { text, key } = await mutantText(file, ids, Number(active));
  if (sample && !inSample(sample, key)) process.exit(0);
  if (sample) appendFileSync(join(stage, '..', TESTED_FILE), `${key}\n`);
  if (!compiler) {
    copyFileSync(pristineWasm, wasm);
    return file;
  }
  const built = build(new Map([[file, text]]));
  if (built !== true) {
    appendFileSync(join(stage, '..', 'compile-errors.txt'), `${JSON.stringify([key, built])}\n`);
    process.exit(1);
  }
  return file;
}

setUp();
const mutated = await prepare();
const all = files(join(work, 'property-tests')).map((f) => relative(join(work, 'property-tests'), f));
const skipped = new Set(process.argv.slice(3));
const run = spawnSync(process.execPath, ['tools/mutate/bail.ts', ...testOrder(work, all, mutated).filter((f) => !skipped.has(f)).map((f) => join('property-tests', f))],
  { cwd: work, stdio: 'inherit', env: { ...process.env, SEED: '42', SEED_MOVING: '0' } });
process.exit(run.status ?? 1);
