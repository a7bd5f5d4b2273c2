// Every name and path a testbed uses, derived from its prefix, so that two
// testbeds with different prefixes never share a namespace, a pin or a file.
// A prefix has no "-", so "sl-" never starts a name of the testbed "sla".
import { createHash } from 'node:crypto';

export const DEFAULT_PREFIX = 'sl';
export const STATE_DIR = '/run/sluice-testbed';
export const BPFFS = '/sys/fs/bpf';
/** The pods' default gateway: link-local, answered by proxy ARP on the host side (Calico style). */
export const POD_GATEWAY = '169.254.1.1';
export const BRIDGE = 'br0';
/** The routed underlay's address on each of its links, and every node's and the external client's gateway. */
export const ROUTER_IP = '169.254.0.1';
/** The node's and the external client's interface on the underlay; the pod's interface. */
export const UPLINK = 'eth0';
/** Host-side pod veths start so: `sluice apply --pod-iface-prefix slp` would find them too. */
export const HOST_IFACE_PREFIX = 'slp';

const PREFIX_RE = /^[a-z][a-z0-9]{0,7}$/;

/** Why prefix is unusable, or undefined. */
export function prefixProblem(prefix: string): string | undefined {
  if (!PREFIX_RE.test(prefix)) return `--prefix must be 1-8 of a-z 0-9, starting with a letter (no "-"), not "${prefix}"`;
  if (prefix === 'sluice') return '--prefix sluice would share /sys/fs/bpf/sluice with the node agent';
  return undefined;
}

const hash = (text: string, hex: number) => createHash('sha256').update(text).digest('hex').slice(0, hex);

/** id as it may appear in a netns name: long ids keep 40 characters and a hash of the rest. */
function idPart(id: string): string {
  const safe = id.replace(/[^a-z0-9.-]/g, '_');
  return safe.length <= 48 && safe === id ? safe : `${safe.slice(0, 40)}~${hash(id, 7)}`;
}

export const underlayNetns = (prefix: string) => `${prefix}-ul`;
export const externalNetns = (prefix: string) => `${prefix}-ext`;
export const nodeNetns = (prefix: string, node: string) => `${prefix}-n-${idPart(node)}`;
/** A pod's netns: "<prefix>-p-<namespace>.<pod>" (namespace names have no dots, so it reads back unambiguously). */
export const podNetns = (prefix: string, namespace: string, pod: string) => `${prefix}-p-${idPart(`${namespace}.${pod}`)}`;

/** Whether name is one of the netns names prefix makes (for cleanup without a state file). */
export const isTestbedNetns = (prefix: string, name: string) =>
  name === underlayNetns(prefix) || name === externalNetns(prefix) || name.startsWith(`${prefix}-n-`) || name.startsWith(`${prefix}-p-`);

/** The host side of a pod's veth: 13 characters, within IFNAMSIZ (15 with the NUL: 16). */
export const hostIface = (namespace: string, pod: string) => `${HOST_IFACE_PREFIX}${hash(`${namespace}/${pod}`, 10)}`;
/** A node's port on the underlay bridge. */
export const underlayIface = (node: string) => `uln${hash(node, 10)}`;
export const EXTERNAL_UNDERLAY_IFACE = 'ulext';

export const statePath = (prefix: string) => `${STATE_DIR}/${prefix}.json`;
/** Echo server logs and other per-testbed files. */
export const runDir = (prefix: string) => `${STATE_DIR}/${prefix}`;
export const pinBase = (prefix: string) => `${BPFFS}/${prefix}`;
export const pinRoot = (prefix: string, node: string) => `${pinBase(prefix)}/${node}`;
