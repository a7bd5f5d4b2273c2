// NetworkPolicy on the real kernel (BPF_PROG_TEST_RUN), path by path: a
// flow's first packet is judged where this node first sees it (a pod's
// interface, the node's interface before the packet is forwarded into a pod,
// what the stack delivers), on the backend a Service picked; allowed flows
// are tracked so their answers pass; ICMP, SCTP, other protocols and
// fragments each meet policy as lib/enforce.h says; every drop is counted by
// its reason. The maps are the real compiler's, for the test cluster's pods
// (cluster.ts PODS) and the policies of each scenario.
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import type { Json } from '../model/kube.ts';
import { buildFrame, ipBytes, quoteOf, TCP_FLAGS, type Frame, type Ip, type L4 } from '../../testkit/packet.ts';
import {
  app, CLIENT_POD, EXTERNAL, HAIRPIN_IP, IN_RANGE, LOCAL_BE, MAC, N2_IP, netpol, NODE_IP, NODE_PORT, podFrame, REMOTE_BE, sctp,
  tcp, udp, VIP, wireFrame, withPolicies,
} from './cluster.ts';
import { bpfTest, ETH_HLEN } from './harness.ts';
import { closeDatapaths, modelPick, runScenario, tuple, type Ctx, type Scenario } from './scenario.ts';

const { SYN, ACK, RST } = TCP_FLAGS;
const UNKNOWN_POD = '10.244.1.77'; // in n1's podCIDR; no Pod has it

/** Every sl_ct entry as "saddr:sport>daddr:dport flags", sorted. */
const entries = (c: Ctx) => c.dp.ct().map((e) => `${e.key.saddr}:${e.key.sport}>${e.key.daddr}:${e.key.dport} ${e.flags}`).sort();
const noEntries = (c: Ctx) => assert.equal(entries(c), [], 'nothing tracked');

/** The plain pair of a flow its client opened as (saddr, sport) -> (daddr, dport), with the current epoch. */
function plainPair(c: Ctx, saddr: string, sport: number, daddr: string, dport: number): void {
  const { PLAIN, REPLY } = { PLAIN: A.SL_CT_PLAIN, REPLY: A.SL_CT_REPLY };
  assert.equal(entries(c), [`${saddr}:${sport}>${daddr}:${dport} ${PLAIN}`, `${daddr}:${dport}>${saddr}:${sport} ${PLAIN | REPLY}`].sort());
  const epoch = c.dp.policyState()!.epoch;
  for (const e of c.dp.ct()) {
    assert.equal([e.saddr, e.daddr, e.sport, e.dport], [e.key.saddr, e.key.daddr, e.key.sport, e.key.dport], 'rewrites nothing');
    assert.is(e.polgen, epoch, 'allowed under the current epoch');
  }
}

const denyAll = (name: string, selector: string, types: string[]) => netpol(name, { podSelector: app(selector), policyTypes: types });
const ingressFrom = (name: string, selector: string, from: unknown[], ports?: unknown[]) =>
  netpol(name, { podSelector: app(selector), policyTypes: ['Ingress'], ingress: [{ from, ...(ports ? { ports } : {}) }] });
const egressTo = (name: string, selector: string, to: unknown[], ports?: unknown[]) =>
  netpol(name, { podSelector: app(selector), policyTypes: ['Egress'], egress: [{ to, ...(ports ? { ports } : {}) }] });

/** A frame the node's interface gets from another node. */
const fromN2 = (src: string, dst: string, l4: L4, ip: Partial<Ip> = {}): Frame => ({ srcMac: MAC.n2, dstMac: MAC.node, ip: { src, dst, l4, ...ip } });

/** objects with the pod's labels replaced. */
const relabel = (objects: Json[], pod: string, labels: { [k: string]: string }) => objects.map((o) =>
  (o.kind === 'Pod' && (o.metadata as Json).name === pod ? { ...o, metadata: { ...(o.metadata as Json), labels } } : o));

const echo = (type: 8 | 0, id = 0x4242): L4 => ({ proto: 'icmp', type, code: 0, rest: id << 16 | 1 });
const gre = (): L4 => ({ proto: 'raw', number: 47, payload: new Uint8Array(8) });

const SCENARIOS: Scenario[] = [
  {
    name: 'pod to local pod: the destination\'s ingress denies a new flow (dropped, counted, nothing tracked); allowed, the flow is tracked both ways and its answers pass',
    objects: withPolicies(ingressFrom('web-from-allowed', 'web', [{ podSelector: app('allowed') }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(41000, 8080)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1, SL_DROP_POLICY_EGRESS: 0 }, check: (_, c) => noEntries(c) } },
      { act: 'the client is relabelled app=allowed', run: (c) => c.dp.recompile(relabel(withPolicies(
        ingressFrom('web-from-allowed', 'web', [{ podSelector: app('allowed') }])), 'client', { app: 'allowed' })) },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(41000, 8080)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE, dport: 8080, check: (_, c) => plainPair(c, CLIENT_POD, 41000, LOCAL_BE, 8080) } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 41000, { flags: SYN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_INGRESS: 1, SL_DROP_POLICY_EGRESS: 0, SL_STAT_CT_HIT: 0 } } },
    ],
  },
  {
    name: 'egress: the source\'s policy against the destination pod\'s labels (local or remote) and port, and against addresses outside',
    objects: withPolicies(egressTo('client-to-web', 'client', [{ podSelector: app('web') }], [{ port: 8080 }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(41001, 8080)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], tcp(41002, 8080)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(41003, 9090)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_EGRESS: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, EXTERNAL, tcp(41004, 443)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_EGRESS: 2 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, udp(41005, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_EGRESS: 3 } } },
    ],
  },
  {
    name: 'through a ClusterIP, policy sees the backend: its address, and its port (8080), not the service port (80)',
    objects: withPolicies(egressTo('client-to-web-8080', 'client', [{ podSelector: app('web') }], [{ port: 8080 }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, tcp(42000, 80)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dport: 8080, stats: { SL_STAT_TRANSLATED: 1 },
          check: (_, c) => {
            const epoch = c.dp.policyState()!.epoch;
            assert.equal(c.dp.ct().map((e) => e.polgen), [epoch, epoch], 'both entries carry the epoch');
          } } },
      { act: 'the policy names the service port instead', run: (c) => c.dp.recompile(withPolicies(
        egressTo('client-to-web-80', 'client', [{ podSelector: app('web') }], [{ port: 80 }]))) },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, tcp(42001, 80)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_STAT_TRANSLATED: 1, SL_DROP_POLICY_EGRESS: 1 } } },
    ],
  },
  {
    name: 'through a ClusterIP, the local backend\'s ingress decides the flows the pick sends to it; the remote backends\' is their node\'s to judge',
    objects: withPolicies(denyAll('web-local-closed', 'web', ['Ingress'])),
    steps: [
      { act: 'flows to each backend', run: (c) => {
        let local = 0, remote = 0;
        for (let sport = 43000; sport < 43040; sport++) {
          const be = modelPick(c, tuple(CLIENT_POD, VIP.web, sport, 80));
          const r = c.dp.run('sl_from_pod', buildFrame(podFrame(CLIENT_POD, VIP.web, tcp(sport, 80))));
          if (be.ip === LOCAL_BE) local++;
          else remote++;
          assert.is(r.verdict, be.ip === LOCAL_BE ? 2 : 7, `sport ${sport} -> ${be.ip}`);
        }
        assert.ok(local > 0 && remote > 0, `both kinds of backend picked: ${local} local, ${remote} remote`);
        const stats = c.dp.stats();
        assert.is(stats.SL_DROP_POLICY_INGRESS, local, 'one ingress drop per flow to the local backend');
      } },
    ],
  },
  {
    name: 'hairpin: a pod reaching itself through a Service is allowed however isolated it is; it reaches nothing else',
    objects: withPolicies(denyAll('client-closed', 'client', ['Ingress', 'Egress'])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.self, tcp(44000, 80)),
        expect: { verdict: 'TC_ACT_REDIRECT', src: HAIRPIN_IP, dst: CLIENT_POD, dport: 8080 } },
      { prog: 'sl_to_pod', frame: (c) => c.raw[0], expect: { verdict: 'TC_ACT_OK', unchanged: true } }, // the bounce, out to the pod
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, HAIRPIN_IP, tcp(8080, 44000, { flags: SYN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', src: VIP.self, sport: 80, dst: CLIENT_POD, dport: 44000 } },
      { prog: 'sl_to_pod', frame: (c) => c.raw[2], expect: { verdict: 'TC_ACT_OK', unchanged: true,
        check: (_, c) => assert.equal(entries(c), [`${CLIENT_POD}:44000>${VIP.self}:80 ${A.SL_CT_SNAT}`, `${CLIENT_POD}:8080>${HAIRPIN_IP}:44000 ${A.SL_CT_SNAT | A.SL_CT_REPLY}`],
          'the hairpin\'s two entries, as they were: nothing tracked over them') } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(44001, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_EGRESS: 1 } } },
    ],
  },
  {
    name: 'a NodePort to a local backend: its ingress meets the external client\'s own address (ipBlock); to a remote backend, SNATed, there is nothing for this node to judge',
    objects: withPolicies(ingressFrom('web-from-docs', 'web', [{ ipBlock: { cidr: '192.0.2.0/24' } }], [{ port: 8080 }])),
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50000, NODE_PORT.local)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: LOCAL_BE, dport: 8080 } },
      { prog: 'sl_from_netdev', frame: wireFrame(IN_RANGE, NODE_IP, tcp(50001, NODE_PORT.local)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { prog: 'sl_from_netdev', frame: wireFrame(IN_RANGE, NODE_IP, tcp(50002, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[0] } },
    ],
  },
  {
    name: 'DSR, the backend\'s node: the client\'s own address meets the backend\'s ingress before the flow is tracked',
    node: 'n2',
    config: { flags: A.SL_CFG_DSR, nodeIp: ipBytes(N2_IP) },
    objects: withPolicies(ingressFrom('web-from-docs', 'web', [{ ipBlock: { cidr: '192.0.2.0/24' } }])),
    steps: [
      { prog: 'sl_from_netdev', frame: dsrFrame(EXTERNAL, 50100), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[0] } },
      { prog: 'sl_from_netdev', frame: dsrFrame(IN_RANGE, 50101),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1, SL_STAT_DSR_RECEIVED: 2 },
          check: (_, c) => assert.ok(c.dp.ct().every((e) => e.key.saddr !== IN_RANGE && e.key.daddr !== IN_RANGE), 'the denied flow is not tracked') } },
    ],
  },
  {
    name: 'from another node: sl_from_netdev judges a local pod\'s ingress before forwarding into it, sl_to_pod what the stack delivers; the pod\'s answers pass',
    objects: withPolicies(ingressFrom('web-from-web', 'web', [{ podSelector: app('web') }])),
    steps: [
      { prog: 'sl_from_netdev', frame: fromN2(REMOTE_BE[0], LOCAL_BE, tcp(45000, 8080)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (_, c) => plainPair(c, REMOTE_BE[0], 45000, LOCAL_BE, 8080) } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, REMOTE_BE[0], tcp(8080, 45000, { flags: SYN | ACK })), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, LOCAL_BE, tcp(45001, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { prog: 'sl_to_pod', frame: fromN2(REMOTE_BE[1], LOCAL_BE, tcp(45002, 8080)), expect: { verdict: 'TC_ACT_OK' } },
      { prog: 'sl_to_pod', frame: wireFrame(EXTERNAL, LOCAL_BE, tcp(45003, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 2 } } },
      { prog: 'sl_from_netdev', frame: wireFrame(N2_IP, LOCAL_BE, tcp(45004, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 3 } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(45005, 22)), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
    ],
  },
  {
    name: 'the node itself: to and from its own pods always allowed, isolated or not',
    objects: withPolicies(denyAll('web-closed', 'web', ['Ingress', 'Egress'])),
    steps: [
      { prog: 'sl_to_pod', frame: wireFrame(NODE_IP, LOCAL_BE, tcp(46000, 8080)), expect: { verdict: 'TC_ACT_OK' } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, NODE_IP, tcp(46001, 10250)), expect: { verdict: 'TC_ACT_OK', stats: { SL_DROP_POLICY_EGRESS: 0 } } },
    ],
  },
  {
    name: 'a pod the maps do not hold yet is isolated, from and to it, while the cluster has a NetworkPolicy; without one it is not, and nothing is tracked',
    objects: withPolicies(denyAll('elsewhere', 'nothing', ['Ingress'])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(UNKNOWN_POD, REMOTE_BE[0], tcp(47000, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_UNKNOWN_POD: 1 } } },
      { prog: 'sl_to_pod', frame: fromN2(REMOTE_BE[0], UNKNOWN_POD, tcp(47001, 8080)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_UNKNOWN_POD: 2 } } },
      { act: 'the policy goes', run: (c) => c.dp.recompile(withPolicies()) },
      { prog: 'sl_from_pod', frame: podFrame(UNKNOWN_POD, REMOTE_BE[0], tcp(47002, 8080)), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_to_pod', frame: fromN2(REMOTE_BE[0], UNKNOWN_POD, tcp(47003, 8080)), expect: { verdict: 'TC_ACT_OK', unchanged: true, check: (_, c) => noEntries(c) } },
    ],
  },
  {
    name: 'ICMP echo meets policy by protocol: a rule with ports does not admit it, one without does; its reply passes by conntrack',
    objects: withPolicies(ingressFrom('web-from-client-8080', 'web', [{ podSelector: app('client') }], [{ port: 8080 }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, echo(8)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { act: 'the rule loses its ports', run: (c) => c.dp.recompile(withPolicies(ingressFrom('web-from-client', 'web', [{ podSelector: app('client') }]))) },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, echo(8)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, echo(0)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { prog: 'sl_from_netdev', frame: fromN2(REMOTE_BE[0], LOCAL_BE, echo(8, 7)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 2 } } },
    ],
  },
  {
    name: 'ICMP errors: one about a tracked flow passes, fragmentation-needed always passes, any other is judged by protocol',
    objects: withPolicies(ingressFrom('web-from-client', 'web', [{ podSelector: app('client') }]), denyAll('web-no-egress', 'web', ['Egress'])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, udp(48000, 5353)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: (c) => podFrame(LOCAL_BE, CLIENT_POD, { proto: 'icmp', type: 3, code: 3, payload: quoteOf(c.sent[0].subarray(ETH_HLEN)) }),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_EGRESS: 0 } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, LOCAL_BE, { proto: 'icmp', type: 3, code: 4, rest: 1400, payload: quoteOf(buildFrame(podFrame(LOCAL_BE, IN_RANGE, tcp(8080, 48001, { flags: ACK }))).subarray(ETH_HLEN)) }),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_INGRESS: 0 } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, LOCAL_BE, { proto: 'icmp', type: 11, code: 0, payload: quoteOf(buildFrame(podFrame(LOCAL_BE, IN_RANGE, udp(8080, 48002))).subarray(ETH_HLEN)) }),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
    ],
  },
  {
    name: 'SCTP: its ports are read for policy (and never translated)',
    objects: withPolicies(ingressFrom('web-sctp-9000', 'web', [{ podSelector: app('client') }], [{ protocol: 'SCTP', port: 9000 }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, sctp(49000, 9000)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, sctp(9000, 49000)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, sctp(49001, 9001)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, udp(49002, 9000)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 2 } } },
    ],
  },
  {
    name: 'another protocol (GRE) meets policy by protocol alone: a rule with ports does not admit it, one without does',
    objects: withPolicies(ingressFrom('web-from-client-tcp', 'web', [{ podSelector: app('client') }], [{ protocol: 'TCP' }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, gre()), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { act: 'the rule loses its ports', run: (c) => c.dp.recompile(withPolicies(ingressFrom('web-from-client', 'web', [{ podSelector: app('client') }]))) },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, gre()), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, gre()), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_INGRESS: 1 } } },
    ],
  },
  {
    name: 'fragments: the first is judged and the later ones follow it; without it they are dropped for an isolated pod, and pass for others',
    objects: withPolicies(ingressFrom('web-dns', 'web', [{ podSelector: app('client') }], [{ protocol: 'UDP', port: 5353 }])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, udp(49100, 5353, new Uint8Array(64)), { id: 77, fragOff: 0x2000 }),
        expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, later(), { id: 77, fragOff: 9 }), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_to_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, later(), { id: 77, fragOff: 9 }), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, later(), { id: 78, fragOff: 9 }), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_FRAG_UNTRACKED: 1 } } },
      { prog: 'sl_to_pod', frame: fromN2(REMOTE_BE[0], LOCAL_BE, later(), { id: 79, fragOff: 9 }), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_FRAG_UNTRACKED: 2 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, udp(49101, 5354, new Uint8Array(64)), { id: 80, fragOff: 0x2000 }),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, later(), { id: 80, fragOff: 9 }), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_FRAG_UNTRACKED: 3 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], later(), { id: 81, fragOff: 9 }), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_from_netdev', frame: fromN2(REMOTE_BE[0], LOCAL_BE, later(), { id: 82, fragOff: 9 }), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
    ],
  },
  {
    name: 'a TCP segment that finds no entry mid-flow passes when either end may have opened the connection, and is tracked that way round; a SYN and UDP only the way they go',
    objects: withPolicies(denyAll('web-no-egress', 'web', ['Egress'])),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 41500, { flags: ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (_, c) => plainPair(c, CLIENT_POD, 41500, LOCAL_BE, 8080) } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 41501)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_EGRESS: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, udp(5353, 41502)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_EGRESS: 2 } } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, EXTERNAL, tcp(8080, 41503, { flags: ACK })), expect: { verdict: 'TC_ACT_OK' } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 41504, { flags: RST })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_EGRESS: 2 },
          check: (_, c) => assert.is(entries(c).length, 4, 'a RST opens nothing: only the two pairs of the segments before it') } },
    ],
  },
];

/** A fragment after the first: 8 bytes of the datagram's middle, no header of its own. */
function later(): L4 {
  return { proto: 'raw', number: 17, payload: new Uint8Array(8) };
}

/** n1 sent n2 an external client's packet for REMOTE_BE[0] with the DSR option (frontend: n1's NodePort). */
function dsrFrame(client: string, sport: number): Frame {
  const port = NODE_PORT.remote;
  return {
    srcMac: MAC.node, dstMac: MAC.n2,
    ip: { src: client, dst: REMOTE_BE[0], l4: tcp(sport, 8080), options: Uint8Array.from([A.SL_DSR_OPT_TYPE, A.SL_DSR_OPT_LEN, port >> 8, port & 255, ...ipBytes(NODE_IP)]) },
  };
}

const bpf = await bpfTest('NetworkPolicy, path by path');
for (const s of SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
