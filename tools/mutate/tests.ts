// The tests a mutant is run against: the non-kernel ones (no BPF, no
// network namespaces), the mutated folder's own first, so that most mutants
// die in the first file and the rest of the list never runs.
export const FOLDERS = {
  compiler: ['compiler/', 'view/', 'cli/compile.test.ts', 'cli/replay.test.ts', 'agent/replay.prop.ts'],
  'runtime/encode': ['encode/', 'compiler/kubeproxy', 'compiler/model', 'sources/snapshot.test.ts', 'streams/normalizeEvents.test.ts'],
  'runtime/maps': ['maps/', 'view/', 'compiler/incremental.prop.ts', 'compiler/maps.test.ts'],
  'runtime/log': ['log/', 'cli/replay.test.ts', 'agent/replay.prop.ts', 'agent/recordBatches.test.ts'],
  'runtime/streams': ['streams/', 'sources/', 'agent/agent.test.ts'],
} as const satisfies { [folder: string]: readonly string[] };
export type Folder = keyof typeof FOLDERS;

/** Every non-kernel test file, relative to property-tests/. */
export const NON_KERNEL: readonly string[] = [
  'compiler/', 'encode/', 'maps/', 'log/', 'streams/', 'view/', 'sources/',
  'cli/compile.test.ts', 'cli/replay.test.ts',
  'agent/agent.test.ts', 'agent/duration.test.ts', 'agent/health.test.ts', 'agent/healthCheckTargets.test.ts',
  'agent/prometheus.test.ts', 'agent/recordBatches.test.ts', 'agent/replay.prop.ts',
];

const isTest = (f: string) => /\.(test|prop)\.ts$/.test(f);

/** The test files to run for a mutant in folder (all of them for the dry run), in order. */
export function testOrder(all: readonly string[], folder: Folder | undefined): string[] {
  const matches = (prefix: string) => (f: string) => f.startsWith(prefix);
  const nonKernel = all.filter((f) => isTest(f) && NON_KERNEL.some((p) => matches(p)(f))).sort();
  const first = folder ? FOLDERS[folder].flatMap((p) => nonKernel.filter(matches(p))) : [];
  return [...new Set([...first, ...nonKernel])];
}
