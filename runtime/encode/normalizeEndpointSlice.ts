// EndpointSlice discovery.k8s.io/v1 -> SliceBody, read the way kube-proxy's
// endpoint slice cache reads it. Returns undefined for slices the datapath
// cannot use yet (IPv6, FQDN), after validating them just as strictly.
import * as R from '../../compiler/abi/records.ts';
import { anyIp, usable, type Noter } from './addresses.ts';
import { boolean, Invalid, item, keyPath, list, object, oneOf, requiredString, shown, string, type Obj } from './fields.ts';
import type { Ip } from './ip.ts';
import { nameProblem } from './names.ts';
import { port, protocol } from './ports.ts';
import type { Endpoint, SliceBody, SlicePort } from './schema.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const ADDRESS_TYPES = { IPv4: R.ADDR_IPV4, IPv6: R.ADDR_IPV6, FQDN: R.ADDR_FQDN } as const;
const ADDRESS_TYPE_NAMES = Object.keys(ADDRESS_TYPES) as (keyof typeof ADDRESS_TYPES)[];

export function normalizeEndpointSlice(o: Obj, note: Noter): SliceBody | undefined {
  const labels = object(object(o.metadata, 'metadata').labels, 'metadata.labels');
  const labelPath = keyPath('metadata.labels', SERVICE_NAME_LABEL);
  const serviceName = requiredString(labels[SERVICE_NAME_LABEL], labelPath);
  const problem = nameProblem('label value', serviceName);
  if (problem !== undefined) throw new Invalid(labelPath, `${shown(serviceName)} ${problem}`);
  const typeName = oneOf(requiredString(o.addressType, 'addressType'), 'addressType', ADDRESS_TYPE_NAMES, 'IPv4');
  const addressType = ADDRESS_TYPES[typeName];
  const ports = list(o.ports, 'ports').flatMap((p, i) => slicePort(p, `ports[${i}]`));
  const endpoints = list(o.endpoints, 'endpoints').map((e, i) => item('endpoints', i, endpoint, e, addressType));
  if (typeName === 'IPv6') note('addressType', 'IPv6 is not supported yet; EndpointSlice skipped');
  if (typeName === 'FQDN') note('addressType', 'FQDN EndpointSlices are not supported (kube-proxy ignores them too); skipped');
  if (typeName !== 'IPv4') return undefined;
  return { serviceName, addressType, ports, endpoints: endpoints as Endpoint[] }; // IPv4: every address parsed
}

/** A port whose number is null means "all ports"; kube-proxy cannot serve that, so it is left out. */
function slicePort(v: unknown, at: string): SlicePort[] {
  const x = object(v, at);
  const name = string(x.name, `${at}.name`);
  const proto = protocol(x.protocol, `${at}.protocol`);
  const p = port(x.port, `${at}.port`);
  return p === undefined ? [] : [{ name, proto, port: p }];
}

type Parsed = Omit<Endpoint, 'address'> & { address: Ip | undefined };

/** An endpoint, its fields named within it (item() names the endpoint). */
function endpoint(v: unknown, addressType: number): Parsed {
  const x = object(v, '');
  const addresses = list(x.addresses, 'addresses');
  if (addresses.length === 0) throw new Invalid('addresses', 'missing');
  const all = addresses.map((a, i) => address(a, `addresses[${i}]`, addressType));
  const c = object(x.conditions, 'conditions');
  // Unknown readiness counts as ready and serving: the API documents nil as true.
  const conditions =
    (boolean(c.ready, 'conditions.ready', true) ? R.COND_READY : 0) |
    (boolean(c.serving, 'conditions.serving', true) ? R.COND_SERVING : 0) |
    (boolean(c.terminating, 'conditions.terminating', false) ? R.COND_TERMINATING : 0);
  const hints = object(x.hints, 'hints');
  const forZones = list(hints.forZones, 'hints.forZones').map((z, i) =>
    requiredString(object(z, `hints.forZones[${i}]`).name, `hints.forZones[${i}].name`));
  return {
    address: all[0], // kube-proxy uses only the first address
    conditions,
    nodeName: string(x.nodeName, 'nodeName'),
    zone: string(x.zone, 'zone'),
    forZones,
  };
}

/** An address of the slice's type; undefined for FQDN, which has no IP. */
function address(v: unknown, at: string, addressType: number): Ip | undefined {
  if (addressType === R.ADDR_FQDN) {
    requiredString(v, at);
    return undefined;
  }
  const ip = anyIp(v, at);
  if (ip.family !== addressType) throw new Invalid(at, `${shown(v)} is not an IPv${addressType} address`);
  return usable(ip, at, 'endpoint');
}
