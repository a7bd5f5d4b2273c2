// NetworkPolicy networking.k8s.io/v1 -> PolicyBody. Recorded now so the
// compiler can learn policy without a new record version.
import * as R from '../../compiler/abi/records.ts';
import { ipBlockCidr, ipv6Skipped, strictlyInside, type Noter } from './addresses.ts';
import { absent, integer, Invalid, list, object, oneOf, requiredString, type Obj } from './fields.ts';
import { formatCidr } from './ip.ts';
import { numberOrName, protocol } from './ports.ts';
import type { PolicyBody, PolicyPeer, PolicyPort, PolicyRule } from './schema.ts';
import { selector } from './selectors.ts';

const TYPES = { Ingress: R.POLICY_INGRESS, Egress: R.POLICY_EGRESS } as const;
const TYPE_NAMES = Object.keys(TYPES) as (keyof typeof TYPES)[];

export function normalizeNetworkPolicy(o: Obj, note: Noter): PolicyBody {
  const spec = object(o.spec, 'spec');
  const egress = list(spec.egress, 'spec.egress');
  const types = list(spec.policyTypes, 'spec.policyTypes').map((t, i) =>
    TYPES[oneOf(requiredString(t, `spec.policyTypes[${i}]`), `spec.policyTypes[${i}]`, TYPE_NAMES, 'Ingress')]);
  // The API server's default: Ingress always, Egress too when egress rules exist.
  const policyTypes = types.length > 0
    ? types.reduce((a, t) => a | t, 0)
    : R.POLICY_INGRESS | (egress.length > 0 ? R.POLICY_EGRESS : 0);
  return {
    podSelector: selector(spec.podSelector, 'spec.podSelector'),
    policyTypes,
    ingress: list(spec.ingress, 'spec.ingress').flatMap((r, i) => rule(r, `spec.ingress[${i}]`, 'from', note) ?? []),
    egress: egress.flatMap((r, i) => rule(r, `spec.egress[${i}]`, 'to', note) ?? []),
  };
}

function rule(v: unknown, at: string, peersKey: 'from' | 'to', note: Noter): PolicyRule | undefined {
  const x = object(v, at);
  const given = list(x[peersKey], `${at}.${peersKey}`);
  const peers = given.flatMap((p, i) => peer(p, `${at}.${peersKey}[${i}]`, note) ?? []);
  const ports = list(x.ports, `${at}.ports`).map((p, i) => policyPort(p, `${at}.ports[${i}]`));
  // Peers that are all IPv6 blocks match no IPv4 traffic; an empty peer list
  // would match everyone, so the rule goes rather than just its peers.
  if (given.length > 0 && peers.length === 0) {
    note(`${at}.${peersKey}`, 'every peer is an IPv6 block; rule skipped');
    return undefined;
  }
  return { peers, ports };
}

function peer(v: unknown, at: string, note: Noter): PolicyPeer | undefined {
  const x = object(v, at);
  const bySelector = !absent(x.podSelector) || !absent(x.namespaceSelector);
  if (absent(x.ipBlock)) {
    if (!bySelector) throw new Invalid(at, 'needs podSelector, namespaceSelector or ipBlock');
    const out: PolicyPeer = {};
    if (!absent(x.podSelector)) out.pods = selector(x.podSelector, `${at}.podSelector`);
    if (!absent(x.namespaceSelector)) out.namespaces = selector(x.namespaceSelector, `${at}.namespaceSelector`);
    return out;
  }
  if (bySelector) throw new Invalid(`${at}.ipBlock`, 'cannot be combined with podSelector or namespaceSelector');
  const b = object(x.ipBlock, `${at}.ipBlock`);
  const cidr = ipBlockCidr(b.cidr, `${at}.ipBlock.cidr`, note);
  const except = list(b.except, `${at}.ipBlock.except`).map((e, i) => {
    const c = ipBlockCidr(e, `${at}.ipBlock.except[${i}]`, note);
    if (!strictlyInside(c, cidr)) throw new Invalid(`${at}.ipBlock.except[${i}]`, `${formatCidr(c)} is not inside ${formatCidr(cidr)}`);
    return c;
  });
  if (cidr.ip.family === 6) {
    note(`${at}.ipBlock.cidr`, ipv6Skipped(formatCidr(cidr)));
    return undefined;
  }
  return { ipBlock: { cidr, except } };
}

function policyPort(v: unknown, at: string): PolicyPort {
  const x = object(v, at);
  const proto = protocol(x.protocol, `${at}.protocol`);
  const [port, portName] = numberOrName(x.port, `${at}.port`);
  const endPort = integer(x.endPort, `${at}.endPort`, 1, 65535) ?? 0;
  if (endPort > 0 && port === 0) throw new Invalid(`${at}.endPort`, 'needs a numeric port');
  if (endPort > 0 && endPort < port) throw new Invalid(`${at}.endPort`, `${endPort} is less than port ${port}`);
  return { proto, port, endPort, portName };
}
