// `npm run bench [-- NAME... [--flag value...]]`: runs the named benchmarks (default: all);
// flags after the names go to each (churn, nodes, datapath, pod2pod, nodeport take some; the last four run only when named).
import { benchAgentChurn } from './agentChurn.ts';
import { benchCompiler } from './compiler.ts';
import { benchDatapath } from './datapath.ts';
import { benchEventLog } from './eventLog.ts';
import { benchNodePort } from './nodeport.ts';
import { benchNodes } from './nodes.ts';
import { benchPod2pod } from './pod2pod.ts';
import { benchPolicy } from './policy.ts';
import { benchServiceSize } from './serviceSize.ts';

const benches: Record<string, (args: string[]) => void | Promise<void>> = {
  compiler: () => benchCompiler(),
  size: (args) => benchServiceSize(args),
  log: () => benchEventLog(),
  policy: () => benchPolicy(),
  churn: (args) => benchAgentChurn(args),
  nodes: (args) => benchNodes(args), // N agents: minutes, gigabytes: only when named
  datapath: (args) => benchDatapath(args), // root, network namespaces, ~15 min: only when named
  pod2pod: (args) => benchPod2pod(args), // root, testbeds: only when named
  nodeport: (args) => benchNodePort(args), // root, testbeds: only when named
};
const ONLY_WHEN_NAMED = ['datapath', 'pod2pod', 'nodeport', 'nodes'];
const byDefault = Object.keys(benches).filter((name) => !ONLY_WHEN_NAMED.includes(name));
const argv = process.argv.slice(2);
const first = argv.findIndex((a) => a.startsWith('-'));
const names = first < 0 ? argv : argv.slice(0, first), flags = first < 0 ? [] : argv.slice(first);
for (const name of names.length ? names : byDefault) {
  const b = benches[name];
  if (!b) {
    console.error(`unknown benchmark ${name}; have: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`# ${name}`);
  await b(flags);
}
