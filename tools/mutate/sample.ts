// A seeded sample of the mutants of each unit, for when a whole run does not
// fit (compiler/ alone has about 4,600 mutants, each a rebuild of
// compiler.wasm). The sampling unit is the site: one node and one mutator,
// the key the summary already uses, holding one to three mutants. Stryker is
// given each sampled site's node as a mutation range, so it makes only
// those; a range also takes the mutants of nodes nested inside it, which
// runMutant.ts passes without running a test and the summary leaves out.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutantsOf } from './spliceMutant.ts';
import { mutantKey } from './summary.ts';

/** A mutation range as Stryker keeps one: lines from 0, columns as Babel's. */
export interface Range { start: { line: number; column: number }; end: { line: number; column: number } }

export interface Sample {
  seed: string;
  perUnit: number;
  units: { [unit: string]: { mutants: number; sites: number; keys: string[] } };
  ranges: { [file: string]: Range[] };
}

export const SAMPLE_FILE = 'sample.json';
/** The sampled sites whose mutants ran their tests, a key a line (runMutant.ts appends): a mutant outside an
 * earlier, smaller sample passed untested, and its "Survived" in the incremental file means nothing once a
 * bigger sample takes it in. */
export const TESTED_FILE = 'sample-tested.txt';

/** The .ts files a unit mutates: a folder's (compiler/abi is generated), or the files it lists. */
export function unitFiles(stage: string, unit: string): string[] {
  if (unit.endsWith('.ts')) return unit.split(',');
  return readdirSync(join(stage, unit), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts')).map((f) => `${unit}/${f}`)
    .filter((f) => !f.startsWith('compiler/abi/')).sort();
}

const rank = (seed: string, key: string) => createHash('sha256').update(`${seed}\0${key}`).digest('hex');

/** perUnit sites of each unit, drawn by the order of a seeded hash of their keys. */
export async function drawSample(stage: string, units: readonly string[], perUnit: number, seed: string): Promise<Sample> {
  const sample: Sample = { seed, perUnit, units: {}, ranges: {} };
  for (const unit of units) {
    const sites = new Map<string, { file: string; range: Range }>();
    let mutants = 0;
    for (const file of unitFiles(stage, unit)) {
      for (const m of (await mutantsOf(file, readFileSync(join(stage, file), 'utf8'))).mutants) {
        const loc = m.original.loc!;
        mutants++;
        sites.set(mutantKey(file, loc.start.line, loc.start.column, m.mutatorName), {
          file,
          range: { start: { line: loc.start.line - 1, column: loc.start.column }, end: { line: loc.end.line - 1, column: loc.end.column } },
        });
      }
    }
    const keys = [...sites.keys()].sort((a, b) => rank(seed, a).localeCompare(rank(seed, b))).slice(0, perUnit).sort();
    sample.units[unit] = { mutants, sites: sites.size, keys };
    for (const k of keys) {
      const { file, range } = sites.get(k)!;
      (sample.ranges[file] ??= []).push(range);
    }
  }
  return sample;
}

/** Stryker's mutate patterns for the sample: one range per site, 1-based lines as its option wants them. */
export function samplePatterns(sample: Sample): string[] {
  return Object.entries(sample.ranges).flatMap(([file, ranges]) =>
    ranges.map((r) => `${file}:${r.start.line + 1}:${r.start.column}-${r.end.line + 1}:${r.end.column}`));
}

export const inSample = (sample: Sample, key: string) => Object.values(sample.units).some((u) => u.keys.includes(key));

export function readSample(dir: string): Sample | undefined {
  const f = join(dir, SAMPLE_FILE);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) as Sample : undefined;
}
