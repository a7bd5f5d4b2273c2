// The tests a mutant is run against: the non-kernel ones (no BPF, no
// network namespaces) that can reach the mutated file, by the import graph
// (a .ts path in a string counts too: the CLI tests spawn runtime/cli/main.ts;
// a compiler mutant is reached through runtime/wasm/host.ts, which loads
// compiler.wasm). The folder's own tests go first, so that most mutants die
// in the first file and the rest of the list never runs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

export const FOLDERS = {
  // the quick examples first, then the properties
  compiler: ['compiler/kubeproxy.test.ts', 'compiler/maps.test.ts', 'compiler/ids.test.ts', 'compiler/kubeproxy.prop.ts', 'compiler/', 'netpol/'],
  'runtime/encode': ['encode/normalize', 'encode/', 'compiler/kubeproxy.test.ts'],
  'runtime/maps': ['maps/', 'view/'],
  'runtime/log': ['log/', 'cli/replayVerify.test.ts', 'cli/replay.test.ts'],
  'runtime/streams': ['streams/'],
} as const satisfies { [folder: string]: readonly string[] };
export type Folder = keyof typeof FOLDERS;

/** Tests run before the folder's own list for mutants in a part of it: the policy compiler's tests would
 * otherwise come after every compiler/ property, about 3 minutes per mutant they kill. */
const SOONEST: { [prefix: string]: readonly string[] } = { 'compiler/policy/': ['netpol/'] };

/** Every non-kernel test file, relative to property-tests/. */
export const NON_KERNEL: readonly string[] = [
  'compiler/', 'netpol/', 'encode/', 'maps/', 'log/', 'streams/', 'view/', 'sources/',
  'cli/compile.test.ts', 'cli/explain.test.ts', 'cli/replay.test.ts', 'cli/replayVerify.test.ts',
  'agent/agent.test.ts', 'agent/duration.test.ts', 'agent/health.test.ts', 'agent/healthCheckTargets.test.ts',
  'agent/prometheus.test.ts', 'agent/replay.prop.ts',
];

const isTest = (f: string) => /\.(test|prop)\.ts$/.test(f);

/** The .ts files (relative to root) that file reaches through its imports and .ts paths, itself included. */
function reach(root: string, file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(root, file), 'utf8');
  for (const m of text.matchAll(/['"](\.{1,2}\/[^'"\n]+\.ts)['"]/g)) {
    const target = normalize(join(dirname(file), m[1]));
    if (existsSync(join(root, target))) reach(root, target, seen);
  }
  return seen;
}

/** The test files to run for a mutant in `mutated` (every non-kernel one for the dry run), in order. */
export function testOrder(root: string, all: readonly string[], mutated: string | undefined): string[] {
  const matches = (prefix: string) => (f: string) => f.startsWith(prefix);
  const nonKernel = all.filter((f) => isTest(f) && NON_KERNEL.some((p) => matches(p)(f))).sort();
  if (mutated === undefined) return nonKernel;
  const target = mutated.startsWith('compiler/') ? 'runtime/wasm/host.ts' : mutated;
  const reaching = nonKernel.filter((f) => reach(root, relative(root, join(root, 'property-tests', f))).has(target));
  const folder = (Object.keys(FOLDERS) as Folder[]).find((d) => mutated.startsWith(`${d}/`));
  const soonest = Object.entries(SOONEST).filter(([prefix]) => mutated.startsWith(prefix)).flatMap(([, tests]) => tests);
  const first = [...soonest, ...(folder ? FOLDERS[folder] : [])].flatMap((p) => reaching.filter(matches(p)));
  return [...new Set([...first, ...reaching])];
}
