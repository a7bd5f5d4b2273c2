// What kube-proxy would leave in a node's kernel for the benchmark's services,
// in its iptables and nftables modes, as input for one plain load into a fresh
// namespace (iptables-restore without --noflush, nft -f). The structure
// follows kube-proxy's proxiers (pkg/proxy/iptables, pkg/proxy/nftables):
//
// iptables: filter KUBE-FORWARD & co. with the base-chain jumps; nat
//   KUBE-SERVICES with one `-d VIP --dport P -j KUBE-SVC-x` rule per service
//   (walked in order: the last service is the last rule), then the NodePort
//   catch-all; KUBE-SVC-x marks non-cluster sources for masquerade and picks
//   an endpoint with `statistic --probability 1/k`; KUBE-SEP-y marks hairpin
//   and DNATs; KUBE-POSTROUTING masquerades marked traffic. A NodePort
//   Service adds a `--dport NP -j KUBE-EXT-x` rule to KUBE-NODEPORTS (reached
//   by the addrtype LOCAL rule after every service's), and KUBE-EXT-x marks
//   for masquerade and jumps to KUBE-SVC-x. Chain names are
//   the prefix plus base32(sha256(...))[:16]; endpoint comments are left out
//   above 1000 endpoints ("large cluster mode").
// nftables: table ip kube-proxy; a service-ips verdict map keyed by
//   daddr . l4proto . dport jumps to the service chain, which picks an
//   endpoint chain with `numgen random mod k vmap`; a NodePort's l4proto .
//   port in the service-nodeports map goes to its external chain, which marks
//   for masquerade and goes to the service chain; the filter-hook check
//   chains and their sets and maps are there too. Priorities are numeric
//   (dstnat-10 = -110) because nft 1.0.6 rejects some symbolic ones.
// Pure: services in, text out.
import { createHash } from 'node:crypto';
import { servicePortName, type BenchService } from './services.ts';

const CLUSTER_CIDR = '10.244.0.0/14';
const SERVICE_CIDR = '10.96.0.0/16';
const MASQ = '0x4000';
const LARGE_CLUSTER_ENDPOINTS = 1000;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 of sha256(text), as kube-proxy hashes chain names. */
export function hashName(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '', acc = 0, bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return bits > 0 ? out + B32[(acc << (5 - bits)) & 31] : out;
}

const svcChain = (s: BenchService) => `KUBE-SVC-${hashName(`${servicePortName(s)}tcp`).slice(0, 16)}`;
const extChain = (s: BenchService) => `KUBE-EXT-${hashName(`${servicePortName(s)}tcp`).slice(0, 16)}`;
const sepChain = (s: BenchService, ep: string) => `KUBE-SEP-${hashName(`${servicePortName(s)}tcp${ep}:${s.targetPort}`).slice(0, 16)}`;

const NEW = '-m conntrack --ctstate NEW';
const FILTER_CHAINS = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL'];
const FILTER_RULES = [
  '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
  `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ}/${MASQ} -j ACCEPT`,
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  // the jumps kube-proxy ensures in the built-in chains
  `-A INPUT ${NEW} -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
  '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
  `-A INPUT ${NEW} -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
  `-A FORWARD ${NEW} -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
  '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  `-A FORWARD ${NEW} -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
  `-A FORWARD ${NEW} -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
  `-A OUTPUT ${NEW} -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
  `-A OUTPUT ${NEW} -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
];
const NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];
const NAT_RULES = [
  `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ}/${MASQ} -j RETURN`,
  `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ}`,
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ}`,
];
const NAT_JUMPS = [
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
];

/** iptables-restore input (flushing, for a fresh namespace): kube-proxy's chains and rules plus its jumps from the built-in chains. */
export function iptablesRules(services: readonly BenchService[]): string {
  const large = services.reduce((n, s) => n + s.endpoints.length, 0) > LARGE_CLUSTER_ENDPOINTS;
  const chains = [...NAT_CHAINS], rules = [...NAT_RULES];
  for (const s of services) {
    const spn = servicePortName(s), svc = svcChain(s), k = s.endpoints.length;
    chains.push(svc, ...s.endpoints.map((e) => sepChain(s, e)));
    rules.push(`-A ${svc} -m comment --comment "${spn} cluster IP" -m tcp -p tcp -d ${s.vip} --dport ${s.port} ! -s ${CLUSTER_CIDR} -j KUBE-MARK-MASQ`);
    s.endpoints.forEach((e, i) => {
      const comment = large ? '' : ` -m comment --comment "${spn} -> ${e}:${s.targetPort}"`;
      const pick = i < k - 1 ? ` -m statistic --mode random --probability ${(1 / (k - i)).toFixed(10)}` : '';
      rules.push(`-A ${svc}${comment}${pick} -j ${sepChain(s, e)}`);
    });
    if (s.nodePort) {
      chains.push(extChain(s));
      rules.push(`-A KUBE-NODEPORTS -m comment --comment ${spn} -m tcp -p tcp --dport ${s.nodePort} -j ${extChain(s)}`,
        `-A ${extChain(s)} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
        `-A ${extChain(s)} -j ${svc}`);
    }
    for (const e of s.endpoints) {
      const comment = large ? '' : ` -m comment --comment ${spn}`;
      rules.push(`-A ${sepChain(s, e)}${comment} -s ${e} -j KUBE-MARK-MASQ`,
        `-A ${sepChain(s, e)}${comment} -m tcp -p tcp -j DNAT --to-destination ${e}:${s.targetPort}`);
    }
  }
  for (const s of services) {
    rules.push(`-A KUBE-SERVICES -m comment --comment "${servicePortName(s)} cluster IP" -m tcp -p tcp -d ${s.vip} --dport ${s.port} -j ${svcChain(s)}`);
  }
  rules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" ' +
    '-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  const declare = (c: string) => `:${c} - [0:0]`;
  return ['*filter', ...FILTER_CHAINS.map(declare), ...FILTER_RULES, 'COMMIT',
    '*nat', ...chains.map(declare), ...rules, ...NAT_JUMPS, 'COMMIT', ''].join('\n');
}

const T = 'ip kube-proxy';
const BASE_CHAINS: [string, string, string, number][] = [
  ['filter-prerouting', 'filter', 'prerouting', -110], ['filter-input', 'filter', 'input', -110],
  ['filter-forward', 'filter', 'forward', -110], ['filter-output', 'filter', 'output', -110],
  ['filter-output-post-dnat', 'filter', 'output', -90], ['nat-prerouting', 'nat', 'prerouting', -100],
  ['nat-output', 'nat', 'output', -100], ['nat-postrouting', 'nat', 'postrouting', 100],
];
const JUMPS: [string, string, string][] = [ // [to, from, condition]
  ['nodeport-endpoints-check', 'filter-input', 'ct state new '], ['service-endpoints-check', 'filter-input', 'ct state new '],
  ['service-endpoints-check', 'filter-forward', 'ct state new '], ['service-endpoints-check', 'filter-output', 'ct state new '],
  ['firewall-check', 'filter-prerouting', 'ct state new '], ['firewall-check', 'filter-output', 'ct state new '],
  ['services', 'nat-output', ''], ['services', 'nat-prerouting', ''], ['masquerading', 'nat-postrouting', ''],
  ['cluster-ips-check', 'filter-forward', 'ct state new '], ['cluster-ips-check', 'filter-output-post-dnat', 'ct state new '],
];
const KEY3 = 'ipv4_addr . inet_proto . inet_service';

function nftSetup(): string[] {
  const o = [`add table ${T} { comment "rules for kube-proxy" ; }`];
  const made = new Set<string>();
  const chain = (c: string) => {
    if (made.has(c)) return;
    made.add(c);
    o.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`);
  };
  for (const [name, type, hook, prio] of BASE_CHAINS) o.push(`add chain ${T} ${name} { type ${type} hook ${hook} priority ${prio} ; }`, `flush chain ${T} ${name}`);
  for (const [to, from, cond] of JUMPS) {
    chain(to);
    o.push(`add rule ${T} ${from} ${cond}jump ${to}`);
  }
  for (const c of ['services', 'cluster-ips-check', 'masquerading', 'mark-for-masquerade', 'firewall-check']) chain(c);
  o.push(
    `add rule ${T} mark-for-masquerade mark set mark or ${MASQ}`,
    `add rule ${T} masquerading mark and ${MASQ} == 0 return`,
    `add rule ${T} masquerading mark set mark xor ${MASQ}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    `add rule ${T} cluster-ips-check ip daddr { ${SERVICE_CIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    `add map ${T} no-endpoint-services { type ${KEY3} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `flush chain ${T} reject-chain`,
    `add rule ${T} reject-chain reject`,
    `add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
    `add rule ${T} nodeport-endpoints-check ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add map ${T} firewall-ips { type ${KEY3} : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add map ${T} service-ips { type ${KEY3} : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
    // a full sync empties the sets and maps before refilling them
    `flush set ${T} cluster-ips`,
    ...['service-ips', 'firewall-ips', 'no-endpoint-services', 'no-endpoint-nodeports', 'service-nodeports'].map((m) => `flush map ${T} ${m}`),
  );
  return o;
}

/** nft -f input: kube-proxy's whole table in one transaction. */
export function nftRules(services: readonly BenchService[]): string {
  const o = nftSetup();
  for (const s of services) {
    const id = `${s.namespace}/${s.name}/tcp/${s.portName}`;
    const svc = `service-${hashName(id).slice(0, 8)}-${id}`;
    const eps = s.endpoints.map((e) => {
      const ep = `${id}__${e}/${s.targetPort}`;
      return { ip: e, chain: `endpoint-${hashName(ep).slice(0, 8)}-${ep}` };
    });
    for (const c of [...eps.map((e) => e.chain), svc]) o.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`);
    o.push(`add rule ${T} ${svc} ip daddr ${s.vip} tcp dport ${s.port} ip saddr != ${CLUSTER_CIDR} jump mark-for-masquerade`,
      `add rule ${T} ${svc} numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${e.chain}`).join(' , ')} }`);
    for (const e of eps) {
      o.push(`add rule ${T} ${e.chain} ip saddr ${e.ip} jump mark-for-masquerade`,
        `add rule ${T} ${e.chain} meta l4proto tcp dnat to ${e.ip}:${s.targetPort}`);
    }
    o.push(`add element ${T} cluster-ips { ${s.vip} }`, `add element ${T} service-ips { ${s.vip} . tcp . ${s.port} : goto ${svc} }`);
    if (s.nodePort) {
      const ext = `external-${hashName(id).slice(0, 8)}-${id}`;
      o.push(`add chain ${T} ${ext}`, `flush chain ${T} ${ext}`, `add rule ${T} ${ext} jump mark-for-masquerade`, `add rule ${T} ${ext} goto ${svc}`,
        `add element ${T} service-nodeports { tcp . ${s.nodePort} : goto ${ext} }`);
    }
  }
  return o.join('\n') + '\n';
}
