// The mutation report in words: per folder and file, the mutants killed (a
// test failed or timed out), those that did not build (AssemblyScript only;
// left out of the score, as Stryker leaves out compile errors), the
// survivors, and which survivors are equivalent mutants (equivalent.ts),
// with the score with and without those.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EQUIVALENT } from './equivalent.ts';
import { inSample, readSample, SAMPLE_FILE } from './sample.ts';
import { FOLDERS } from './tests.ts';

interface Position { line: number; column: number }
export interface ReportMutant { mutatorName: string; replacement?: string; status: string; location: { start: Position; end: Position } }
interface Report { files: { [path: string]: { source: string; mutants: ReportMutant[] } } }

/** One key per mutant, the same in runMutant.ts (from Babel, 0-based columns) and here (1-based). */
export const mutantKey = (file: string, line: number, column0: number, mutator: string) => `${file}:${line}:${column0}:${mutator}`;

export interface Tally { killed: number; timeout: number; survived: number; noCoverage: number; compileErrors: number; equivalent: number; other: number }
const empty = (): Tally => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, compileErrors: 0, equivalent: 0, other: 0 });

/** Detected over all mutants that built and are not known equivalents (Stryker's score, compile errors apart). */
export const score = (t: Tally) => (t.killed + t.timeout) / (t.killed + t.timeout + t.survived + t.noCoverage);
/** The same with known equivalents counted as mutants no test can kill (raw Stryker score). */
export const rawScore = (t: Tally) => (t.killed + t.timeout) / (t.killed + t.timeout + t.survived + t.noCoverage + t.equivalent);

function add(a: Tally, b: Tally): void {
  for (const k of Object.keys(a) as (keyof Tally)[]) a[k] += b[k];
}

const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);

/** Every mutated file's latest result, from the reports of the whole runs (a folder's, or one file's). */
function latestFiles(dir: string): Map<string, { source: string; mutants: ReportMutant[]; time: number }> {
  const files = new Map<string, { source: string; mutants: ReportMutant[]; time: number }>();
  const reports = join(dir, 'reports');
  if (!existsSync(reports)) return files;
  for (const r of readdirSync(reports).filter((f) => f.endsWith('.json') && f !== SAMPLE_FILE)) {
    const time = statSync(join(reports, r)).mtimeMs;
    const report = JSON.parse(readFileSync(join(reports, r), 'utf8')) as Report;
    for (const [path, f] of Object.entries(report.files)) {
      if ((files.get(path)?.time ?? -1) < time) files.set(path, { ...f, time });
    }
  }
  return files;
}

/** The entry of equivalent.ts that mutant m of path is, if any; original: the text of its line. */
export const knownEquivalent = (path: string, m: ReportMutant, original: string) => EQUIVALENT.find((e) => e.file === path &&
  original.includes(e.line) && e.mutator === m.mutatorName && (e.replacement === undefined || e.replacement === m.replacement) &&
  (e.column === undefined || e.column === m.location.start.column));

interface Classified { tally: Tally; survivor?: string; equivalent?: string; timeout?: string }

/** One mutant's place in the tally, and its line among the survivors or the equivalents. */
function classify(path: string, m: ReportMutant, src: string[], errors: { [key: string]: string }): Classified {
  const t = empty();
  const key = mutantKey(path, m.location.start.line, m.location.start.column - 1, m.mutatorName);
  const where = `${path}:${m.location.start.line}`;
  const original = src[m.location.start.line - 1]?.trim() ?? '';
  const line = `\`${where}\` ${m.mutatorName} \`${original}\` → \`${m.replacement}\``;
  if (m.status === 'Killed' && key in errors) t.compileErrors++;
  else if (m.status === 'Killed') t.killed++;
  else if (m.status === 'Timeout') {
    t.timeout++;
    return { tally: t, timeout: `- ${line}` };
  }
  else if (m.status === 'Survived' || m.status === 'NoCoverage') {
    const eq = knownEquivalent(path, m, original);
    if (eq) {
      t.equivalent++;
      return { tally: t, equivalent: `- ${line}: ${eq.why}` };
    }
    if (m.status === 'Survived') t.survived++;
    else t.noCoverage++;
    return { tally: t, survivor: `- ${line}` };
  } else t.other++;
  return { tally: t };
}

const row = (folder: string, t: Tally) => `| ${folder} | ${Object.values(t).reduce((a, b) => a + b, 0)} | ${t.killed} | ${t.timeout} | ` +
  `${t.survived} | ${t.noCoverage} | ${t.compileErrors} | ${t.equivalent} | ${pct(score(t))} | ${pct(rawScore(t))} |`;

/** Wilson's 95% interval for a share of k in n. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96, p = k / n, d = 1 + (z * z) / n;
  const mid = (p + (z * z) / (2 * n)) / d, half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, mid - half), Math.min(1, mid + half)];
}

/** Tallies per folder over the given files' mutants that pass `keep`, with their survivor and equivalent lines. */
function tallyFolders(files: Map<string, { source: string; mutants: ReportMutant[] }>, errors: { [key: string]: string },
  keep: (key: string) => boolean) {
  const folders = new Map<string, Tally>(), survivors: string[] = [], equivalents: string[] = [], timeouts: string[] = [];
  for (const folder of Object.keys(FOLDERS)) {
    for (const [path, f] of [...files].filter(([p]) => p.startsWith(`${folder}/`)).sort(([a], [b]) => a.localeCompare(b))) {
      const src = f.source.split('\n');
      for (const m of f.mutants.filter((x) => keep(mutantKey(path, x.location.start.line, x.location.start.column - 1, x.mutatorName)))) {
        const c = classify(path, m, src, errors);
        if (!folders.has(folder)) folders.set(folder, empty());
        add(folders.get(folder)!, c.tally);
        if (c.survivor) survivors.push(c.survivor);
        if (c.equivalent) equivalents.push(c.equivalent);
        if (c.timeout) timeouts.push(c.timeout);
      }
    }
  }
  return { folders, survivors, equivalents, timeouts };
}

const HEAD = ['| folder | mutants | killed | timeout | survived | no coverage | did not build | equivalent | score | raw |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];

/** The last sampled run (sample.ts): its sites only, with each folder's score and Wilson's interval for it. */
function sampleSection(dir: string, errors: { [key: string]: string }): string[] {
  const sample = readSample(dir), report = join(dir, 'reports', SAMPLE_FILE);
  if (!sample || !existsSync(report)) return [];
  const files = new Map(Object.entries((JSON.parse(readFileSync(report, 'utf8')) as Report).files));
  const { folders, survivors, equivalents, timeouts } = tallyFolders(files, errors, (k) => inSample(sample, k));
  const units = Object.entries(sample.units).map(([u, x]) => `\`${u}\` ${x.keys.length} of ${x.sites} sites (${x.mutants} mutants)`);
  const intervals = [...folders].map(([f, t]) => {
    const [lo, hi] = wilson(t.killed + t.timeout, t.killed + t.timeout + t.survived + t.noCoverage);
    return `- ${f}: ${pct(score(t))}, 95% interval ${pct(lo)}–${pct(hi)}`;
  });
  return ['## Sampled run', '', `\`npm run mutate -- ${Object.keys(sample.units).join(' ')} --sample ${sample.perUnit} --seed ${sample.seed}\`: ` +
    `${units.join('; ')}. A site is one node and one mutator (one to three mutants); sites are drawn by a seeded hash, ` +
    'and only their mutants are counted.', '', ...HEAD, ...[...folders].map(([f, t]) => row(f, t)), '', ...intervals, '',
  '### Survivors in the sample', '', ...(survivors.length ? survivors : ['none']), '',
  '### Equivalent mutants in the sample', '', ...(equivalents.length ? equivalents : ['none']), '',
  // A timeout counts as killed, as in Stryker; listed, so that each can be checked to be a loop and not a slow survivor.
  '### Timed out in the sample', '', ...(timeouts.length ? timeouts : ['none']), ''];
}

export function writeSummary(dir: string, to: string, skipped: readonly string[] = []): void {
  // JSON lines [key, asc's error], kept across runs: an incremental run reuses a result without a build.
  const errorsFile = join(dir, 'compile-errors.txt');
  const errors: { [key: string]: string } = existsSync(errorsFile)
    ? Object.fromEntries(readFileSync(errorsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))) : {};
  const { folders, survivors, equivalents } = tallyFolders(latestFiles(dir), errors, () => true);
  const lines: string[] = ['# Mutation testing', '', 'Written by `npm run mutate` (tools/mutate.ts); StrykerJS with the command runner,',
    'against the non-kernel tests. Score: killed or timed out over all mutants that built, known equivalents left out;',
    '"raw" counts them as survivors.', ...(skipped.length ? ['', `Left out of the last run (failing on the tree then): ${skipped.join(', ')}.`] : []), '',
    ...sampleSection(dir, errors),
    '## Whole runs', '', ...HEAD, ...[...folders].map(([f, t]) => row(f, t)), '',
    '## Survivors', '', ...(survivors.length ? survivors : ['none']), '',
    '## Equivalent mutants (no test can tell them apart)', '', ...(equivalents.length ? equivalents : ['none']), ''];
  writeFileSync(to, lines.join('\n'));
}
