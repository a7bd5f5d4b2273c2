// sluice run: the node agent (the DaemonSet's command). Parses the flags,
// loads the agent (and with it client-node) only now, and turns SIGTERM and
// SIGINT into a clean stop: exit 0 with the maps pinned and the programs
// attached, so the node forwards while the agent is away.
import { setFlagsFromString } from 'node:v8';
import { parseDuration } from '../agent/duration.ts';
import { jsonLogger } from '../agent/logger.ts';
import { parseListen, type ListenAddress } from '../agent/statusServer.ts';
import { DATAPATH_OPTIONS, DATAPATH_USAGE, datapathArgsOf, type DatapathArgs } from './apply.ts';
import { parse } from './bpfArgs.ts';
import { UsageError, type Io } from './io.ts';

export const DEFAULT_LISTEN = '0.0.0.0:10256';
/** After SIGTERM, the longest the agent takes to stop before it exits anyway (the DaemonSet grants 30 s). */
const STOP_DEADLINE_MS = 10_000;

export const RUN_USAGE = `usage: sluice run --node NAME [options]

The node agent: watches the API server (Services, EndpointSlices, Pods,
Namespaces, NetworkPolicies, Nodes), compiles the cluster for NAME and keeps
this node's pinned maps up to date, applying only the differences. The first
batch waits for the full listing; it adopts the maps an earlier agent (or
\`sluice apply\`) left, writing only the entries that differ. Logs are JSON
lines on stderr. SIGTERM or SIGINT stops it and leaves the maps pinned and
the programs attached. Run as root (without --dry-run).

  --node NAME            the node to program (required)
  --kubeconfig FILE      the API server (default: the in-cluster config)
  --min-sync DURATION    at most one batch per DURATION (default 1s; as
                         kube-proxy's --min-sync-period: 200ms, 1s, 1m30s)
  --listen HOST:PORT     /healthz, /readyz and /metrics (default ${DEFAULT_LISTEN});
                         the healthCheckNodePorts listen on HOST too
  --record DIR           record every event and batch into DIR, for
                         \`sluice replay\`
  --dry-run              keep the maps in memory: nothing is loaded, attached
                         or written in the kernel; compiles and records as usual
${DATAPATH_USAGE}  -h, --help             print this text

Exit status: 0 stopped by a signal, 1 failed (the last log line says why;
maps and programs stay), 2 usage error.
`;

export interface RunArgs {
  node: string;
  kubeconfig: string | undefined;
  minSyncMs: number;
  listen: ListenAddress;
  record: string | undefined;
  dryRun: boolean;
  datapath: DatapathArgs;
}

/** Returns undefined for --help. */
export function parseRunArgs(args: readonly string[]): RunArgs | undefined {
  const p = parse(args, {
    node: { type: 'string' }, kubeconfig: { type: 'string' }, 'min-sync': { type: 'string' }, listen: { type: 'string' },
    record: { type: 'string' }, 'dry-run': { type: 'boolean' }, ...DATAPATH_OPTIONS,
  });
  if (!p) return undefined;
  const v = p.values;
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
  if (v.node === undefined) throw new UsageError('--node is required: the node whose datapath this is (the DaemonSet passes $(NODE_NAME))');
  const usage = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const minSyncMs = usage(() => parseDuration((v['min-sync'] as string | undefined) ?? '1s'));
  return {
    node: v.node as string, kubeconfig: v.kubeconfig as string | undefined, minSyncMs,
    listen: usage(() => parseListen((v.listen as string | undefined) ?? DEFAULT_LISTEN)),
    record: v.record as string | undefined, dryRun: v['dry-run'] === true, datapath: datapathArgsOf(v),
  };
}

export function runCommand(args: readonly string[], io: Io): number {
  const a = parseRunArgs(args);
  if (!a) {
    io.out(RUN_USAGE);
    return 0;
  }
  void runAgent(a, io);
  return 0; // the exit status comes when the agent stops
}

async function runAgent(a: RunArgs, io: Io): Promise<void> {
  // No memory-reducer collections. V8 schedules them for a heap that went
  // quiet (an idle browser tab), and for an agent woken by one change a
  // second they came in the middle of the changes: a full collection of the
  // cluster's objects each time, 3-4 ms of CPU a change against 1.8 at 5,000
  // Services. The flag is read when the reducer runs, so setting it now works;
  // collections that allocation asks for still run.
  setFlagsFromString('--memory-reducer-gc-count=0');
  const log = jsonLogger((line) => io.err(line));
  let stop: ((reason: string) => void) | undefined;
  let requested: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested !== undefined) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    requested = `signal ${signal}`;
    setTimeout(() => {
      log.error('shutdown took too long: exiting', { deadlineMs: STOP_DEADLINE_MS });
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    stop?.(requested);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const { startAgent } = await import('../agent/agent.ts');
    const agent = await startAgent({ ...a, log });
    stop = (reason) => void agent.stop(reason);
    if (requested !== undefined) stop(requested);
    process.exit(await agent.done); // client-node may keep idle sockets: do not wait for them
  } catch (e) {
    log.error('fatal', { reason: (e as Error).message.split('\n')[0] });
    process.exit(1);
  }
}
