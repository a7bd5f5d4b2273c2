// Clients outside the cluster, through sl_from_netdev on the real kernel
// (BPF_PROG_TEST_RUN): NodePort and LoadBalancer frontends with local and
// remote backends, SNAT to the node's address and its port choice, the
// answers' way back, source ranges and externalTrafficPolicy Local. DSR is
// in dsr.test.ts.
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { flowHash, pack, snatProbe } from '../model/datapath.ts';
import { ipBytes, TCP_FLAGS } from '../../testkit/packet.ts';
import { CLIENT_POD, EXTERNAL, IN_RANGE, LOCAL_BE, MAC, NODE_IP, NODE_PORT, podFrame, REMOTE_BE, tcp, VIP, wireFrame } from './cluster.ts';
import { bpfTest } from './harness.ts';
import { closeDatapaths, ctEntry, runScenario, tuple, type Ctx, type Scenario } from './scenario.ts';

const { SYN, ACK, RST } = TCP_FLAGS;
const SNAT_MIN = 32768, SNAT_MAX = 60999;
const inSnatRange = (p: number) => p >= SNAT_MIN && p <= SNAT_MAX;
const N2_MAC = '02:00:00:00:00:22'; // node n2, where remote backends live

/** The port the datapath tries i-th when SNATing flow t (lib/snat.h, FLOW_SNAT_SEED). */
const snatPort = (t: ReturnType<typeof tuple>, i = 0) => snatProbe(flowHash(t, 0x534e4154n), i);

const CT = A.STATE_MAPS.find((m) => m.name === 'sl_ct')!;

/** Puts a reply entry on (REMOTE_BE[0]:8080 -> NODE_IP:port) into sl_ct, as another flow would hold it. */
function holdPort(c: Ctx, port: number, expires: bigint): void {
  const key = pack(CT.key, { saddr: ipBytes(REMOTE_BE[0]), daddr: ipBytes(NODE_IP), sport: 8080, dport: port, proto: 6 });
  const val = pack(CT.value, { saddr: ipBytes(NODE_IP), daddr: ipBytes('203.0.113.1'), sport: NODE_PORT.remote, dport: 1234,
    flags: A.SL_CT_REPLY | A.SL_CT_SNAT | A.SL_CT_EXTERNAL });
  new DataView(val.buffer).setBigUint64(0, expires, true);
  c.dp.update('sl_ct', key, val);
}

const now = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns
const remoteFlow = tuple(EXTERNAL, NODE_IP, 50040, NODE_PORT.remote);
const crowdedFlow = tuple(EXTERNAL, NODE_IP, 50041, NODE_PORT.remote); // one whose probes are held

const SCENARIOS: Scenario[] = [
  {
    name: 'NodePort, local backend: DNAT only, the client\'s address reaches the pod; its answer is restored',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50010, NODE_PORT.local)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, sport: 50010, dst: LOCAL_BE, dport: 8080, stats: { SL_STAT_TRANSLATED: 1 },
          check: (_o, c) => assert.is(ctEntry(c, tuple(EXTERNAL, NODE_IP, 50010, NODE_PORT.local))!.flags, A.SL_CT_EXTERNAL) } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, EXTERNAL, tcp(8080, 50010, { flags: SYN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, sport: NODE_PORT.local, dst: EXTERNAL, dport: 50010 } },
    ],
  },
  {
    name: 'NodePort, remote backend: DNAT + SNAT to node_ip from 32768-60999; the answer goes back out to the client\'s hop',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50020, NODE_PORT.remote)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, sport: inSnatRange, dst: REMOTE_BE[0], dport: 8080,
          check: (out, c) => {
            const e = ctEntry(c, tuple(EXTERNAL, NODE_IP, 50020, NODE_PORT.remote))!;
            assert.equal([e.flags, e.sport], [A.SL_CT_EXTERNAL | A.SL_CT_SNAT, out.l4.sport]);
            const r = ctEntry(c, tuple(REMOTE_BE[0], NODE_IP, 8080, out.l4.sport!))!;
            assert.equal([r.saddr, r.sport, r.daddr, r.dport, r.peerMac], [NODE_IP, NODE_PORT.remote, EXTERNAL, 50020, MAC.router]);
          } } },
      { prog: 'sl_from_netdev',
        frame: (c) => ({ srcMac: N2_MAC, dstMac: MAC.node, ip: { src: REMOTE_BE[0], dst: NODE_IP, l4: tcp(8080, c.outs[0].l4.sport!, { flags: SYN | ACK }) } }),
        expect: { verdict: 'TC_ACT_REDIRECT', src: NODE_IP, sport: NODE_PORT.remote, dst: EXTERNAL, dport: 50020, stats: { SL_STAT_CT_HIT: 1 },
          check: (out) => assert.equal([out.dstMac, out.srcMac, out.ip.ttl], [MAC.router, MAC.node, 63], 'to the client\'s hop, from us, one hop on') } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50020, NODE_PORT.remote, { flags: ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, dst: REMOTE_BE[0], check: (out, c) => assert.is(out.l4.sport, c.outs[0].l4.sport, 'same port') } },
    ],
  },
  {
    name: 'SNAT port: a taken port is skipped for the next probe, an expired holder is taken over, all 32 probes taken drops as SL_DROP_NAT_PORTS',
    steps: [
      { act: 'hold the first port, live', run: (c) => holdPort(c, snatPort(remoteFlow), now() + 3_600_000_000_000n) },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(remoteFlow.sport, remoteFlow.dport)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP, sport: snatPort(remoteFlow, 1) } },
      { act: 'forget that flow; hold the first port with an expired entry', run: (c) => {
        c.dp.clearState();
        holdPort(c, snatPort(remoteFlow), 1n);
      } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(remoteFlow.sport, remoteFlow.dport)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, sport: snatPort(remoteFlow) } },
      { act: 'hold 31 of the 32 ports a new flow may try, all but the last', run: (c) => {
        for (let i = 0; i < 31; i++) holdPort(c, snatPort(crowdedFlow, i), now() + 3_600_000_000_000n);
      } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(crowdedFlow.sport, crowdedFlow.dport)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, sport: snatPort(crowdedFlow, 31) } },
      { act: 'forget that flow; hold all 32', run: (c) => {
        c.dp.clearState();
        for (let i = 0; i < 32; i++) holdPort(c, snatPort(crowdedFlow, i), now() + 3_600_000_000_000n);
      } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(crowdedFlow.sport, crowdedFlow.dport)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_NAT_PORTS: 1 } } },
    ],
  },
  {
    name: 'loadBalancerSourceRanges: a client inside passes, one outside is dropped; the NodePort has no ranges',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(IN_RANGE, VIP.lb, tcp(50060, 443)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0], dport: 8443 } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, VIP.lb, tcp(50061, 443)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_SRC_RANGE: 1, SL_STAT_TRANSLATED: 1 } } },
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50062, NODE_PORT.lb)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0], dport: 8443, stats: { SL_DROP_SRC_RANGE: 1, SL_STAT_TRANSLATED: 2 } } },
    ],
  },
  {
    name: 'externalTrafficPolicy Local without a local endpoint: outside clients get a RST, pods the cluster-wide backend',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50070, NODE_PORT.etp)),
        expect: { verdict: 'TC_ACT_REDIRECT', src: NODE_IP, sport: NODE_PORT.etp, dst: EXTERNAL, dport: 50070, stats: { SL_STAT_REJECTED: 1 },
          check: (out) => {
            assert.is(out.l4.flags, RST | ACK);
            assert.equal([out.dstMac, out.srcMac], [MAC.router, MAC.node], 'back out to the router');
          } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, NODE_IP, tcp(40080, NODE_PORT.etp)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: CLIENT_POD, dst: REMOTE_BE[1], dport: 8080 } },
    ],
  },
  {
    name: 'from outside, non-service traffic for the node passes untouched',
    steps: [
      wireFrame(EXTERNAL, NODE_IP, tcp(50080, 22)),
      wireFrame(EXTERNAL, NODE_IP, { proto: 'icmp', type: 8, code: 0 }),
    ].map((frame) => ({ prog: 'sl_from_netdev' as const, frame, expect: { verdict: 'TC_ACT_OK' as const, unchanged: true } })),
  },
];

const bpf = await bpfTest();
for (const s of SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
