// What the datapath benchmarks need before a run: root, the Debian packages
// (installed by deps.sh when a program is missing), the datapath object and
// the compiler (sluice lanes), the C tools built into build/bench; and the
// machine's description for the report.
import { mkdirSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { has, run, type Argv } from '../../runtime/exec/command.ts';
import type { Program } from '../../runtime/exec/programs.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** A program the benchmark built (build/bench/NAME). */
export type Tool = `/${string}`;

export const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const sh = (argv: Argv) => run(argv, { cwd: ROOT, output: 'inherit', timeoutMs: 600_000 });

/** Installs (deps.sh) what provides the programs that are missing. */
export function ensureCommands(programs: readonly Program[]): void {
  const missing = programs.filter((c) => !has(c));
  if (missing.length === 0) return;
  log(`installing what provides ${missing.join(', ')}`);
  sh(['bash', join(ROOT, 'bench/datapath/deps.sh')]);
}

/** The tree's datapath object (built incrementally: the object measured is the tree's); the compiler must be built. */
export function buildSluice(): void {
  if (!existsSync(join(ROOT, 'build/compiler.release.wasm'))) throw new Error('build/compiler.release.wasm is missing: run `npm run build`');
  sh(['make', '-s', '-C', 'bpf']);
}

/** Builds bench/datapath/<name>.c into build/bench/<name> for each name (with clang, which the build installs); returns name -> binary. */
export function buildTools<N extends string>(names: readonly N[]): { [n in N]: Tool } {
  const dir = join(ROOT, 'build/bench');
  mkdirSync(dir, { recursive: true });
  const out = {} as { [n in N]: Tool };
  for (const name of names) {
    out[name] = join(dir, name) as Tool;
    sh(['clang', '-O2', '-Wall', '-o', out[name], join(ROOT, `bench/datapath/${name}.c`)]);
  }
  return out;
}

export function machine(): string {
  return `${cpus().length} vCPU ${cpus()[0]?.model.trim() ?? '?'}, kernel ${run(['uname', '-r']).trim()}`;
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`the ${what} benchmark needs root (network namespaces, tc, bpffs)`);
}
