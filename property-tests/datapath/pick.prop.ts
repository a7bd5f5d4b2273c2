// Invariant 6 of DESIGN.md for the choices a new flow gets: for random
// clients, the backend the kernel picks (and the SNAT port it takes), and
// where it then forwards the packet (the verdict, the device by the L2
// addresses, the TTL), equal the reference model's
// (property-tests/model/datapath.ts), reading the same maps and the same
// node network. Covers a small set picked by rendezvous hashing per flow, a
// table filled by rendezvous, a large Maglev-filled one of thousands of
// chunks, TCP and UDP, sl_from_pod and sl_from_netdev.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { layoutOf } from '../../runtime/maps/store.ts';
import { ep, slice, svc } from '../model/kube.ts';
import { flowHash, forwardOf, frontendOf, maglevPick, snatProbe, type Tuple } from '../model/datapath.ts';
import { buildFrame, parseFrame, PROTO } from '../../testkit/packet.ts';
import { ipv4Text } from '../arb/ipv4Text.ts';
import { check } from '../seed.ts';
import { NODE, NODE_IP, NODE_NETS, NODE_PORT, OBJECTS, podFrame, tcp, udp, VIP, wireFrame } from './cluster.ts';
import { bpfTest, Datapath, TC_ACT, type Program } from './harness.ts';
import type { MapName } from '../../runtime/abi/layouts.generated.ts';

/** A ClusterIP Service of n backends on another node. */
function sized(name: string, vip: string, n: number, subnet: number) {
  return [
    svc(`default/${name}`, { clusterIP: vip, clusterIPs: [vip], ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
    slice(`default/${name}-1`, name, [{ name: 'http', port: 8080 }],
      Array.from({ length: n }, (_, i) => ep(`10.${subnet}.${i >> 6}.${(i & 63) + 1}`, 'n2'))),
  ];
}
// 40 backends: past SL_RENDEZVOUS_MAX, a table the rendezvous fill makes
// (6,421 slots, 101 chunks); 150: past that fill's limit, Maglev's
// permutation fill on a table of 204,800+ slots (3,200+ chunks).
const MID_VIP = '10.96.9.2', BIG_VIP = '10.96.9.1';
const SIZED = [...sized('mid', MID_VIP, 40, 246), ...sized('big', BIG_VIP, 150, 245)];

interface Case { name: string; prog: Program; vip: string; port: number; proto: 'tcp' | 'udp'; inCluster: boolean }
const CASES: Case[] = [
  { name: 'ClusterIP TCP, 3 backends', prog: 'sl_from_pod', vip: VIP.web, port: 80, proto: 'tcp', inCluster: true },
  { name: 'ClusterIP UDP, 3 backends', prog: 'sl_from_pod', vip: VIP.web, port: 53, proto: 'udp', inCluster: true },
  { name: 'ClusterIP TCP, 40 backends', prog: 'sl_from_pod', vip: MID_VIP, port: 80, proto: 'tcp', inCluster: true },
  { name: 'ClusterIP TCP, 150 backends', prog: 'sl_from_pod', vip: BIG_VIP, port: 80, proto: 'tcp', inCluster: true },
  { name: 'NodePort from outside, SNAT', prog: 'sl_from_netdev', vip: NODE_IP, port: NODE_PORT.remote, proto: 'tcp', inCluster: false },
];

const bpf = await bpfTest('kernel and model pick alike');
let dp: Datapath | undefined;
bpf.before(() => {
  dp = new Datapath({ objects: [...OBJECTS, ...SIZED], node: NODE, net: NODE_NETS[NODE] });
});
bpf.after(() => dp?.close());

for (const k of CASES) {
  bpf(`${k.name}: the kernel's backend${k.prog === 'sl_from_netdev' ? ', SNAT port' : ''} and forwarding are the model's`, () => {
    const d = dp!;
    const lookup = (map: MapName, key: Uint8Array) => d.lookup(map, key, layoutOf(map).value.size);
    check(fc.property(ipv4Text(), fc.integer({ min: 1024, max: 65535 }), (client, sport) => {
      d.clearState();
      const t: Tuple = { saddr: client, daddr: k.vip, sport, dport: k.port, proto: PROTO[k.proto === 'tcp' ? 'TCP' : 'UDP'] };
      const l4 = k.proto === 'tcp' ? tcp(sport, k.port) : udp(sport, k.port);
      const frame = k.inCluster ? podFrame(client, k.vip, l4) : wireFrame(client, k.vip, l4);
      const r = d.run(k.prog, buildFrame(frame));
      const out = parseFrame(r.frame);
      const s = frontendOf(lookup, t, k.inCluster)!;
      const want = maglevPick(lookup, s, t)!;
      assert.equal([out.ip.dst, out.l4.dport], [want.ip, want.port]);
      const f = forwardOf(d.net, want.ip, 64, out.ip.totLen);
      assert.ok(f.via === 'peer' || f.via === 'iface', `the model forwards it: ${JSON.stringify(f)}`);
      assert.equal([r.verdict, out.dstMac, out.srcMac, out.ip.ttl], [TC_ACT.REDIRECT, f.dstMac, f.srcMac, 63], `forwarded as the model says (${f.via} ${f.dev})`);
      if (k.prog === 'sl_from_netdev') assert.is(out.l4.sport, snatProbe(flowHash(t, 0x534e4154n), 0));
    }), { numRuns: 300 });
  });
}

bpf.run();
