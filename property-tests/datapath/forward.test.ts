// Forwarding past the stack (bpf/lib/fwd.h) on the real kernel
// (BPF_PROG_TEST_RUN in the node's own network, nodeNet.ts): which packets
// go, where the route lookup sends them (into a local pod, out of the
// uplink to a known neighbour, to one not yet resolved), and which go to
// the stack instead: not a pod's traffic, no route, a local destination,
// too big, a TTL running out. Every routed step is checked against the
// model's lookup (forwardOf). With --no-fast-path only what the stack would
// refuse on a node's default sysctls still goes past it.
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { quoteOf, TCP_FLAGS } from '../../testkit/packet.ts';
import {
  CLIENT_POD, EXTERNAL, LOCAL_BE, MAC, N2_IP, NODE, NODE_IP, NODE_NETS, NODE_PORT, podFrame, REMOTE_BE, tcp, udp, VIP, wireFrame,
} from './cluster.ts';
import { bpfTest, ETH_HLEN } from './harness.ts';
import { closeDatapaths, modelPick, runScenario, tuple, type Ctx, type Scenario } from './scenario.ts';

const { SYN, ACK } = TCP_FLAGS;
const REDIRECT = { verdict: 'TC_ACT_REDIRECT', routed: true } as const;
const NO_FAST_PATH = { flags: A.SL_CFG_NO_FAST_PATH };
/** A client port whose UDP flow to web:53 the model sends to LOCAL_BE. */
function localPort(c: Ctx): number {
  for (let port = 40570; port < 41570; port++) if (modelPick(c, tuple(CLIENT_POD, VIP.web, port, 53, 'udp')).ip === LOCAL_BE) return port;
  throw new Error('no port reaches LOCAL_BE');
}

const fromN2 = (src: string, dst: string, l4: Parameters<typeof wireFrame>[2]) => ({ ...wireFrame(src, dst, l4), srcMac: MAC.n2 });

const SCENARIOS: Scenario[] = [
  {
    name: 'pod to pod, no service: into a local pod by its veth\'s peer, to a remote one out of the uplink to its node; answers alike',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(40500, 8080)),
        expect: { ...REDIRECT, src: CLIENT_POD, dst: LOCAL_BE, dport: 8080, stats: { SL_STAT_FWD_PEER: 1, SL_STAT_TRANSLATED: 0 },
          check: (out) => assert.equal([out.dstMac, out.srcMac], [MAC.localBe, MAC.host], 'to the pod\'s MAC, from the host side') } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 40500, { flags: SYN | ACK })), expect: { ...REDIRECT, dst: CLIENT_POD } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[1], udp(40501, 53)),
        expect: { ...REDIRECT, dst: REMOTE_BE[1], stats: { SL_STAT_FWD_DIRECT: 1 },
          check: (out) => assert.equal([out.dstMac, out.srcMac], [MAC.n2, MAC.node], 'to n2, from the uplink') } },
      { prog: 'sl_from_netdev', frame: fromN2(REMOTE_BE[1], CLIENT_POD, udp(53, 40501)), expect: { ...REDIRECT, src: REMOTE_BE[1], dst: CLIENT_POD } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, { proto: 'icmp', type: 8, code: 0, rest: 0x00070001 }),
        expect: { ...REDIRECT, dst: LOCAL_BE, check: (out) => assert.equal([out.l4.type, out.l4.rest], [8, 0x00070001], 'the echo request as sent') } },
    ],
  },
  {
    name: 'not pod-to-pod traffic stays the stack\'s: to the node, to the world, transit through the uplink, and a source that is not the pod behind the veth',
    steps: [
      podFrame(CLIENT_POD, NODE_IP, tcp(40510, 10250)),
      podFrame(CLIENT_POD, EXTERNAL, tcp(40511, 443)),
      podFrame('10.244.1.77', LOCAL_BE, tcp(40512, 8080)), // no pod of this node has that address
      wireFrame(EXTERNAL, REMOTE_BE[0], tcp(40513, 8080)), // for n2's pods: transit
      wireFrame(EXTERNAL, '10.244.1.99', tcp(40514, 8080)), // an address of n1's pod CIDR no pod holds
    ].map((frame, i) => ({
      prog: i < 3 ? 'sl_from_pod' as const : 'sl_from_netdev' as const, frame,
      expect: { verdict: 'TC_ACT_OK' as const, unchanged: true, stats: { SL_STAT_FWD_STACK: 0 } },
    })),
  },
  {
    name: 'from outside straight to a local pod (no service): into the pod',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, LOCAL_BE, tcp(40520, 8080)), expect: { ...REDIRECT, src: EXTERNAL, dst: LOCAL_BE, stats: { SL_STAT_FWD_PEER: 1 } } },
    ],
  },
  {
    name: 'a neighbour not resolved yet: bpf_redirect_neigh leaves the L2 addresses to the kernel, out of the uplink and into a pod\'s veth',
    steps: [
      { act: 'forget n2 and LOCAL_BE', run: (c) => {
        c.dp.forgetNeighbour(N2_IP);
        c.dp.forgetNeighbour(LOCAL_BE);
      } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40530, 80)), expect: { ...REDIRECT, dst: REMOTE_BE[0], stats: { SL_STAT_FWD_NEIGH: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(40531, 8080)), expect: { ...REDIRECT, dst: LOCAL_BE, stats: { SL_STAT_FWD_NEIGH: 2 } } },
    ],
  },
  {
    name: 'where the lookup says so, a translated packet goes to the stack, rewritten: a TTL running out, a host-network backend on this node',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40540, 80), { ttl: 1 }),
        expect: { verdict: 'TC_ACT_OK', routed: true, dst: REMOTE_BE[0], dport: 8080, stats: { SL_STAT_FWD_STACK: 1, SL_STAT_TRANSLATED: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40541, 80), { ttl: 2 }),
        expect: { ...REDIRECT, dst: REMOTE_BE[0], check: (out) => assert.is(out.ip.ttl, 1, 'one hop left') } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.hostnet, tcp(40542, 443)),
        expect: { verdict: 'TC_ACT_OK', routed: true, dst: NODE_IP, dport: 6443, stats: { SL_STAT_FWD_STACK: 2 } } },
    ],
  },
  {
    name: 'too big for the uplink\'s MTU: the stack takes the rewritten packet (it fragments, or sends fragmentation needed)',
    net: { ...NODE_NETS[NODE], uplink: { ...NODE_NETS[NODE].uplink, mtu: 1400 } },
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40550, 80, { flags: ACK, payload: new Uint8Array(1500 - 40) })),
        expect: { verdict: 'TC_ACT_OK', routed: true, dst: REMOTE_BE[0], stats: { SL_STAT_FWD_STACK: 1 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40551, 80, { flags: ACK, payload: new Uint8Array(1400 - 40) })),
        expect: { ...REDIRECT, dst: REMOTE_BE[0], stats: { SL_STAT_FWD_DIRECT: 1 } } },
    ],
  },
  {
    name: '--no-fast-path: requests and pod-to-pod traffic go to the stack; answers and SNATed requests, which it would refuse, still past it',
    config: NO_FAST_PATH,
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40560, 80)), expect: { verdict: 'TC_ACT_OK', dst: LOCAL_BE, dport: 8080 } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 40560, { flags: SYN | ACK })),
        expect: { ...REDIRECT, src: VIP.local, sport: 80, dst: CLIENT_POD } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], tcp(40561, 8080)), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50560, NODE_PORT.local)), expect: { verdict: 'TC_ACT_OK', dst: LOCAL_BE } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, EXTERNAL, tcp(8080, 50560, { flags: SYN | ACK })),
        expect: { ...REDIRECT, src: NODE_IP, dst: EXTERNAL, check: (out) => assert.is(out.dstMac, MAC.router, 'to the gateway') } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50561, NODE_PORT.remote)), expect: { ...REDIRECT, src: NODE_IP, dst: REMOTE_BE[0] } },
    ],
  },
  {
    name: '--no-fast-path: a local backend\'s ICMP error about a client\'s datagram comes from the VIP, so it goes past the stack too',
    config: NO_FAST_PATH,
    steps: [
      { prog: 'sl_from_pod', frame: (c) => podFrame(CLIENT_POD, VIP.web, udp(localPort(c), 53)), expect: { verdict: 'TC_ACT_OK', dst: LOCAL_BE } },
      { prog: 'sl_from_pod', frame: (c) => podFrame(LOCAL_BE, CLIENT_POD, { proto: 'icmp', type: 3, code: 3, payload: quoteOf(c.raw[0].subarray(ETH_HLEN)) }),
        expect: { ...REDIRECT, src: VIP.web, dst: CLIENT_POD, stats: { SL_STAT_ICMP_ERROR: 1 } } },
    ],
  },
];

const bpf = await bpfTest('forwarding past the stack');
for (const s of SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
