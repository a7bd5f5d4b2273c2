// Service v1 -> ServiceBody. Defaults are the API server's, so an object
// written by hand means what it would mean once stored in a cluster.
import * as R from '../../compiler/abi/records.ts';
import { cidrv4, ipv4, type Noter } from './addresses.ts';
import { absent, boolean, integer, Invalid, list, object, oneOf, string, timestamp, type Obj } from './fields.ts';
import type { Ip } from './ip.ts';
import { numberOrName, port, protocol } from './ports.ts';
import type { ServiceBody, ServicePort } from './schema.ts';

const TYPES = {
  ClusterIP: R.SVC_TYPE_CLUSTER_IP,
  NodePort: R.SVC_TYPE_NODE_PORT,
  LoadBalancer: R.SVC_TYPE_LOAD_BALANCER,
  ExternalName: R.SVC_TYPE_EXTERNAL_NAME,
} as const;
const TYPE_NAMES = Object.keys(TYPES) as (keyof typeof TYPES)[];
const POLICIES = ['Cluster', 'Local'] as const;

export function normalizeService(o: Obj, note: Noter): ServiceBody {
  const spec = object(o.spec, 'spec');
  const type = TYPES[oneOf(spec.type, 'spec.type', TYPE_NAMES, 'ClusterIP')];
  const cluster = clusterIPs(spec, note);
  const affinityTimeout = affinity(spec);
  let flags = cluster.headless ? R.SVCF_HEADLESS : 0;
  if (oneOf(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', POLICIES, 'Cluster') === 'Local') flags |= R.SVCF_EXTERNAL_LOCAL;
  if (oneOf(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', POLICIES, 'Cluster') === 'Local') flags |= R.SVCF_INTERNAL_LOCAL;
  if (affinityTimeout > 0) flags |= R.SVCF_AFFINITY;
  if (boolean(spec.publishNotReadyAddresses, 'spec.publishNotReadyAddresses', false)) flags |= R.SVCF_PUBLISH_NOT_READY;
  return {
    type,
    flags,
    healthCheckNodePort: integer(spec.healthCheckNodePort, 'spec.healthCheckNodePort', 0, 65535) ?? 0,
    affinityTimeout,
    created: timestamp(object(o.metadata, 'metadata').creationTimestamp, 'metadata.creationTimestamp'),
    clusterIPs: cluster.ips,
    externalIPs: present(list(spec.externalIPs, 'spec.externalIPs').map((v, i) => ipv4(v, `spec.externalIPs[${i}]`, note, 'endpoint'))),
    loadBalancerIPs: ingressIPs(o.status, note),
    // kube-proxy trims whitespace around each range before parsing it; so do we.
    sourceRanges: present(list(spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges').map((v, i) =>
      cidrv4(typeof v === 'string' ? v.trim() : v, `spec.loadBalancerSourceRanges[${i}]`, note))),
    ports: uniquelyNamed(list(spec.ports, 'spec.ports').map((p, i) => servicePort(p, `spec.ports[${i}]`))),
  };
}

const present = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);

/** clusterIPs, falling back to the older single clusterIP; "None" alone marks a headless Service. */
function clusterIPs(spec: Obj, note: Noter): { ips: Ip[]; headless: boolean } {
  const many = list(spec.clusterIPs, 'spec.clusterIPs');
  const given: [unknown, string][] = many.length > 0
    ? many.map((v, i) => [v, `spec.clusterIPs[${i}]`])
    : absent(spec.clusterIP) || spec.clusterIP === '' ? [] : [[spec.clusterIP, 'spec.clusterIP']];
  const none = given.find(([v]) => v === 'None');
  if (none && given.length > 1) throw new Invalid(none[1], '"None" must be the only cluster IP');
  if (none) return { ips: [], headless: true };
  return { ips: present(given.map(([v, field]) => ipv4(v, field, note, 'frontend'))), headless: false };
}

/** ClientIP affinity timeout in seconds, 0 without affinity. */
function affinity(spec: Obj): number {
  if (oneOf(spec.sessionAffinity, 'spec.sessionAffinity', ['None', 'ClientIP'], 'None') === 'None') return 0;
  const config = object(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig');
  const clientIP = object(config.clientIP, 'spec.sessionAffinityConfig.clientIP');
  return integer(clientIP.timeoutSeconds, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 1, 86400) ?? 10800;
}

/** status.loadBalancer.ingress IPs the node must answer for. */
function ingressIPs(status: unknown, note: Noter): Ip[] {
  const lb = object(object(status, 'status').loadBalancer, 'status.loadBalancer');
  return present(list(lb.ingress, 'status.loadBalancer.ingress').map((e, i) => {
    const at = `status.loadBalancer.ingress[${i}]`;
    const x = object(e, at);
    const mode = oneOf(x.ipMode, `${at}.ipMode`, ['VIP', 'Proxy'], 'VIP');
    string(x.hostname, `${at}.hostname`);
    if (absent(x.ip) || x.ip === '') return undefined; // a hostname-only ingress gives the node nothing to answer for
    const ip = ipv4(x.ip, `${at}.ip`, note, 'frontend');
    // ipMode Proxy: the load balancer rewrites the destination itself, so
    // kube-proxy leaves that IP alone and lets packets reach the node.
    return mode === 'Proxy' ? undefined : ip;
  }));
}

/** EndpointSlices match service ports by name, so, as the API server demands,
 * several ports must each have a name, and no two the same. */
function uniquelyNamed(ports: ServicePort[]): ServicePort[] {
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    if (ports.length > 1 && p.name === '') throw new Invalid(`spec.ports[${i}].name`, 'a Service with several ports must name each one');
    if (seen.has(p.name)) throw new Invalid(`spec.ports[${i}].name`, `"${p.name}" names another port too`);
    seen.add(p.name);
  });
  return ports;
}

function servicePort(v: unknown, at: string): ServicePort {
  const x = object(v, at);
  const p = port(x.port, `${at}.port`);
  if (p === undefined) throw new Invalid(`${at}.port`, 'missing');
  const [targetPort, targetPortName] = absent(x.targetPort) ? [p, ''] : numberOrName(x.targetPort, `${at}.targetPort`);
  return {
    name: string(x.name, `${at}.name`),
    proto: protocol(x.protocol, `${at}.protocol`),
    port: p,
    nodePort: integer(x.nodePort, `${at}.nodePort`, 0, 65535) ?? 0,
    targetPort,
    targetPortName,
  };
}
