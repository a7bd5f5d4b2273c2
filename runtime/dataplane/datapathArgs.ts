// What `apply` and `run` share about the node's datapath: where the maps are
// pinned, how the object is loaded and configured, and which interfaces get
// its programs. The CLI parses them (cli/datapathFlags.ts); the
// dataplane acts on them.
import type { Sizes } from '../bpf/sizes.ts';

export const DEFAULT_HAIRPIN_IP = '169.254.42.1';

export interface DatapathArgs {
  pinRoot: string;
  netns?: string;
  object?: string;
  nodeIp?: string;
  hairpinIp: string;
  dsr: boolean;
  fastPath: boolean;
  /** --policy-established: judge tracked flows again after a policy change (revoke), or not (keep). */
  policyEstablished: 'revoke' | 'keep';
  hostServices: boolean;
  cgroupRoot?: string;
  replaceMaps: boolean;
  verbose: boolean;
  sizes: Sizes;
  ifaces: { podIfaces?: string[]; podIfacePrefix?: string; nodeIfaces?: string[] };
}
