// `testbed exec`: a command inside one of the testbed's namespaces, through
// nsenter for all of them, so bpffs (and `sluice maps`) works on nodes too.
import { constants } from 'node:os';
import { nsenterUser, tryRun } from '../exec/command.ts';
import type { TestbedState } from './state.ts';

export const TARGET_FORMS = 'NAMESPACE/POD, pod/NAMESPACE/POD, node/NAME, external or underlay';

/** The netns a target names; throws saying what the testbed has when there is no such thing. */
export function targetNetns(state: TestbedState, target: string): string {
  if (target === 'external') return state.external.netns;
  if (target === 'underlay') return state.underlay.netns;
  if (target.startsWith('node/')) {
    const node = state.nodes.find((n) => n.name === target.slice('node/'.length));
    if (node) return node.netns;
    throw new Error(`no node ${target.slice(5)} in testbed ${state.prefix}; nodes: ${state.nodes.map((n) => n.name).join(', ')}`);
  }
  const key = target.startsWith('pod/') ? target.slice('pod/'.length) : target;
  const pod = state.pods.find((p) => p.key === key);
  if (pod) return pod.netns;
  throw new Error(`no ${key.includes('/') ? `pod ${key}` : `target "${target}"`} in testbed ${state.prefix} (targets: ${TARGET_FORMS})`);
}

/** Runs argv in target's namespace; returns its exit status (128+N when killed by signal N). */
export function execIn(state: TestbedState, target: string, argv: readonly string[]): number {
  const r = tryRun(nsenterUser(targetNetns(state, target), argv), { output: 'inherit', timeoutMs: Infinity });
  if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`, { cause: r.error });
  return r.status ?? 128 + (r.signal ? constants.signals[r.signal] : 0);
}
