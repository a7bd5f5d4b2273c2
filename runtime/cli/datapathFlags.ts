// The datapath flags `apply` and `run` share: where the maps are, which
// interfaces, sizes. A module of their own, so that the agent's start loads
// none of what `apply` runs (the snapshot reader, the compile command, the
// kernel loader).
import { DEFAULT_PIN_ROOT } from '../bpf/bpffs.ts';
import { DEFAULT_OBJECT } from '../bpf/objectFile.ts';
import { DEFAULT_HAIRPIN_IP, type DatapathArgs } from '../dataplane/datapathArgs.ts';
import { parseIp } from '../encode/ip.ts';
import { listOf, NETNS_USAGE, PIN_ROOT_USAGE, SIZE_OPTIONS, sizesOf } from './bpfArgs.ts';
import { UsageError } from './io.ts';

/** Their help text, for each command's usage. */
export const DATAPATH_USAGE = `${PIN_ROOT_USAGE}
${NETNS_USAGE}
  --pod-ifaces A,B       pod programs on exactly these interfaces
  --pod-iface-prefix P   pod programs on every interface named P...
                         (default: where the node routes each local pod's IP)
  --node-ifaces A,B      sl_from_netdev on exactly these interfaces
                         (default: the interfaces holding the Node's addresses)
  --node-ip IP           SNAT source toward other nodes (default: the Node's InternalIP)
  --hairpin-ip IP        source of a pod's flow back to itself (default ${DEFAULT_HAIRPIN_IP})
  --dsr                  backends on other nodes answer external clients directly
  --no-fast-path         hand translated requests and pod-to-pod traffic to the
                         kernel's stack instead of forwarding them past it (for
                         comparison); answers still go past it (default: past it)
  --policy-established revoke|keep
                         a NetworkPolicy change that denies an established flow:
                         revoke (default) cuts it on its next packet (a TCP RST to
                         the local pod); keep leaves it, judging only new flows
                         (Calico's behaviour)
  --no-host-services     leave the node's own processes (host network) untranslated:
                         no cgroup programs (default: translated at connect time)
  --cgroup-root DIR      the root of the cgroup v2 hierarchy to attach them to
                         (default: the cgroup2 mount in /proc/mounts, else one made at
                         /run/sluice/cgroup2); in a container, the host's, bind-mounted
  --svc-max N            max_entries of sl_svc and sl_svcname; likewise --be-max,
                         --maglev-max, --srcrange-max, --ct-max, --affinity-max
                         (default: as pinned, else as the object says)
  --replace-maps         move aside pinned maps that do not fit this build (another
                         version, or a new size) and start them afresh; a
                         replaced sl_ct forgets tracked connections
  --object FILE          the datapath object (default ${DEFAULT_OBJECT})
  --verbose              print libbpf's log after a load error
`;

export const DATAPATH_OPTIONS = {
  'pin-root': { type: 'string' }, netns: { type: 'string' }, object: { type: 'string' },
  'pod-ifaces': { type: 'string' }, 'pod-iface-prefix': { type: 'string' }, 'node-ifaces': { type: 'string' },
  'node-ip': { type: 'string' }, 'hairpin-ip': { type: 'string' }, dsr: { type: 'boolean' }, 'no-fast-path': { type: 'boolean' },
  'policy-established': { type: 'string' }, 'no-host-services': { type: 'boolean' },
  'cgroup-root': { type: 'string' },
  'replace-maps': { type: 'boolean' }, verbose: { type: 'boolean' }, ...SIZE_OPTIONS,
} as const;

/** DATAPATH_OPTIONS' values, checked; throws UsageError. */
export function datapathArgsOf(v: { [k: string]: string | boolean | undefined }): DatapathArgs {
  if (v['pod-ifaces'] !== undefined && v['pod-iface-prefix'] !== undefined) throw new UsageError('give --pod-ifaces or --pod-iface-prefix, not both');
  for (const flag of ['node-ip', 'hairpin-ip'] as const) {
    if (v[flag] !== undefined && parseIp(v[flag] as string)?.family !== 4) throw new UsageError(`--${flag} must be an IPv4 address, not "${v[flag]}"`);
  }
  const established = v['policy-established'] ?? 'revoke';
  if (established !== 'revoke' && established !== 'keep') throw new UsageError(`--policy-established must be revoke or keep, not "${established}"`);
  return {
    pinRoot: (v['pin-root'] as string) ?? DEFAULT_PIN_ROOT,
    netns: v.netns as string | undefined, object: v.object as string | undefined, nodeIp: v['node-ip'] as string | undefined,
    hairpinIp: (v['hairpin-ip'] as string) ?? DEFAULT_HAIRPIN_IP, dsr: v.dsr === true, fastPath: v['no-fast-path'] !== true,
    policyEstablished: established, hostServices: v['no-host-services'] !== true,
    cgroupRoot: v['cgroup-root'] as string | undefined,
    replaceMaps: v['replace-maps'] === true,
    verbose: v.verbose === true, sizes: sizesOf(v),
    ifaces: { podIfaces: listOf(v['pod-ifaces']), podIfacePrefix: v['pod-iface-prefix'] as string | undefined, nodeIfaces: listOf(v['node-ifaces']) },
  };
}
