// Seeds for every property. Each check runs at the fixed seed (42, or
// SEED=n), so CI is reproducible; then at the seed of this test run
// (SEED_MOVING, which tools/test.ts draws afresh per run and prints, with the
// command that replays it; 0 or unset: none), so that CI keeps exploring;
// then at every seed that once failed for this file (regressions.json).
// A moving seed that fails is added to regressions.json, to be committed.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SEED = Number(process.env.SEED ?? 42);
const MOVING = Number(process.env.SEED_MOVING ?? 0) || undefined;

const here = fileURLToPath(new URL('.', import.meta.url));
const REGRESSIONS = fileURLToPath(new URL('regressions.json', import.meta.url));
interface Regression { file: string; seed: number; found: string }

function regressions(): Regression[] {
  return JSON.parse(readFileSync(REGRESSIONS, 'utf8')) as Regression[];
}

/** The test file (relative to property-tests/) that called check(), from the stack. */
function callerFile(): string {
  const frames = (new Error().stack ?? '').split('\n').map((l) => /(file:\/\/\/[^:]+):\d+:\d+/.exec(l)?.[1]).filter((f) => f !== undefined);
  const file = frames.map((f) => fileURLToPath(f)).find((f) => !f.endsWith('/seed.ts') && /\.(test|prop)\.ts$/.test(f));
  return file ? relative(here, file) : 'unknown';
}

function remember(file: string, seed: number): void {
  const list = regressions();
  if (list.some((r) => r.file === file && r.seed === seed)) return;
  list.push({ file, seed, found: new Date().toISOString().slice(0, 10) });
  writeFileSync(REGRESSIONS, `${JSON.stringify(list, null, 2)}\n`);
  console.log(`# seed ${seed} added to property-tests/regressions.json for ${file}: commit it`);
}

/** The seeds this file's properties run at, each with how it came. */
export function seedsFor(file: string): { seed: number; why: string }[] {
  const seeds = [{ seed: SEED, why: 'fixed' }];
  if (MOVING !== undefined && MOVING !== SEED) seeds.push({ seed: MOVING, why: 'moving' });
  for (const r of regressions().filter((x) => x.file === file)) {
    if (!seeds.some((s) => s.seed === r.seed)) seeds.push({ seed: r.seed, why: `regression since ${r.found}` });
  }
  return seeds;
}

/** Why a property failed, with the assertion's own diff (uvu keeps it in details). */
function report(e: unknown, seed: number, why: string, file: string): Error {
  const cause = (e as Error).cause as { details?: string } | undefined;
  return new Error(`property failed with the ${why} seed ${seed}: replay with SEED=${seed} node tools/test.ts ${file}\n` +
    `${(e as Error).message}${cause?.details ? `\n${cause.details}` : ''}`, { cause: e });
}

/** fc.assert at each seed of seedsFor(the calling file); an async property returns its promise. */
export function check<Ts extends unknown[]>(property: fc.IAsyncProperty<Ts>, params?: fc.Parameters<Ts>): Promise<void>;
export function check(property: fc.IRawProperty<unknown[]>, params?: fc.Parameters<unknown[]>): void;
export function check(property: fc.IRawProperty<unknown[]>, params: fc.Parameters<unknown[]> = {}): void | Promise<void> {
  const file = callerFile();
  const seeds = seedsFor(file);
  const failed = (e: unknown, seed: number, why: string): never => {
    if (why === 'moving') remember(file, seed);
    throw report(e, seed, why, file);
  };
  const run = (i: number): void | Promise<void> => {
    if (i === seeds.length) return;
    const { seed, why } = seeds[i];
    let done: void | Promise<void> = undefined;
    try {
      done = fc.assert(property, { seed, includeErrorInReport: true, ...params }) as void | Promise<void>;
    } catch (e) {
      failed(e, seed, why);
    }
    if (done instanceof Promise) return done.then(() => run(i + 1), (e) => failed(e, seed, why));
    return run(i + 1);
  };
  return run(0);
}
