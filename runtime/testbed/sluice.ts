// The testbed's one contact with the agent: `sluice apply` and `sluice detach`
// run as separate processes inside a node's namespace (nsenter, so the pins
// under /sys/fs/bpf stay visible), with that node's own pin root.
import { nsenter, tryRun } from '../exec/command.ts';
import type { NodeSpec } from './topology.ts';

const MAIN = new URL('../cli/main.ts', import.meta.url).pathname;

function sluice(node: NodeSpec, args: readonly string[]): { status: number | null; out: string } {
  const r = tryRun(nsenter(node.netns, ['node', MAIN, ...args]), { timeoutMs: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}${r.error ? r.error.message : ''}`.trim() };
}

/** Programs node from the snapshot files (extra: more apply flags); returns what apply printed. Throws with its output on failure. */
export function applySluice(node: NodeSpec, files: readonly string[], extra: readonly string[] = []): string {
  const r = sluice(node, ['apply', ...files, '--node', node.name, '--pin-root', node.pinRoot, ...extra]);
  if (r.status !== 0) throw new Error(`sluice apply on node ${node.name} (exit ${r.status}):\n${r.out}`);
  return r.out;
}

/** Detaches sluice on node and removes its pins; returns a warning, or undefined when it went well. */
export function detachSluice(node: NodeSpec): string | undefined {
  const r = sluice(node, ['detach', '--pins', '--pin-root', node.pinRoot]);
  return r.status === 0 ? undefined : `sluice detach on node ${node.name} (exit ${r.status}): ${r.out.split('\n')[0]}`;
}
