// Established flows after a NetworkPolicy change, on the real kernel
// (BPF_PROG_TEST_RUN): a tracked flow allowed under an older policy epoch is
// judged again on its next packet; still allowed, it goes on under the new
// epoch; denied, it is cut: its entries go, and a TCP segment becomes a RST
// for the local pod, back to it when it sent the segment (from the address
// its socket knows: a Service's), on to it otherwise (after the flow's
// translation). With --policy-established keep, tracked flows go on.
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { TCP_FLAGS } from '../../testkit/packet.ts';
import { app, CLIENT_POD, EXTERNAL, LOCAL_BE, netpol, NODE_IP, NODE_PORT, podFrame, REMOTE_BE, tcp, udp, VIP, wireFrame, withPolicies } from './cluster.ts';
import { bpfTest } from './harness.ts';
import { closeDatapaths, runScenario, type Ctx, type Scenario } from './scenario.ts';

const { SYN, ACK, RST } = TCP_FLAGS;

const webClosed = netpol('web-closed', { podSelector: app('web'), policyTypes: ['Ingress'] });
const clientClosed = netpol('client-closed', { podSelector: app('client'), policyTypes: ['Egress'] });
const webFromClient = netpol('web-from-client', { podSelector: app('web'), policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: app('client') }] }] });
const clientOpen = netpol('client-open', { podSelector: app('client'), policyTypes: ['Ingress'], ingress: [{}] }); // isolates, allows all

const change = (what: string, ...policies: unknown[]) => ({ act: what, run: (c: Ctx) => c.dp.recompile(withPolicies(...policies as never[])) });
const noEntries = (c: Ctx) => assert.equal(c.dp.ct(), [], 'the flow\'s entries are gone');

const SCENARIOS: Scenario[] = [
  {
    name: 'a service flow tracked before any policy, denied by the first one: the client pod\'s next segment is answered with a RST from the Service it connected to',
    objects: withPolicies(),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(43100, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE, dport: 8080 } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 43100, { flags: SYN | ACK, seq: 5000, ack: 1001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: VIP.local, sport: 80 } },
      change('the backend\'s ingress closes', webClosed),
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(43100, 80, { flags: ACK, seq: 1001, ack: 5001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', src: VIP.local, sport: 80, dst: CLIENT_POD, dport: 43100, stats: { SL_DROP_POLICY_REVOKED: 1, SL_STAT_REJECTED: 0 },
          check: (out, c) => {
            assert.equal([out.l4.flags, out.l4.seq], [RST, 5001], 'a RST at the sequence number the client acknowledged');
            assert.equal([out.dstMac, out.srcMac], ['02:00:00:00:01:09', '02:00:00:00:01:01'], 'back to the client pod');
            noEntries(c);
          } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(43101, 80)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1 } } },
    ],
  },
  {
    name: 'a NodePort flow to a local backend, denied: the client\'s next segment becomes a RST on to the backend pod, after the flow\'s DNAT',
    objects: withPolicies(),
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50200, NODE_PORT.local)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE } },
      change('the backend\'s ingress closes', webClosed),
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50200, NODE_PORT.local, { flags: ACK, seq: 1001, ack: 7001, payload: new Uint8Array(100) })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: EXTERNAL, sport: 50200, dst: LOCAL_BE, dport: 8080, stats: { SL_DROP_POLICY_REVOKED: 1 },
          check: (out, c) => {
            assert.equal([out.l4.flags, out.l4.seq, out.l4.payload.length], [RST | ACK, 1001, 0], 'a bare RST at the segment\'s own sequence number');
            noEntries(c);
          } } },
    ],
  },
  {
    name: 'a pod\'s flow to a remote pod, its egress closed: the next packet of a TCP flow is a RST back to it, of a UDP flow dropped; either is forgotten, and what follows is judged as new',
    objects: withPolicies(),
    steps: [
      { act: 'a policy that allows it', run: (c) => c.dp.recompile(withPolicies(clientOpen)) },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], tcp(43200, 8080)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], udp(43201, 5353)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      change('the client\'s egress closes', clientClosed),
      { prog: 'sl_from_netdev', frame: wireFrame(REMOTE_BE[0], CLIENT_POD, tcp(8080, 43200, { flags: ACK, seq: 9000, ack: 1001 })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: REMOTE_BE[0], dst: CLIENT_POD, stats: { SL_DROP_POLICY_REVOKED: 1 },
          check: (out) => assert.equal([out.l4.flags, out.l4.seq], [RST | ACK, 9000], 'an answer on its way in becomes a RST on to the pod') } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], udp(43201, 5353)), expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_REVOKED: 2, SL_DROP_POLICY_EGRESS: 0 } } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, REMOTE_BE[0], udp(43201, 5353)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_REVOKED: 2, SL_DROP_POLICY_EGRESS: 1 }, check: (_, c) => noEntries(c) } },
    ],
  },
  {
    name: 'a change that still allows a tracked flow: it goes on, and the entry its packet met takes the new epoch',
    objects: withPolicies(webFromClient),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(43300, 8080)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { act: 'remember the epoch', run: (c) => (c.memo.epoch = c.dp.policyState()!.epoch) },
      change('another policy comes', webFromClient, clientOpen),
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(43300, 8080, { flags: ACK })),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, stats: { SL_DROP_POLICY_REVOKED: 0 },
          check: (_, c) => {
            const epoch = c.dp.policyState()!.epoch;
            assert.not.equal(epoch, c.memo.epoch, 'the epoch moved');
            const byReply = Object.fromEntries(c.dp.ct().map((e) => [e.flags & A.SL_CT_REPLY ? 'reply' : 'client', e.polgen]));
            assert.equal(byReply, { client: epoch, reply: c.memo.epoch }, 'the client entry judged again; the reply entry at its own next packet');
          } } },
    ],
  },
  {
    name: '--policy-established keep: tracked flows go on after a deny, service and pod flows alike; only new ones are judged',
    config: { flags: A.SL_CFG_POLICY_KEEP },
    objects: withPolicies(webFromClient),
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(43400, 8080)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.local, tcp(43401, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: LOCAL_BE } },
      change('the backend\'s ingress closes', webClosed),
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(43400, 8080, { flags: ACK })), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_from_pod', frame: podFrame(LOCAL_BE, CLIENT_POD, tcp(8080, 43401, { flags: ACK })), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: VIP.local } },
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, LOCAL_BE, tcp(43402, 8080)),
        expect: { verdict: 'TC_ACT_SHOT', stats: { SL_DROP_POLICY_INGRESS: 1, SL_DROP_POLICY_REVOKED: 0 } } },
    ],
  },
];

const bpf = await bpfTest('NetworkPolicy and established flows');
for (const s of SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
