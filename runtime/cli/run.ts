// sluice run: the node agent (the DaemonSet's command). Parses the flags,
// loads the agent only now, and turns SIGTERM and SIGINT into a clean stop:
// exit 0 with the maps pinned and the programs attached, so the node
// forwards while the agent is away.
import { setFlagsFromString } from 'node:v8';
import { readKey } from './keyFile.ts';
import { parseDuration } from '../agent/duration.ts';
import { jsonLogger } from '../agent/logger.ts';
import { parseListen, type ListenAddress } from '../agent/statusServer.ts';
import { CONTENT_TYPES, type ContentType } from '../sources/protoSchema.ts';
import type { DatapathArgs } from '../dataplane/datapathArgs.ts';
import { DATAPATH_OPTIONS, DATAPATH_USAGE, datapathArgsOf } from './datapathFlags.ts';
import { parse } from './bpfArgs.ts';
import { UsageError, type Io } from './io.ts';

/** kube-proxy's: load balancers and the kubelet probe health from outside the node; metrics stay on it. */
export const DEFAULT_HEALTHZ = '0.0.0.0:10256';
export const DEFAULT_METRICS = '127.0.0.1:10249';
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
  --kube-api-content-type TYPE
                         what lists and watches ask for, as kube-proxy's flag:
                         application/vnd.kubernetes.protobuf (the default; a
                         server without it answers JSON) or application/json
  --min-sync DURATION    one batch per DURATION, in bursts of two (default 1s;
                         as kube-proxy's --min-sync-period: 200ms, 1s, 1m30s)
  --healthz-bind-address HOST:PORT
                         /livez, /healthz and /readyz (default ${DEFAULT_HEALTHZ});
                         the healthCheckNodePorts listen on HOST too
  --metrics-bind-address HOST:PORT
                         /metrics (default ${DEFAULT_METRICS})
  --listen HOST:PORT     the older form: health and /metrics both on HOST:PORT
  --record DIR           record every event and batch into DIR (0700, files
                         0600; only the fields sluice reads), for \`sluice replay\`
  --record-key FILE      sign the recording with the key in FILE (at least 16
                         bytes), so \`sluice replay --verify --key FILE\` can tell
                         it is authentic
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
  /** undefined: /metrics on listen (--listen). */
  metricsListen: ListenAddress | undefined;
  record: string | undefined;
  recordKey: Uint8Array | undefined;
  dryRun: boolean;
  datapath: DatapathArgs;
  source: { contentType: ContentType };
}

/** Returns undefined for --help. */
export function parseRunArgs(args: readonly string[]): RunArgs | undefined {
  const p = parse(args, {
    node: { type: 'string' }, kubeconfig: { type: 'string' }, 'kube-api-content-type': { type: 'string' }, 'min-sync': { type: 'string' }, listen: { type: 'string' },
    'healthz-bind-address': { type: 'string' }, 'metrics-bind-address': { type: 'string' },
    record: { type: 'string' }, 'record-key': { type: 'string' }, 'dry-run': { type: 'boolean' }, ...DATAPATH_OPTIONS,
  });
  if (!p) return undefined;
  const v = p.values;
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
  if (v.node === undefined) throw new UsageError('--node is required: the node whose datapath this is (the DaemonSet passes $(NODE_NAME))');
  const usage = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
  };
  const minSyncMs = usage(() => parseDuration((v['min-sync'] as string | undefined) ?? '1s'));
  const address = (flag: string, dflt: string) => usage(() => parseListen((v[flag] as string | undefined) ?? dflt, `--${flag}`));
  if (v.listen !== undefined && (v['healthz-bind-address'] !== undefined || v['metrics-bind-address'] !== undefined)) {
    throw new UsageError('--listen serves health and metrics on one address: give it, or --healthz-bind-address and --metrics-bind-address, not both');
  }
  if (v['record-key'] !== undefined && v.record === undefined) throw new UsageError('--record-key signs a recording: it needs --record');
  const old = v.listen !== undefined;
  const contentType = (v['kube-api-content-type'] as string | undefined) ?? CONTENT_TYPES[0];
  if (!(CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new UsageError(`--kube-api-content-type: "${contentType}" is not one of ${CONTENT_TYPES.join(', ')}`);
  }
  return {
    node: v.node as string, kubeconfig: v.kubeconfig as string | undefined, minSyncMs,
    listen: old ? address('listen', '') : address('healthz-bind-address', DEFAULT_HEALTHZ),
    metricsListen: old ? undefined : address('metrics-bind-address', DEFAULT_METRICS),
    record: v.record as string | undefined, recordKey: v['record-key'] === undefined ? undefined : readKey(v['record-key'] as string, '--record-key'),
    dryRun: v['dry-run'] === true, datapath: datapathArgsOf(v), source: { contentType: contentType as ContentType },
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

/**
 * What node itself starts with to run the agent (deploy/Dockerfile's
 * ENTRYPOINT, and the benchmarks' agents): V8 sizes its heap as the process
 * starts, and a flag set later (agentV8Flags) no longer moves it.
 * - Old space starts at 64 MiB. It starts at a few MiB and grows by marking
 *   and compacting: a full sync of issue 12's cluster was marked and
 *   compacted twice on the way to ready (at 18 and 43 MiB), some 50 ms of
 *   CPU for a heap that the release right after ready compacts anyway. Four
 *   interleaved starts each: 0.84-0.92 s of CPU to ready without it,
 *   0.80-0.86 s with it.
 */
export const NODE_FLAGS = ['--initial-old-space-size=64'] as const;

/**
 * The V8 flags the agent runs with, set before it loads its modules. V8
 * rejects a module's cached code compiled under other flags, so the image's
 * build sets them too before it fills Node's compile cache (deploy/Dockerfile).
 * - No memory-reducer collections. V8 schedules them for a heap that went
 *   quiet (an idle browser tab), and for an agent woken by one change a
 *   second they came in the middle of the changes: a full collection of the
 *   cluster's objects each time, 3-4 ms of CPU a change against 1.8 at 5,000
 *   Services. Collections that allocation asks for still run.
 * - Efficiency mode, V8's mode for a background tab: the collector works on
 *   the main thread only (no helpers to hand work to and wait for), and
 *   TurboFan compiles only functions called 15,000 times. To ready on issue
 *   12's cluster the agent took 1.31 s of CPU without it and 1.13 s with it
 *   (medians of six), 0.42 s and 0.06 s of it on other threads. A change
 *   costs what it did: 0.96 against 0.99 ms for a Pod, 0.90 against 0.87 for
 *   a Service, 0.96 against 1.03 for a policy (medians of three or four
 *   agents, 40 changes each).
 */
export function agentV8Flags(): void {
  setFlagsFromString('--memory-reducer-gc-count=0');
  setFlagsFromString('--efficiency-mode');
}

async function runAgent(a: RunArgs, io: Io): Promise<void> {
  agentV8Flags();
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
    process.exit(await agent.done); // idle keep-alive sockets may stay open: do not wait for them
  } catch (e) {
    log.error('fatal', { reason: (e as Error).message ?? String(e), cause: (e as Error).cause === undefined ? undefined : String((e as Error).cause) });
    process.exit(1);
  }
}
