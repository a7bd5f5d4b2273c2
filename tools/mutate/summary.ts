// The mutation report in words: per folder and file, the mutants killed (a
// test failed or timed out), those that did not build (AssemblyScript only;
// left out of the score, as Stryker leaves out compile errors), the
// survivors, and which survivors are equivalent mutants (equivalent.ts),
// with the score with and without those.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EQUIVALENT } from './equivalent.ts';
import { FOLDERS } from './tests.ts';

interface Position { line: number; column: number }
interface ReportMutant { mutatorName: string; replacement?: string; status: string; location: { start: Position; end: Position } }
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

/** Every mutated file's latest result, from the reports of all runs (a folder's, or one file's). */
function latestFiles(dir: string): Map<string, { source: string; mutants: ReportMutant[]; time: number }> {
  const files = new Map<string, { source: string; mutants: ReportMutant[]; time: number }>();
  const reports = join(dir, 'reports');
  if (!existsSync(reports)) return files;
  for (const r of readdirSync(reports).filter((f) => f.endsWith('.json'))) {
    const time = statSync(join(reports, r)).mtimeMs;
    const report = JSON.parse(readFileSync(join(reports, r), 'utf8')) as Report;
    for (const [path, f] of Object.entries(report.files)) {
      if ((files.get(path)?.time ?? -1) < time) files.set(path, { ...f, time });
    }
  }
  return files;
}

export function writeSummary(dir: string, to: string, skipped: readonly string[] = []): void {
  const lines: string[] = ['# Mutation testing', '', 'Written by `npm run mutate` (tools/mutate.ts); StrykerJS with the command runner,',
    'against the non-kernel tests. Score: killed or timed out over all mutants that built, known equivalents left out;',
    '"raw" counts them as survivors.', ...(skipped.length ? ['', `Left out of the last run (failing on the tree then): ${skipped.join(', ')}.`] : []), '',
    '| folder | mutants | killed | timeout | survived | no coverage | did not build | equivalent | score | raw |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  const survivors: string[] = [], equivalents: string[] = [];
  // JSON lines [key, asc's error], kept across runs: an incremental run reuses a result without a build.
  const errorsFile = join(dir, 'compile-errors.txt');
  const errors: { [key: string]: string } = existsSync(errorsFile)
    ? Object.fromEntries(readFileSync(errorsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))) : {};
  const files = latestFiles(dir);
  for (const folder of Object.keys(FOLDERS)) {
    const total = empty();
    let any = false;
    for (const [path, f] of [...files].filter(([p]) => p.startsWith(`${folder}/`)).sort(([a], [b]) => a.localeCompare(b))) {
      any = true;
      const src = f.source.split('\n');
      for (const m of f.mutants) {
        const t = empty();
        const key = mutantKey(path, m.location.start.line, m.location.start.column - 1, m.mutatorName);
        const where = `${path}:${m.location.start.line}`;
        const original = src[m.location.start.line - 1]?.trim() ?? '';
        if (m.status === 'Killed' && key in errors) t.compileErrors++;
        else if (m.status === 'Killed') t.killed++;
        else if (m.status === 'Timeout') t.timeout++;
        else if (m.status === 'Survived' || m.status === 'NoCoverage') {
          const eq = EQUIVALENT.find((e) => e.file === path && original.includes(e.line) && e.mutator === m.mutatorName &&
            (e.replacement === undefined || e.replacement === m.replacement));
          if (eq) {
            t.equivalent++;
            equivalents.push(`- \`${where}\` ${m.mutatorName} \`${original}\` → \`${m.replacement}\`: ${eq.why}`);
          } else {
            if (m.status === 'Survived') t.survived++;
            else t.noCoverage++;
            survivors.push(`- \`${where}\` ${m.mutatorName} \`${original}\` → \`${m.replacement}\``);
          }
        } else t.other++;
        add(total, t);
      }
    }
    if (!any) continue;
    const n = Object.values(total).reduce((a, b) => a + b, 0);
    lines.push(`| ${folder} | ${n} | ${total.killed} | ${total.timeout} | ${total.survived} | ${total.noCoverage} | ${total.compileErrors} | ` +
      `${total.equivalent} | ${pct(score(total))} | ${pct(rawScore(total))} |`);
  }
  lines.push('', '## Survivors', '', ...(survivors.length ? survivors : ['none']), '',
    '## Equivalent mutants (no test can tell them apart)', '', ...(equivalents.length ? equivalents : ['none']), '');
  writeFileSync(to, lines.join('\n'));
}
