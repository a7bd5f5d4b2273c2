// In-cluster clients of ClusterIP services, through sl_from_pod and
// sl_to_pod on the real kernel (BPF_PROG_TEST_RUN): DNAT, replies, the
// conntrack fast path, affinity, rejects, hairpin, repicks, and what must
// pass untouched or be dropped.
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf } from '../../runtime/streams/recordsOf.ts';
import { layoutOf } from '../../runtime/maps/store.ts';
import { pack } from '../model/datapath.ts';
import { buildFrame, ipBytes, ipText, quoteOf, TCP_FLAGS } from '../../testkit/packet.ts';
import { CLIENT_POD, HAIRPIN_IP, LOCAL_BE, MAC, movingSlice, podFrame, REMOTE_BE, tcp, udp, VIP } from './cluster.ts';
import { bpfTest, TC_ACT } from './harness.ts';
import { backendIps, closeDatapaths, ctEntry, modelPick, runScenario, serviceOf, tuple, type Ctx, type Scenario } from './scenario.ts';

const { SYN, ACK, RST, PSH } = TCP_FLAGS;
const web80 = tuple(CLIENT_POD, VIP.web, 40000, 80);
const BACKENDS = [...REMOTE_BE, LOCAL_BE];

/** The program that sees a backend's answer: local backends send through sl_from_pod. */
const replyProg = (be: string) => (be === LOCAL_BE ? 'sl_from_pod' as const : 'sl_to_pod' as const);

/** Sends n flows from one client (source ports 41000..) and returns their backends. */
function backendsOfFlows(c: Ctx, vip: string, n: number): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = c.dp.run('sl_from_pod', buildFrame(podFrame(CLIENT_POD, vip, tcp(41000 + i, 80))));
    assert.is(r.verdict, TC_ACT.REDIRECT);
    seen.add(ipText(r.frame.subarray(30, 34)));
  }
  return seen;
}

/** A client port whose TCP flow to `moving` the model sends to backend be. */
function sameBackendPort(c: Ctx, be: string): number {
  for (let port = 40051; port < 41000; port++) if (modelPick(c, tuple(CLIENT_POD, VIP.moving, port, 53)).ip === be) return port;
  throw new Error(`no port reaches ${be}`);
}

const SCENARIOS: Scenario[] = [
  {
    name: 'ClusterIP TCP: DNAT to one of its backends, the one the model picks, checksums valid',
    steps: [{
      prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, tcp(40000, 80)),
      expect: {
        verdict: 'TC_ACT_REDIRECT', routed: true, src: CLIENT_POD, sport: 40000, dst: BACKENDS, dport: 8080, stats: { SL_STAT_TRANSLATED: 1 },
        check: (out, c) => {
          assert.equal(backendIps(c, web80).sort(), [...BACKENDS].sort(), 'compiler and model agree on the backends');
          assert.is(out.ip.dst, modelPick(c, web80).ip, 'kernel and model pick the same backend');
          const e = ctEntry(c, web80)!;
          assert.equal([e.daddr, e.dport, e.state, e.flags], [out.ip.dst, 8080, A.SL_CT_NEW, 0], 'client entry');
          const r = ctEntry(c, tuple(out.ip.dst, CLIENT_POD, 8080, 40000))!;
          assert.equal([r.saddr, r.sport, r.daddr, r.dport, r.flags], [VIP.web, 80, CLIENT_POD, 40000, A.SL_CT_REPLY], 'reply entry');
        },
      },
    }],
  },
  {
    name: 'ClusterIP UDP: DNAT with a valid checksum; a datagram without checksum keeps none',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, udp(40001, 53)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: CLIENT_POD, sport: 40001, dst: BACKENDS, dport: 5353,
          check: (out) => assert.ok(out.l4.checksum !== 0, 'checksum kept') } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, { ...udp(40002, 53), noChecksum: true }),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: BACKENDS, dport: 5353, stats: { SL_STAT_TRANSLATED: 2 },
          check: (out) => assert.is(out.l4.checksum, 0, 'UDP checksum 0 stays 0') } },
    ],
  },
  {
    name: 'reply from a remote backend (sl_to_pod) comes from the VIP again; the flow is established',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40010, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0], dport: 8080 } },
      { prog: 'sl_to_pod', frame: podFrame(REMOTE_BE[0], CLIENT_POD, tcp(8080, 40010, { flags: SYN | ACK, ack: 1001 })),
        expect: { verdict: 'TC_ACT_OK', src: VIP.remote, sport: 80, dst: CLIENT_POD, dport: 40010, stats: { SL_STAT_CT_HIT: 1 },
          check: (_o, c) => {
            const t = tuple(CLIENT_POD, VIP.remote, 40010, 80);
            assert.is(ctEntry(c, t)!.state, A.SL_CT_ESTABLISHED, 'client entry');
            assert.is(ctEntry(c, tuple(REMOTE_BE[0], CLIENT_POD, 8080, 40010))!.state, A.SL_CT_ESTABLISHED, 'reply entry');
          } } },
    ],
  },
  {
    name: 'reply from a local backend (sl_from_pod) comes from the VIP again',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40011, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE, dport: 8080 } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 40011, { flags: SYN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: VIP.local, sport: 80, dst: CLIENT_POD, dport: 40011 } },
    ],
  },
  {
    name: 'conntrack fast path: the next packet takes the same backend; the deadline moves only on a state change',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, tcp(40000, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: BACKENDS } },
      { act: 'remember the deadline', run: (c) => { c.memo.expires = ctEntry(c, web80)!.expires; } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, tcp(40000, 80, { flags: ACK, seq: 1001, payload: new Uint8Array(100) })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: CLIENT_POD, dport: 8080, stats: { SL_STAT_TRANSLATED: 1, SL_STAT_CT_HIT: 1 },
          check: (out, c) => {
            assert.is(out.ip.dst, c.outs[0].ip.dst, 'same backend');
            assert.is(out.l4.payload.length, 100, 'payload kept');
            assert.is(ctEntry(c, web80)!.expires, c.memo.expires, 'no write within a second');
            assert.is(c.dp.ct().length, 2, 'one flow, two entries');
          } } },
      { prog: (c) => replyProg(c.outs[0].ip.dst),
        frame: (c) => podFrame(c.outs[0].ip.dst, CLIENT_POD, tcp(8080, 40000, { flags: SYN | ACK })),
        expect: (c) => ({ ...(c.outs[0].ip.dst === LOCAL_BE ? { verdict: 'TC_ACT_REDIRECT', routed: true } : { verdict: 'TC_ACT_OK' }), src: VIP.web, sport: 80,
          check: (_o, c) => {
            const e = ctEntry(c, web80)!;
            assert.is(e.state, A.SL_CT_ESTABLISHED);
            const left = Number(e.expires - process.hrtime.bigint()) / 1e9;
            assert.ok(left > 3500 && left <= 3600, `established lifetime, ${left} s left`);
          } }) },
    ],
  },
  {
    name: 'a backend missing from sl_be for a moment (the applier mid-update): the next slots are probed; none at all drops',
    steps: [
      { act: 'delete the backend the model picks for the flow', run: (c) => {
        const be = modelPick(c, web80);
        c.memo.gone = be.ip;
        assert.ok(c.dp.delete('sl_be', pack(layoutOf('sl_be').key, { bset: serviceOf(c, web80).bset, id: be.id })));
      } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.web, tcp(40000, 80)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: BACKENDS, check: (out, c) => {
          assert.not.equal(out.ip.dst, c.memo.gone, 'not the missing one');
          assert.is(out.ip.dst, modelPick(c, web80).ip, 'the slot the model probes to');
        } } },
      { act: 'delete the only backend of `local`', run: (c) => {
        const t = tuple(CLIENT_POD, VIP.local, 40001, 80);
        assert.ok(c.dp.delete('sl_be', pack(layoutOf('sl_be').key, { bset: serviceOf(c, t).bset, id: modelPick(c, t).id })));
      } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40001, 80)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_NO_BACKEND: 1, SL_STAT_TRANSLATED: 1 } } },
    ],
  },
  {
    name: 'TCP FIN from both sides closes the flow; a RST closes it at once',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40012, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40012, 80, { flags: TCP_FLAGS.FIN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (_o, c) => assert.is(ctEntry(c, tuple(CLIENT_POD, VIP.local, 40012, 80))!.state, A.SL_CT_CLOSING) } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 40012, { flags: TCP_FLAGS.FIN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: VIP.local, check: (_o, c) => {
          assert.is(ctEntry(c, tuple(CLIENT_POD, VIP.local, 40012, 80))!.state, A.SL_CT_CLOSED);
          assert.is(ctEntry(c, tuple(LOCAL_BE, CLIENT_POD, 8080, 40012))!.state, A.SL_CT_CLOSED);
        } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40013, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40013, 80, { flags: RST })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (_o, c) => assert.is(ctEntry(c, tuple(CLIENT_POD, VIP.local, 40013, 80))!.state, A.SL_CT_CLOSED) } },
    ],
  },
  {
    name: 'a closed flow\'s reply entry does not rewrite the handshake of a new connection on its tuple (client straight to the pod IP)',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40014, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(40014, 80, { flags: RST })), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(40014, 8080)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE, dport: 8080 } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 40014, { flags: SYN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: LOCAL_BE, sport: 8080,
          check: (_o, c) => assert.is(ctEntry(c, tuple(LOCAL_BE, CLIENT_POD, 8080, 40014)), undefined, 'the stale pair is gone') } },
    ],
  },
  {
    name: 'sessionAffinity ClientIP: every flow of one client goes to one backend; without affinity, to several',
    steps: [
      { act: '20 flows to the sticky service, then 20 to web', run: (c) => {
        const sticky = backendsOfFlows(c, VIP.sticky, 20);
        assert.is(sticky.size, 1, `sticky: ${[...sticky]}`);
        const { bset } = serviceOf(c, tuple(CLIENT_POD, VIP.sticky, 1, 80));
        const affinity = A.STATE_MAPS.find((m) => m.name === 'sl_affinity')!;
        const entry = c.dp.lookup('sl_affinity', pack(affinity.key, { bset, client: ipBytes(CLIENT_POD) }), affinity.value.size);
        assert.ok(entry, 'affinity entry of (service, client)');
        assert.ok(backendsOfFlows(c, VIP.web, 20).size > 1, 'web spreads');
      } },
    ],
  },
  {
    name: 'no backends, TCP: a RST back to the client (seq/ack per RFC 9293) out of the same interface',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.empty, tcp(40020, 80, { seq: 1000 })),
        expect: { verdict: 'TC_ACT_REDIRECT', src: VIP.empty, sport: 80, dst: CLIENT_POD, dport: 40020, stats: { SL_STAT_REJECTED: 1 },
          check: (out) => {
            assert.equal([out.l4.flags, out.l4.seq, out.l4.ack], [RST | ACK, 0, 1001], 'RST|ACK acking the SYN');
            assert.equal([out.ip.totLen, out.l4.payload.length], [40, 0]);
            assert.equal([out.srcMac, out.dstMac], [MAC.host, MAC.pod], 'MACs swapped');
          } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.empty, tcp(40021, 80, { flags: ACK | PSH, seq: 5000, ack: 7000, payload: new Uint8Array(10) })),
        expect: { verdict: 'TC_ACT_REDIRECT', src: VIP.empty, dst: CLIENT_POD,
          check: (out) => assert.equal([out.l4.flags, out.l4.seq], [RST, 7000], 'seq = the segment\'s ack, no ACK') } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.empty, tcp(40022, 80, { flags: RST })),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_STAT_REJECTED: 2, SL_DROP_NO_BACKEND: 1 } } },
    ],
  },
  {
    name: 'no backends, UDP: ICMP port unreachable quoting the IP header (options too) and 8 bytes',
    steps: [0, 4].map((optLen, i) => ({
      prog: 'sl_from_pod' as const, frame: podFrame(CLIENT_POD, VIP.empty, udp(40030 + i, 53), { options: new Uint8Array(optLen).fill(1) }),
      expect: { verdict: 'TC_ACT_REDIRECT' as const, src: VIP.empty, dst: CLIENT_POD, stats: { SL_STAT_REJECTED: i + 1 },
        check: (out, c) => {
          assert.equal([out.l4.type, out.l4.code], [3, 3]);
          const quote = quoteOf(c.sent[i].subarray(14));
          assert.is(quote.length, 28 + optLen);
          assert.equal([...out.l4.payload], [...quote], 'quote');
          assert.is(out.ip.totLen, 28 + quote.length);
        } },
    })),
  },
  {
    name: 'hairpin: a pod reaching itself through its service sees hairpin_ip, and its answer is restored',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.self, tcp(40040, 80)),
        expect: { verdict: 'TC_ACT_REDIRECT', src: HAIRPIN_IP, sport: 40040, dst: CLIENT_POD, dport: 8080,
          check: (o, c) => {
            assert.is(ctEntry(c, tuple(CLIENT_POD, VIP.self, 40040, 80))!.flags, A.SL_CT_SNAT);
            assert.equal([o.dstMac, o.srcMac, o.ip.ttl], [MAC.pod, MAC.host, 63], 'back to the pod, addressed to its MAC, one hop on');
          } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, HAIRPIN_IP, tcp(8080, 40040, { flags: SYN | ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', src: VIP.self, sport: 80, dst: CLIENT_POD, dport: 40040,
          check: (o) => assert.equal([o.dstMac, o.srcMac], [MAC.pod, MAC.host], 'the answer too') } },
    ],
  },
  {
    name: 'UDP flow whose backend was removed moves to a live one; a TCP flow stays',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.moving, udp(40050, 53)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE } },
      { prog: 'sl_from_pod', frame: (c) => podFrame(CLIENT_POD, VIP.moving, tcp(sameBackendPort(c, c.outs[0].ip.dst), 53)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (out, c) => assert.is(out.ip.dst, c.outs[0].ip.dst, 'a TCP flow on the same backend') } },
      { act: 'remove the backend of both flows', run: (c) => {
        c.dp.applyRecords(recordsOf(snapshotEvents([movingSlice(REMOTE_BE.filter((ip) => ip !== c.outs[0].ip.dst))])).records);
      } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.moving, udp(40050, 53)),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE, dport: 5353, stats: { SL_STAT_REPICKED: 1, SL_STAT_TRANSLATED: 3 },
          check: (out, c) => {
            assert.not.equal(out.ip.dst, c.outs[0].ip.dst, 'moved');
            assert.is(ctEntry(c, tuple(CLIENT_POD, VIP.moving, 40050, 53, 'udp'))!.daddr, out.ip.dst, 'entry follows');
          } } },
      { prog: 'sl_from_pod', frame: (c) => podFrame(CLIENT_POD, VIP.moving, tcp(c.outs[1].l4.sport!, 53, { flags: ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, check: (out, c) => assert.is(out.ip.dst, c.outs[0].ip.dst, 'TCP stays') } },
    ],
  },
  {
    name: 'traffic that is not a service\'s nor for a pod passes untouched and uncounted',
    steps: [
      ...[
        podFrame(CLIENT_POD, VIP.web, tcp(40061, 81)), // a VIP, but not a service port
        podFrame(CLIENT_POD, VIP.web, { proto: 'icmp', type: 8, code: 0, rest: 0x00010001 }), // ping
        podFrame(CLIENT_POD, VIP.web, { proto: 'raw', number: 132, payload: new Uint8Array(32) }), // SCTP
        podFrame(CLIENT_POD, VIP.web, udp(40062, 53), { fragOff: 0x2000 }), // first fragment
      ].map((frame) => ({ prog: 'sl_from_pod' as const, frame, expect: { verdict: 'TC_ACT_OK' as const, unchanged: true } })),
      { prog: 'sl_to_pod', frame: podFrame(REMOTE_BE[0], CLIENT_POD, tcp(8080, 40060)), expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_from_pod', frame: () => { // ARP: not IPv4
        const f = buildFrame(podFrame(CLIENT_POD, VIP.web, tcp(1, 80)));
        f[12] = 0x08; f[13] = 0x06;
        return f;
      }, expect: { verdict: 'TC_ACT_OK', unchanged: true, stats: Object.fromEntries(['SL_STAT_TRANSLATED', 'SL_STAT_CT_HIT', 'SL_DROP_MALFORMED'].map((s) => [s, 0])) } },
    ],
  },
  {
    name: 'malformed IPv4 is dropped and counted: truncated TCP header, short IHL, tot_len past the frame',
    steps: [
      (f: Uint8Array) => f.slice(0, 14 + 20 + 10),
      (f: Uint8Array) => { const g = f.slice(); g[14] = 0x44; return g; },
      (f: Uint8Array) => f.slice(0, f.length - 4),
    ].map((mangle, i) => ({
      prog: 'sl_from_pod' as const, frame: () => mangle(buildFrame(podFrame(CLIENT_POD, VIP.web, tcp(40070, 80)))),
      expect: { verdict: 'TC_ACT_SHOT' as const, stats: { SL_DROP_MALFORMED: i + 1, SL_STAT_TRANSLATED: 0 } },
    })),
  },
];

const bpf = await bpfTest();
for (const s of SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
