// Options the commands that touch the kernel share, and how they fail:
// exit status 1 with one line naming what and why (libbpf's full log after
// it with --verbose).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_PIN_ROOT } from '../bpf/bpffs.ts';
import { SIZE_FLAGS, type SizeFlag, type Sizes } from '../bpf/sizes.ts';
import { UsageError, type Io } from './io.ts';

export const PIN_ROOT_USAGE = `  --pin-root DIR   where the maps are pinned (default ${DEFAULT_PIN_ROOT})`;
export const NETNS_USAGE = `  --netns NS       act in this network namespace (a name from \`ip netns\`, or a
                   path such as /proc/PID/ns/net); the pins stay the host's`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with usage errors as UsageError; returns undefined for --help. */
export function parse(args: readonly string[], options: Options): { values: { [k: string]: string | boolean | undefined }; positionals: string[] } | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  if (parsed.values.help) return undefined;
  for (const [k, v] of Object.entries(parsed.values) as [string, unknown][]) if (v === '') throw new UsageError(`--${k} needs a value`);
  return parsed as ReturnType<typeof parse>;
}

export const SIZE_OPTIONS: Options = Object.fromEntries(Object.keys(SIZE_FLAGS).map((f) => [f, { type: 'string' }]));

/** --svc-max and friends: positive integers. */
export function sizesOf(values: { [k: string]: unknown }): Sizes {
  const out: { [flag: string]: number } = {};
  for (const flag of Object.keys(SIZE_FLAGS) as SizeFlag[]) {
    const v = values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!/^\d+$/.test(String(v)) || n < 1 || n > 0xffffffff) throw new UsageError(`--${flag} must be a positive integer, not "${v}"`);
    out[flag] = n;
  }
  return out;
}

export const listOf = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined);

/**
 * Prints the error's one line; with --verbose also what caused it, and the
 * log (libbpf's) that one of them carries. Returns exit status 1.
 */
export function failed(command: string, e: unknown, io: Io, verbose: boolean): number {
  io.err(`sluice ${command}: ${(e as Error).message ?? String(e)}\n`);
  if (!verbose) return 1;
  let log = '';
  for (let c = (e as Error).cause as { message?: string; log?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c) {
    if (c.message) io.err(`  caused by: ${c.message}\n`);
  }
  for (let c = e as { log?: string; cause?: unknown } | undefined; c && !log; c = c.cause as typeof c) log = c.log ?? '';
  if (log) io.err(`${log}\n`);
  return 1;
}
