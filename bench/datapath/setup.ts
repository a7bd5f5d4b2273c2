// What the datapath benchmarks need before a run: root, the Debian packages
// (installed by deps.sh when a command is missing), the datapath object and
// the compiler (sluice lanes), the C tools built into build/bench; and the
// machine's description for the report.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;

export const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

export function sh(cmd: string, args: readonly string[], cwd = ROOT): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Installs (deps.sh) what provides the commands that are missing. */
export function ensureCommands(commands: readonly string[]): void {
  const missing = commands.filter((c) => !has(c));
  if (missing.length === 0) return;
  log(`installing what provides ${missing.join(', ')}`);
  sh('bash', [join(ROOT, 'bench/datapath/deps.sh')]);
}

/** The tree's datapath object (built incrementally: the object measured is the tree's); the compiler must be built. */
export function buildSluice(): void {
  if (!existsSync(join(ROOT, 'build/compiler.release.wasm'))) throw new Error('build/compiler.release.wasm is missing: run `npm run build`');
  sh('make', ['-s', '-C', 'bpf']);
}

/** Builds bench/datapath/<name>.c into build/bench/<name> for each name; returns name -> binary. */
export function buildTools<N extends string>(names: readonly N[]): { [n in N]: string } {
  const dir = join(ROOT, 'build/bench');
  mkdirSync(dir, { recursive: true });
  const cc = ['cc', 'gcc', 'clang'].find(has);
  if (!cc) throw new Error('no C compiler (cc, gcc or clang) for the benchmark tools');
  const out = {} as { [n in N]: string };
  for (const name of names) {
    out[name] = join(dir, name);
    sh(cc, ['-O2', '-Wall', '-o', out[name], join(ROOT, `bench/datapath/${name}.c`)]);
  }
  return out;
}

export function machine(): string {
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  return `${cpus().length} vCPU ${cpus()[0]?.model.trim() ?? '?'}, kernel ${kernel}`;
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`the ${what} benchmark needs root (network namespaces, tc, bpffs)`);
}
