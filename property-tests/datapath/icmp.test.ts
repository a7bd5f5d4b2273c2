// ICMP errors about translated flows, on the real kernel (BPF_PROG_TEST_RUN):
// the quoted packet must read as its receiver sent it (client -> VIP, not
// client -> backend), or no socket hears of the error, and path MTU
// discovery and connection refusals break.
import * as assert from 'uvu/assert';
import { buildIp, quoteOf, type Icmp, type Parsed } from '../../testkit/packet.ts';
import { CLIENT_POD, EXTERNAL, NODE_IP, NODE_PORT, podFrame, REMOTE_BE, ROUTER, tcp, udp, VIP, wireFrame } from './cluster.ts';
import { bpfTest, ETH_HLEN } from './harness.ts';
import { closeDatapaths, runScenario, type Scenario } from './scenario.ts';

/** An ICMP error quoting a frame (as a program left it). */
const error = (type: number, code: number, frame: Uint8Array, rest = 0): Icmp =>
  ({ proto: 'icmp', type, code, rest, payload: quoteOf(frame.subarray(ETH_HLEN)) });

/** The quote must be valid and carry this tuple. */
function quoted(out: Parsed, src: string, sport: number, dst: string, dport: number): void {
  assert.ok(out.inner, 'an ICMP error with a quote');
  assert.ok(out.inner!.ip.checksumOk, 'quoted IP checksum valid');
  assert.equal([out.inner!.ip.src, out.inner!.sport, out.inner!.ip.dst, out.inner!.dport], [src, sport, dst, dport], 'quoted tuple');
}

const MTU = 1400;
const untracked = quoteOf(buildIp({ src: CLIENT_POD, dst: '10.1.2.3', l4: tcp(40103, 80) }));

const SCENARIOS: Scenario[] = [
  {
    name: 'fragmentation needed from a router about a pod\'s flow to a remote backend quotes the VIP again (sl_to_pod)',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40100, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE[0] } },
      { prog: 'sl_to_pod', frame: (c) => podFrame(ROUTER, CLIENT_POD, error(3, 4, c.raw[0], MTU)),
        expect: { verdict: 'TC_ACT_OK', src: ROUTER, dst: CLIENT_POD, stats: { SL_STAT_ICMP_ERROR: 1 },
          check: (out) => {
            quoted(out, CLIENT_POD, 40100, VIP.remote, 80);
            assert.equal([out.l4.type, out.l4.code, out.l4.rest], [3, 4, MTU], 'type, code and MTU kept');
          } } },
    ],
  },
  {
    name: 'port unreachable from the backend itself: the outer source becomes the VIP too',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.moving, udp(40101, 53)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, dst: REMOTE_BE } },
      { prog: 'sl_to_pod', frame: (c) => podFrame(c.outs[0].ip.dst, CLIENT_POD, error(3, 3, c.raw[0])),
        expect: { verdict: 'TC_ACT_OK', src: VIP.moving, dst: CLIENT_POD, check: (out) => quoted(out, CLIENT_POD, 40101, VIP.moving, 53) } },
    ],
  },
  {
    name: 'an error from a local backend about its answer to a pod (sl_from_pod) quotes the VIP as the answer\'s source',
    steps: [
      { prog: 'sl_from_pod', frame: podFrame(CLIENT_POD, VIP.remote, tcp(40102, 80)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true } },
      { prog: 'sl_to_pod', frame: podFrame(REMOTE_BE[0], CLIENT_POD, tcp(8080, 40102, { flags: 0x12 })), expect: { verdict: 'TC_ACT_OK', src: VIP.remote } },
      // the client pod refuses the answer (VIP -> client), quoting it as it got it
      { prog: 'sl_from_pod', frame: (c) => podFrame(CLIENT_POD, VIP.remote, error(3, 3, c.raw[1])),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: CLIENT_POD, dst: REMOTE_BE[0], check: (out) => quoted(out, REMOTE_BE[0], 8080, CLIENT_POD, 40102) } },
    ],
  },
  {
    name: 'time exceeded about a SNATed NodePort flow, arriving at the node: back to the external client\'s view',
    steps: [
      { prog: 'sl_from_netdev', frame: wireFrame(EXTERNAL, NODE_IP, tcp(50100, NODE_PORT.remote)), expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: NODE_IP } },
      { prog: 'sl_from_netdev', frame: (c) => wireFrame(ROUTER, NODE_IP, error(11, 0, c.raw[0])),
        expect: { verdict: 'TC_ACT_REDIRECT', routed: true, src: ROUTER, dst: EXTERNAL, stats: { SL_STAT_ICMP_ERROR: 1 },
          check: (out) => quoted(out, EXTERNAL, 50100, NODE_IP, NODE_PORT.remote) } },
    ],
  },
  {
    name: 'ICMP errors about flows nobody tracks, and other ICMP, pass untouched and uncounted',
    steps: [
      { prog: 'sl_to_pod', frame: podFrame(ROUTER, CLIENT_POD, { proto: 'icmp', type: 3, code: 4, rest: MTU, payload: untracked }),
        expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_to_pod', frame: podFrame(ROUTER, CLIENT_POD, { proto: 'icmp', type: 3, code: 4, payload: untracked.slice(0, 22) }),
        expect: { verdict: 'TC_ACT_OK', unchanged: true } },
      { prog: 'sl_to_pod', frame: podFrame(ROUTER, CLIENT_POD, { proto: 'icmp', type: 0, code: 0, rest: 7 }),
        expect: { verdict: 'TC_ACT_OK', unchanged: true, stats: { SL_STAT_ICMP_ERROR: 0 } } },
    ],
  },
];

const bpf = await bpfTest();
for (const s of SCENARIOS) bpf(s.name, () => runScenario(s));
bpf.after(closeDatapaths);
bpf.run();
