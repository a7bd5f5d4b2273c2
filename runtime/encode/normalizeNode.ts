// Node v1 -> NodeBody: the addresses NodePorts answer on and the pod CIDRs.
import * as R from '../../compiler/abi/records.ts';
import { cidrv4, ipv4, type Noter } from './addresses.ts';
import { absent, list, object, string, type Obj } from './fields.ts';
import type { Labels, NodeBody } from './schema.ts';

const ADDRESS_TYPES: { readonly [type: string]: number } = { InternalIP: R.NODE_ADDR_INTERNAL, ExternalIP: R.NODE_ADDR_EXTERNAL };

export function normalizeNode(o: Obj, note: Noter, labels: Labels): NodeBody {
  const spec = object(o.spec, 'spec');
  const status = object(o.status, 'status');
  // Hostname and DNS addresses name the node but give the datapath nothing to match.
  const addresses = list(status.addresses, 'status.addresses').flatMap((a, i) => {
    const at = `status.addresses[${i}]`;
    const x = object(a, at);
    const name = string(x.type, `${at}.type`);
    if (!Object.hasOwn(ADDRESS_TYPES, name)) return [];
    const ip = ipv4(x.address, `${at}.address`, note);
    return ip ? [{ type: ADDRESS_TYPES[name], ip }] : [];
  });
  const many = list(spec.podCIDRs, 'spec.podCIDRs');
  const given: [unknown, string][] = many.length > 0
    ? many.map((v, i) => [v, `spec.podCIDRs[${i}]`])
    : absent(spec.podCIDR) || spec.podCIDR === '' ? [] : [[spec.podCIDR, 'spec.podCIDR']];
  const podCIDRs = given.flatMap(([v, field]) => cidrv4(v, field, note) ?? []);
  return { addresses, podCIDRs, labels };
}
