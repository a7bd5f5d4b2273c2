// npm run mutate [-- UNIT... [--concurrency N] [--retest-survivors] [--skip-test FILE] [--sample N [--seed S]]]
// Mutation testing with StrykerJS and its command runner, one run per unit:
// a folder (compiler, runtime/encode, runtime/maps, runtime/log,
// runtime/streams; all of them by default), or files in one, comma-separated
// (a long run is cut in pieces that way: Stryker writes nothing until a run
// ends), against
// the non-kernel tests (tools/mutate/tests.ts).
// Stryker runs in a staged copy of the work tree (build/mutate/stage), where
// the AssemblyScript `@inline` of a function or a const is a comment, as Babel
// parses no decorator outside a class; tools/mutate/runMutant.ts rebuilds compiler.wasm per
// compiler mutant. Incremental: a mutant whose code is unchanged keeps its
// last result (build/mutate/incremental/<unit>.json); --retest-survivors
// runs the survivors again, after tests were added. --sample N runs N
// sites of each unit, drawn with a seed (tools/mutate/sample.ts), in one
// Stryker run, for an estimate where a whole run takes hours. The summary
// goes to bench/results/mutation.md (tools/mutate/summary.ts).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { knownEquivalent, mutantKey, writeSummary, type ReportMutant } from './mutate/summary.ts';
import { drawSample, inSample, readSample, SAMPLE_FILE, samplePatterns, TESTED_FILE, unitFiles } from './mutate/sample.ts';
import { FOLDERS } from './mutate/tests.ts';
import { run, tryRun } from '../runtime/exec/command.ts';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'build', 'mutate');
const stage = join(out, 'stage');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    concurrency: { type: 'string', default: '2' }, 'retest-survivors': { type: 'boolean', default: false },
    // a test known to fail on this tree (the dry run must pass): left out of every run, and said so in the summary
    'skip-test': { type: 'string', multiple: true, default: [] },
    sample: { type: 'string' }, seed: { type: 'string', default: '1' },
  },
});
const units = positionals.length > 0 ? positionals : Object.keys(FOLDERS);
for (const u of units.flatMap((x) => x.split(','))) {
  if (!Object.keys(FOLDERS).some((f) => u === f || (u.startsWith(`${f}/`) && u.endsWith('.ts')))) {
    throw new Error(`${u} is neither one of ${Object.keys(FOLDERS).join(', ')} nor a .ts file in one`);
  }
}

/** The tracked (and new, unignored) files, with the compiler's `@inline` (of a function or a const) as a comment. */
function stageTree(): void {
  rmSync(stage, { recursive: true, force: true });
  const ls = run(['git', 'ls-files', '-co', '--exclude-standard'], { cwd: root });
  for (const f of ls.split('\n').filter((x) => x && existsSync(join(root, x)))) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    if (f.startsWith('compiler/') && f.endsWith('.ts')) {
      writeFileSync(join(stage, f), readFileSync(join(root, f), 'utf8').replace(/^@inline (?=(export )?(function|const) )/gm, '/*@inline*/ '));
    } else {
      cpSync(join(root, f), join(stage, f));
    }
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'));
  // The agent's tests size its maps from the datapath object (npm run build:bpf).
  cpSync(join(root, 'build', 'bpf'), join(stage, 'build', 'bpf'), { recursive: true });
  // Tests of the debug build's checks (heapPages.test.ts) load it: the pristine one, as only the release
  // build is rebuilt per mutant (a mutant is to be killed by the tests of the build the agent runs).
  cpSync(join(root, 'build', 'compiler.debug.wasm'), join(stage, 'build', 'compiler.debug.wasm'));
}

/** Drops from an incremental file the survivors that `again` picks, so that Stryker tries them again; not the
 * known equivalents (equivalent.ts): no test can kill them, and a compiler survivor costs minutes. */
function forgetSurvivors(file: string, again: (key: string) => boolean): void {
  if (!existsSync(file)) return;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const [path, f] of Object.entries(report.files) as [string, { source: string; mutants: ReportMutant[] }][]) {
    const lines = f.source.split('\n');
    f.mutants = f.mutants.filter((m) => (m.status !== 'Survived' && m.status !== 'NoCoverage') ||
      knownEquivalent(path, m, lines[m.location.start.line - 1] ?? '') !== undefined ||
      !again(mutantKey(path, m.location.start.line, m.location.start.column - 1, m.mutatorName)));
  }
  writeFileSync(file, JSON.stringify(report));
}

/** Which survivors to try again before a run: with --retest-survivors every one (in a sampled run the sample's
 * only: the others passed untested); in a sampled run always those of the sample that passed untested, as
 * they were outside an earlier, smaller sample (TESTED_FILE lists the sites whose tests ran). */
function retried(): ((key: string) => boolean) | undefined {
  const sample = readSample(out);
  if (!sample) return values['retest-survivors'] ? () => true : undefined;
  const testedFile = join(out, TESTED_FILE);
  const tested = new Set(existsSync(testedFile) ? readFileSync(testedFile, 'utf8').split('\n') : []);
  return (key) => inSample(sample, key) && (values['retest-survivors'] || !tested.has(key));
}

/** One Stryker run, its reports named `name`. */
function runUnit(name: string, mutate: string[]): void {
  const incremental = join(out, 'incremental', `${name}.json`);
  const again = retried();
  if (again) forgetSurvivors(incremental, again);
  const config = {
    testRunner: 'command',
    commandRunner: { command: ['node tools/mutate/runMutant.ts', stage, ...values['skip-test']].join(' ') },
    mutate,
    coverageAnalysis: 'off',
    concurrency: Number(values.concurrency),
    incremental: true,
    incrementalFile: incremental,
    reporters: ['json', 'clear-text', 'progress-append-only'],
    jsonReporter: { fileName: join(out, 'reports', `${name}.json`) },
    tempDirName: join(out, 'tmp'),
    ignorePatterns: ['bench/results', '.git'],
    // A mutant's limit is this plus the factor times the dry run. A compiler mutant that survives runs nearly
    // every test the dry run ran, plus a build, beside another mutant on a 2-core machine: with a factor of 1 and
    // 20 s it could pass the limit and be counted a timeout (killed) without being told apart by any test.
    timeoutMS: 60000,
    timeoutFactor: 1.5,
    // The dry run is every non-kernel test, about 3.5 minutes on a quiet machine: Stryker's 5 is too tight under load.
    dryRunTimeoutMinutes: 30,
    // Nothing to rewrite for the sandbox, and typescript 7 has no JavaScript API for Stryker to do it with.
    tsconfigFile: 'none',
  };
  writeFileSync(join(stage, 'stryker.config.json'), JSON.stringify(config, null, 2));
  const started = Date.now();
  const r = tryRun([join(root, 'node_modules/.bin/stryker') as `/${string}`, 'run'], { cwd: stage, output: 'inherit', timeoutMs: Infinity });
  if (r.status !== 0) throw new Error(`stryker run ${name} exited ${r.status}`, { cause: r.error });
  writeFileSync(join(out, 'reports', `${name}.time`), `${Math.round((Date.now() - started) / 1000)}\n`);
}

mkdirSync(join(out, 'reports'), { recursive: true });
stageTree();
rmSync(join(out, SAMPLE_FILE), { force: true });
if (values.sample !== undefined) {
  const sample = await drawSample(stage, units, Number(values.sample), values.seed);
  writeFileSync(join(out, SAMPLE_FILE), JSON.stringify(sample));
  runUnit('sample', samplePatterns(sample));
} else {
  for (const u of units) runUnit(u.replaceAll('/', '-').replaceAll(',', '+'), unitFiles(stage, u));
}
writeSummary(out, join(root, 'bench', 'results', 'mutation.md'), values['skip-test']);
