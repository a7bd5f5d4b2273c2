// `npm run bench [-- NAME... [--flag value...]]`: runs the named benchmarks (default: those that need
// neither root nor long); flags after the names go to each. `--help` lists them with their flags.
import { benchAgentChurn, CHURN_USAGE } from './agentChurn.ts';
import { benchCompiler } from './compiler.ts';
import { benchDatapath } from './datapath.ts';
import { DATAPATH_USAGE } from './datapath/options.ts';
import { benchEventLog } from './eventLog.ts';
import { benchNodePort, NODEPORT_USAGE } from './nodeport.ts';
import { benchNodes, NODES_USAGE } from './nodes.ts';
import { benchPod2pod, POD2POD_USAGE } from './pod2pod.ts';
import { benchPolicy } from './policy.ts';
import { benchPolicyDatapath, POLICY_DATAPATH_USAGE } from './policyDatapath.ts';
import { benchServiceSize, SIZE_USAGE } from './serviceSize.ts';

interface Bench {
  run: (args: string[]) => void | Promise<void>;
  about: string;
  /** Its flags (and NAME --help prints them); none when it takes none. */
  usage?: string;
  /** Root and testbeds, or a quarter of an hour: only when named. */
  onlyWhenNamed?: boolean;
}

const BENCHES: Record<string, Bench> = {
  compiler: { run: () => benchCompiler(), about: 'full compile against one Service\'s churn, at 5,000 and 10,000 Services' },
  size: { run: (a) => benchServiceSize(a), about: 'compile time against one Service\'s size; /healthz while it compiles', usage: SIZE_USAGE },
  log: { run: () => benchEventLog(), about: 'what recording the event log costs per event, and reading and replaying it' },
  policy: { run: () => benchPolicy(), about: 'NetworkPolicy compile of 10,000 pods and 1,000 policies, full and per change' },
  churn: { run: (a) => benchAgentChurn(a), about: 'the agent on issue 12\'s cluster: CPU to ready, RSS, CPU per change, beside kube-proxy\'s restore', usage: CHURN_USAGE },
  nodes: { run: (a) => benchNodes(a), about: 'what N agents watching every Pod cost the API server, per Pod change (minutes, gigabytes)', usage: NODES_USAGE, onlyWhenNamed: true },
  datapath: { run: (a) => benchDatapath(a), about: 'connect latency and throughput through a ClusterIP (root, ~15 min)', usage: DATAPATH_USAGE, onlyWhenNamed: true },
  pod2pod: { run: (a) => benchPod2pod(a), about: 'pod to pod throughput and CPU per Gbit across two nodes (root, ~10 min)', usage: POD2POD_USAGE, onlyWhenNamed: true },
  nodeport: { run: (a) => benchNodePort(a), about: 'NodePort connect and total time from an external client, DSR (root, ~3 min)', usage: NODEPORT_USAGE, onlyWhenNamed: true },
  'policy-datapath': { run: (a) => benchPolicyDatapath(a), about: 'NetworkPolicy in the datapath: connect, one stream, the check, API to enforced (root, ~10 min)', usage: POLICY_DATAPATH_USAGE, onlyWhenNamed: true },
};

const USAGE = `usage: npm run bench -- [NAME...] [flags]

Runs the named benchmarks, each beside its baseline in the same run; without
names, those not marked (only when named). Flags after the names go to each.
Results: bench/README.md.

${Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(15)} ${b.about}${b.onlyWhenNamed ? ' (only when named)' : ''}`).join('\n')}

${Object.values(BENCHES).flatMap((b) => (b.usage ? [b.usage] : [])).join('\n')}`;

const argv = process.argv.slice(2);
const first = argv.findIndex((a) => a.startsWith('-'));
const names = first < 0 ? argv : argv.slice(0, first), flags = first < 0 ? [] : argv.slice(first);
if (names.length === 0 && flags.some((f) => f === '--help' || f === '-h')) {
  console.log(USAGE);
  process.exit(0);
}
for (const name of names) {
  if (!BENCHES[name]) {
    console.error(`unknown benchmark ${name}; have: ${Object.keys(BENCHES).join(', ')} (npm run bench -- --help)`);
    process.exit(2);
  }
}
for (const name of names.length ? names : Object.keys(BENCHES).filter((n) => !BENCHES[n].onlyWhenNamed)) {
  const b = BENCHES[name];
  if (!b.usage && flags.length > 0) {
    console.error(`bench ${name} takes no flags (npm run bench -- --help)`);
    process.exit(2);
  }
  console.log(`# ${name}`);
  await b.run(flags);
}
