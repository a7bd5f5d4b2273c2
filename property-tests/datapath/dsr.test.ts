// Direct Server Return (sl_cfg.flags SL_CFG_DSR) on the real kernel
// (BPF_PROG_TEST_RUN). The frontend's node (n1) DNATs an external client's
// packet to a backend on n2 without SNAT and puts the frontend into the DSR
// option; n2 takes the option off, tracks the flow from it, and gives the
// backend's answers the frontend as their source. Without the flag nothing
// of it happens. The MTU cases run on n1 with a 1400-byte MTU on its uplink.
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { buildFrame, ipBytes, parseFrame, quoteOf, TCP_FLAGS, type Frame, type Icmp, type L4, type Parsed } from '../../testkit/packet.ts';
import { EXTERNAL, IN_RANGE, LOCAL_BE, MAC, N2_IP, NODE, NODE_IP, NODE_NETS, NODE_PORT, OBJECTS, REMOTE_BE, tcp, udp, VIP, wireFrame } from './cluster.ts';
import { bpfTest, Datapath, ETH_HLEN, TC_ACT } from './harness.ts';
import { closeDatapaths, ctEntry, runScenario, tuple, type Ctx, type Scenario } from './scenario.ts';

const { SYN, ACK, RST, FIN, PSH } = TCP_FLAGS;
const { SL_CT_EXTERNAL: EXT, SL_CT_REPLY: REPLY, SL_CT_SNAT: SNAT, SL_CT_DSR: DSR, SL_CT_DSR_BACKEND: DSR_BE } = A;
const DSR_ON = { flags: A.SL_CFG_DSR };
const N2 = { node: 'n2', config: { flags: A.SL_CFG_DSR, nodeIp: ipBytes(N2_IP) } };

/** The DSR option as it goes on the wire (struct dsr_opt). */
function dsrOpt(vip: string, port: number, type = A.SL_DSR_OPT_TYPE, len = A.SL_DSR_OPT_LEN): Uint8Array {
  return Uint8Array.from([type, len, port >> 8, port & 255, ...ipBytes(vip)]);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The frame must be byte for byte the one buildFrame makes of f. */
const sameFrame = (raw: Uint8Array, f: Frame, what: string) => assert.is(hex(raw), hex(buildFrame(f)), what);

/** The packet carries exactly the DSR option for (vip, port), first, and tot_len grew by 8. */
function carries(out: Parsed, sent: Uint8Array, vip: string, port: number): void {
  assert.is(hex(out.ip.header.subarray(20, 28)), hex(dsrOpt(vip, port)), 'the DSR option, first after the fixed header');
  assert.is(out.ip.totLen, parseFrame(sent).ip.totLen + 8, 'tot_len + 8');
}

const noOption = (out: Parsed) => assert.is(out.ip.ihl, 20, 'no option');

/** A frame n1 forwarded to n2 (the client's packet after n1's DNAT), options as given. */
const fromN1 = (src: string, dst: string, l4: L4, options?: Uint8Array): Frame =>
  ({ srcMac: MAC.node, dstMac: MAC.n2, ip: { src, dst, l4, ...(options ? { options } : {}) } });

/** The L2 addresses of a frame n2 forwards into a pod of its own. */
const toPod = (mac: string) => ({ srcMac: MAC.host, dstMac: mac });

/** A frame a pod on n2 sends. */
const n2PodFrame = (src: string, dst: string, l4: L4): Frame => ({ srcMac: MAC.pod, dstMac: MAC.host, ip: { src, dst, l4 } });

/** The entries of a flow, as [flags, state] of the client entry and of the reply entry. */
function flowEntries(c: Ctx, client: ReturnType<typeof tuple>, reply: ReturnType<typeof tuple>) {
  const e = ctEntry(c, client), r = ctEntry(c, reply);
  assert.ok(e && r, `entries of ${JSON.stringify(client)}`);
  return { e: e!, r: r! };
}

const error = (type: number, code: number, frame: Uint8Array): Icmp =>
  ({ proto: 'icmp', type, code, payload: quoteOf(frame.subarray(ETH_HLEN)) });

const web = tuple(EXTERNAL, NODE_IP, 50100, NODE_PORT.remote);

const FRONTEND: Scenario[] = [
  {
    name: 'frontend\'s node, NodePort to a remote backend: DNAT only (the client\'s address kept), the frontend in the option, checksums valid',
    config: DSR_ON,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50100, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, sport: 50100, dst: REMOTE_BE[0], dport: 8080,
          stats: { SL_STAT_TRANSLATED: 1, SL_STAT_DSR_SENT: 1, SL_STAT_DSR_NO_ROOM: 0 },
          check: (out, c) => {
            carries(out, c.sent[0], NODE_IP, NODE_PORT.remote);
            sameFrame(c.raw[0], { srcMac: MAC.node, dstMac: MAC.n2,
              ip: { src: EXTERNAL, dst: REMOTE_BE[0], l4: tcp(50100, 8080), options: dsrOpt(NODE_IP, NODE_PORT.remote), ttl: 63 } },
            'the client\'s SYN, DNATed, with the option, forwarded to n2: nothing else changed');
            const { e, r } = flowEntries(c, web, tuple(REMOTE_BE[0], EXTERNAL, 8080, 50100));
            assert.equal([e.saddr, e.daddr, e.sport, e.dport, e.flags], [EXTERNAL, REMOTE_BE[0], 50100, 8080, EXT | DSR], 'client entry: no SNAT');
            assert.equal([r.saddr, r.sport, r.daddr, r.dport, r.flags], [NODE_IP, NODE_PORT.remote, EXTERNAL, 50100, REPLY | EXT | DSR], 'reply entry');
          } } },
    ],
  },
  {
    name: 'frontend\'s node, TCP: a retransmitted SYN carries the option again; the client\'s handshake ACK establishes the flow here, and it and later segments go without',
    config: DSR_ON,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50100, NODE_PORT.remote)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0] } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50100, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0], dport: 8080, stats: { SL_STAT_DSR_SENT: 2, SL_STAT_CT_HIT: 1 },
          check: (out, c) => carries(out, c.sent[1], NODE_IP, NODE_PORT.remote) } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50100, NODE_PORT.remote, { flags: ACK, seq: 1001, ack: 5001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[0], dport: 8080, stats: { SL_STAT_DSR_SENT: 2 },
          check: (out, c) => {
            noOption(out);
            assert.is(ctEntry(c, web)!.state, A.SL_CT_ESTABLISHED, 'established on the client\'s ACK: the answers bypass this node');
          } } },
      { prog: 'sl_from_netdev',
        frame: wireFrame(EXTERNAL, NODE_IP, tcp(50100, NODE_PORT.remote, { flags: PSH | ACK, seq: 1001, ack: 5001, payload: new TextEncoder().encode('GET /') })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0], stats: { SL_STAT_DSR_SENT: 2, SL_STAT_CT_HIT: 3 }, check: noOption } },
    ],
  },
  {
    name: 'frontend\'s node, UDP: every datagram carries the option (nothing here shows that the backend\'s node tracks the flow)',
    config: DSR_ON,
    steps: [1, 2, 3].map((n) => ({
      prog: 'sl_from_netdev' as const, frame: wireFrame(EXTERNAL, NODE_IP, udp(50110, NODE_PORT.udpRemote)),
      expect: { verdict: 'TC_ACT_REDIRECT' as const, routed: true, src: EXTERNAL, sport: 50110, dst: REMOTE_BE[1], dport: 5353, stats: { SL_STAT_DSR_SENT: n },
        check: (out: Parsed, c: Ctx) => carries(out, c.sent[n - 1], NODE_IP, NODE_PORT.udpRemote) },
    })),
  },
  {
    name: 'frontend\'s node, LoadBalancer IP: the option names the LoadBalancer IP and service port',
    config: DSR_ON,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(IN_RANGE, VIP.lb, tcp(50120, 443)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: IN_RANGE, dst: REMOTE_BE[0], dport: 8443, check: (out, c) => carries(out, c.sent[0], VIP.lb, 443) } },
    ],
  },
  {
    name: 'frontend\'s node, kept as without DSR: a local backend (DNAT only, no option) and a ClusterIP reached from outside (SNAT)',
    config: DSR_ON,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50130, NODE_PORT.local)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: LOCAL_BE, check: (out, c) => {
          noOption(out);
          assert.is(ctEntry(c, tuple(EXTERNAL, NODE_IP, 50130, NODE_PORT.local))!.flags, EXT);
        } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, VIP.remote, tcp(50131, 80)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[0], stats: { SL_STAT_DSR_SENT: 0 }, check: (out, c) => {
          noOption(out);
          assert.is(ctEntry(c, tuple(EXTERNAL, VIP.remote, 50131, 80))!.flags, EXT | SNAT);
        } } },
    ],
  },
  {
    name: 'frontend\'s node, a client\'s own options: the DSR option goes first, theirs follow; with no room left in 60 bytes the flow is SNATed',
    config: DSR_ON,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50140, NODE_PORT.remote), { options: new Uint8Array(32).fill(1) }),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[0], check: (out, c) => {
          carries(out, c.sent[0], NODE_IP, NODE_PORT.remote);
          assert.is(out.ip.ihl, 60, 'the longest header there is');
          assert.is(hex(out.ip.header.subarray(28)), hex(new Uint8Array(32).fill(1)), 'the client\'s NOPs after it');
        } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50141, NODE_PORT.remote), { options: new Uint8Array(36).fill(1) }),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[0], stats: { SL_STAT_DSR_SENT: 1, SL_STAT_DSR_NO_ROOM: 1 },
          check: (out, c) => {
            assert.is(out.ip.ihl, 56, 'header as it came');
            assert.is(ctEntry(c, tuple(EXTERNAL, NODE_IP, 50141, NODE_PORT.remote))!.flags, EXT | SNAT);
          } } },
    ],
  },
  {
    name: 'frontend\'s node without the flag: nothing changes (SNAT to the node, no option)',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50150, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[0], stats: { SL_STAT_DSR_SENT: 0, SL_STAT_DSR_NO_ROOM: 0 }, check: (out, c) => {
          noOption(out);
          assert.is(ctEntry(c, tuple(EXTERNAL, NODE_IP, 50150, NODE_PORT.remote))!.flags, EXT | SNAT);
        } } },
    ],
  },
];

const beFlow = (sport: number, be = REMOTE_BE[0], port = 8080, proto: 'tcp' | 'udp' = 'tcp') =>
  ({ client: tuple(EXTERNAL, be, sport, port, proto), reply: tuple(be, EXTERNAL, port, sport, proto) });

const BACKEND: Scenario[] = [
  {
    name: 'backend\'s node, TCP: the option is taken off (the pod gets the packet as without DSR), the flow tracked from it; the pod\'s answer leaves from the frontend to the client',
    ...N2,
    steps: [
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50200, 8080), dsrOpt(NODE_IP, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, sport: 50200, dst: REMOTE_BE[0], dport: 8080,
          stats: { SL_STAT_DSR_RECEIVED: 1, SL_STAT_CT_HIT: 1, SL_STAT_TRANSLATED: 0 },
          check: (_o, c) => {
            sameFrame(c.raw[0], { ...toPod(MAC.remoteBe[0]), ip: { src: EXTERNAL, dst: REMOTE_BE[0], l4: tcp(50200, 8080), ttl: 63 } },
              'the frame as without the option, checksum and all, forwarded into the pod');
            const { e, r } = flowEntries(c, beFlow(50200).client, beFlow(50200).reply);
            assert.equal([e.saddr, e.daddr, e.sport, e.dport, e.flags, e.state], [EXTERNAL, REMOTE_BE[0], 50200, 8080, EXT | DSR_BE, A.SL_CT_NEW],
              'client entry: rewrites nothing');
            assert.equal([r.saddr, r.sport, r.daddr, r.dport, r.flags], [NODE_IP, NODE_PORT.remote, EXTERNAL, 50200, REPLY | EXT | DSR_BE],
              'reply entry: back to the frontend');
          } } },
      { prog: 'sl_to_pod', frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50200, 8080)), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_from_pod', frame: n2PodFrame(REMOTE_BE[0], EXTERNAL, tcp(8080, 50200, { flags: SYN | ACK, seq: 5000, ack: 1001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, sport: NODE_PORT.remote, dst: EXTERNAL, dport: 50200, stats: { SL_STAT_CT_HIT: 2 },
          check: (_o, c) => {
            const { e, r } = flowEntries(c, beFlow(50200).client, beFlow(50200).reply);
            assert.equal([e.state, r.state], [A.SL_CT_ESTABLISHED, A.SL_CT_ESTABLISHED], 'both entries: the pair is found from the reply side');
          } } },
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50200, 8080, { flags: ACK, seq: 1001, ack: 5001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[0], check: noOption, stats: { SL_STAT_CT_HIT: 3, SL_STAT_DSR_RECEIVED: 1 } } },
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50200, 8080, { flags: FIN | ACK, seq: 1001, ack: 5001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[0], check: noOption } },
      { prog: 'sl_from_pod', frame: n2PodFrame(REMOTE_BE[0], EXTERNAL, tcp(8080, 50200, { flags: FIN | ACK, seq: 5001, ack: 1002 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, sport: NODE_PORT.remote, check: (_o, c) => {
          const { e, r } = flowEntries(c, beFlow(50200).client, beFlow(50200).reply);
          assert.equal([e.state, r.state], [A.SL_CT_CLOSED, A.SL_CT_CLOSED], 'both FINs seen');
        } } },
      // a new connection on the closed tuple
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50200, 8080, { seq: 9000 }), dsrOpt(NODE_IP, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (out, c) => {
          noOption(out);
          const { e, r } = flowEntries(c, beFlow(50200).client, beFlow(50200).reply);
          assert.equal([e.state, r.state], [A.SL_CT_NEW, A.SL_CT_NEW], 'a SYN starts afresh');
        } } },
    ],
  },
  {
    name: 'backend\'s node, UDP: a datagram whose flow is tracked for its frontend changes no entry; another frontend on the tuple takes it over',
    ...N2,
    steps: [
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[1], udp(50210, 5353), dsrOpt(NODE_IP, NODE_PORT.udpRemote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[1], check: (out) => noOption(out) } },
      { prog: 'sl_from_pod', frame: n2PodFrame(REMOTE_BE[1], EXTERNAL, udp(5353, 50210)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, sport: NODE_PORT.udpRemote, dst: EXTERNAL, dport: 50210 } },
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[1], udp(50210, 5353), dsrOpt(NODE_IP, NODE_PORT.udpRemote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_STAT_DSR_RECEIVED: 2 }, check: (_o, c) => {
          const f = beFlow(50210, REMOTE_BE[1], 5353, 'udp');
          assert.is(flowEntries(c, f.client, f.reply).r.state, A.SL_CT_ESTABLISHED, 'not made afresh');
        } } },
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[1], udp(50210, 5353), dsrOpt('203.0.113.99', 53)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (_o, c) => {
          const f = beFlow(50210, REMOTE_BE[1], 5353, 'udp');
          const { r } = flowEntries(c, f.client, f.reply);
          assert.equal([r.saddr, r.sport, r.state], ['203.0.113.99', 53, A.SL_CT_NEW]);
        } } },
      { prog: 'sl_from_pod', frame: n2PodFrame(REMOTE_BE[1], EXTERNAL, udp(5353, 50210)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: '203.0.113.99', sport: 53, dst: EXTERNAL, dport: 50210 } },
    ],
  },
  {
    name: 'backend\'s node: the pod\'s ICMP error about the client\'s datagram leaves from the frontend, quoting the client\'s own packet',
    ...N2,
    steps: [
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[1], udp(50220, 5353), dsrOpt(NODE_IP, NODE_PORT.udpRemote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: (c) => n2PodFrame(REMOTE_BE[1], EXTERNAL, error(3, 3, c.raw[0])),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: EXTERNAL, stats: { SL_STAT_ICMP_ERROR: 1 }, check: (out) => {
          assert.ok(out.inner?.ip.checksumOk, 'quoted header valid');
          assert.equal([out.inner!.ip.src, out.inner!.sport, out.inner!.ip.dst, out.inner!.dport], [EXTERNAL, 50220, NODE_IP, NODE_PORT.udpRemote]);
        } } },
    ],
  },
  {
    name: 'backend\'s node: an option not first, or not ours (its length wrong), is left alone: the packet goes on to the pod as it came',
    ...N2,
    steps: [
      Uint8Array.from([0x94, 4, 0, 0, ...dsrOpt(NODE_IP, NODE_PORT.remote)]), // router alert first
      Uint8Array.from([...dsrOpt(NODE_IP, NODE_PORT.remote, A.SL_DSR_OPT_TYPE, 6).subarray(0, 6), 0, 0]),
      dsrOpt(NODE_IP, NODE_PORT.remote, 0x9a), // Cilium's type
    ].map((options, i) => ({
      prog: 'sl_from_netdev' as const, frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50230 + i, 8080), options),
      expect: { verdict: 'TC_ACT_REDIRECT' as const, routed: true, stats: { SL_STAT_DSR_RECEIVED: 0 },
        check: (out: Parsed, c: Ctx) => {
          assert.is(hex(out.ip.header.subarray(20)), hex(options), 'the options as they came');
          assert.equal(c.dp.ct(), [], 'nothing tracked');
        } },
    })),
  },
  {
    name: 'backend\'s node without the flag: the option is not read, the packet passes as it came',
    node: 'n2', config: { nodeIp: ipBytes(N2_IP) },
    steps: [
      { prog: 'sl_from_netdev', frame: fromN1(EXTERNAL, REMOTE_BE[0], tcp(50240, 8080), dsrOpt(NODE_IP, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_STAT_DSR_RECEIVED: 0 },
          check: (out, c) => {
            assert.is(hex(out.ip.header.subarray(20)), hex(dsrOpt(NODE_IP, NODE_PORT.remote)), 'the option as it came');
            assert.equal(c.dp.ct(), [], 'nothing tracked');
          } } },
    ],
  },
];

// The same flow through both nodes' programs, each output the next input.
function bothNodes(): void {
  const a = new Datapath({ objects: OBJECTS, node: NODE, net: NODE_NETS[NODE], config: DSR_ON });
  let b: Datapath | undefined;
  try {
    b = new Datapath({ objects: OBJECTS, ...N2, net: NODE_NETS.n2 });
    const syn = a.run('sl_from_netdev', buildFrame(wireFrame(EXTERNAL, NODE_IP, tcp(50300, NODE_PORT.remote))));
    const atB = b.run('sl_from_netdev', syn.frame);
    assert.equal([syn.verdict, atB.verdict], [TC_ACT.REDIRECT, TC_ACT.REDIRECT], 'each node forwards past its stack');
    sameFrame(atB.frame, { ...toPod(MAC.remoteBe[0]), ip: { src: EXTERNAL, dst: REMOTE_BE[0], l4: tcp(50300, 8080), ttl: 62 } },
      'what the pod gets: the client\'s SYN, DNATed by n1, without the option, two hops on');
    const answer = b.run('sl_from_pod', buildFrame(n2PodFrame(REMOTE_BE[0], EXTERNAL, tcp(8080, 50300, { flags: SYN | ACK, seq: 7000, ack: 1001 }))));
    const out = parseFrame(answer.frame);
    assert.equal([answer.verdict, out.ip.src, out.l4.sport, out.ip.dst, out.l4.dport, out.dstMac], [TC_ACT.REDIRECT, NODE_IP, NODE_PORT.remote, EXTERNAL, 50300, MAC.router],
      'n2 answers the client from the frontend, by its gateway');
    assert.ok(out.ip.checksumOk && out.l4.checksumOk, 'checksums');
    const ack = a.run('sl_from_netdev', buildFrame(wireFrame(EXTERNAL, NODE_IP, tcp(50300, NODE_PORT.remote, { flags: ACK, seq: 1001, ack: 7001 }))));
    const ackOut = parseFrame(ack.frame);
    assert.equal([ackOut.ip.ihl, ackOut.ip.dst], [20, REMOTE_BE[0]], 'the ACK: same backend, no option');
    const ackAtB = b.run('sl_from_netdev', ack.frame);
    const ackIn = parseFrame(ackAtB.frame);
    assert.equal([ackAtB.verdict, ackIn.ip.src, ackIn.ip.dst, ackIn.l4.dport, ackIn.ip.ihl, ackIn.dstMac], [TC_ACT.REDIRECT, EXTERNAL, REMOTE_BE[0], 8080, 20, MAC.remoteBe[0]],
      'n2 knows the flow: the ACK goes on to the pod as it came');
    const states = (dp: Datapath) => dp.ct().map((e) => e.state);
    assert.equal([states(a), states(b)], [[A.SL_CT_ESTABLISHED, A.SL_CT_ESTABLISHED], [A.SL_CT_ESTABLISHED, A.SL_CT_ESTABLISHED]]);
    const rst = b.run('sl_from_pod', buildFrame(n2PodFrame(REMOTE_BE[0], EXTERNAL, tcp(8080, 50300, { flags: RST, seq: 7001 }))));
    assert.is(parseFrame(rst.frame).ip.src, NODE_IP, 'a RST leaves from the frontend too');
  } finally {
    b?.close();
    a.close();
  }
}

// n1 with a 1400-byte MTU on its uplink, the device the client's packets
// come in by and leave by: bpf_check_mtu reads it, and so does the route
// lookup's check of the packet.
const MTU = 1400;
const MTU_NET = { ...NODE_NETS[NODE], uplink: { ...NODE_NETS[NODE].uplink, mtu: MTU } };

/** A UDP datagram from the client whose IP packet is len bytes. */
const udpOfLen = (sport: number, len: number) => udp(sport, NODE_PORT.udpRemote, new Uint8Array(len - 28).fill(0x61));

const MTU_SCENARIOS: Scenario[] = [
  {
    name: `MTU ${MTU}: a datagram the option just fits carries it; one it would push past the MTU goes without (its flow is tracked there already)`,
    config: DSR_ON, net: MTU_NET,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, udpOfLen(50400, MTU - 8)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[1], check: (out, c) => {
          carries(out, c.sent[0], NODE_IP, NODE_PORT.udpRemote);
          assert.is(out.ip.totLen, MTU);
        } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, udpOfLen(50400, MTU - 7)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, dst: REMOTE_BE[1], dport: 5353, stats: { SL_STAT_DSR_SENT: 1, SL_STAT_DSR_NO_ROOM: 1 },
          check: noOption } },
    ],
  },
  {
    name: `MTU ${MTU}: a new flow whose first packet the option would push past the MTU is SNATed instead`,
    config: DSR_ON, net: MTU_NET,
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, udpOfLen(50410, MTU)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[1], stats: { SL_STAT_DSR_SENT: 0, SL_STAT_DSR_NO_ROOM: 1 }, check: (out, c) => {
          noOption(out);
          assert.is(ctEntry(c, tuple(EXTERNAL, NODE_IP, 50410, NODE_PORT.udpRemote, 'udp'))!.flags, EXT | SNAT);
        } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50411, NODE_PORT.remote, { payload: new Uint8Array(MTU - 40 - 7) })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[0], stats: { SL_STAT_DSR_NO_ROOM: 2 }, check: noOption } },
    ],
  },
];

const bpf = await bpfTest('DSR');
for (const s of [...FRONTEND, ...BACKEND]) bpf(s.name, () => runScenario(s));
bpf('both nodes in turn: n1\'s frame is what n2 takes, the pod\'s answer leaves n2 from the frontend, later packets go without the option', bothNodes);
for (const s of MTU_SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
