// P2 of POLICY.md §3 on the real kernel (BPF_PROG_TEST_RUN): for random
// clusters (pods on two nodes, namespaces, policies: arb/policyCluster.ts)
// and flows between their pods, nodes and an outside address, what node
// n1's programs do equals the reference evaluator's verdict as a datapath
// with conntrack must apply it (model/policyFlow.ts): a flow's first packet,
// a packet after it, its answer, a packet that finds no entry mid-flow, and
// a packet of an established flow after policy changed (with established
// flows judged again, and kept). TCP, UDP and SCTP; a packet enters by the
// program it would meet: a local pod's by sl_from_pod, one for a local pod
// by sl_from_netdev or (through the stack) sl_to_pod, the node's own by
// sl_to_pod.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { flows, policyCluster, policyObject, type PolicyCluster, type TestFlow } from '../arb/policyCluster.ts';
import type { NodeNet } from '../model/datapath.ts';
import { Evaluator, type Json } from '../model/netpol.ts';
import { buildFrame, parseFrame, TCP_FLAGS, type L4 } from '../../testkit/packet.ts';
import { nodeAllows, trackedAllows, untrackedAllows } from '../model/policyFlow.ts';
import { check } from '../seed.ts';
import { sctp } from './cluster.ts';
import { bpfTest, Datapath, TC_ACT, type Program } from './harness.ts';

const { SYN, ACK, RST } = TCP_FLAGS;
const NODE = 'n1', NODE_IP = '10.1.0.1';

/** n1's network: a veth for each address a pod of the arbitrary clusters may have; sl_podnet says which are n1's. */
const NET: NodeNet = {
  uplink: { name: 'eth0', mac: '02:00:00:00:10:01', addr: `${NODE_IP}/24` },
  hostMac: '02:00:00:00:10:fe',
  pods: Array.from({ length: 6 }, (_, i) => ({ ip: `10.0.0.${i + 1}`, mac: `02:00:00:00:11:0${i + 1}`, dev: `slq${i}` })),
  routes: [{ dst: '0.0.0.0/0', via: '10.1.0.254', dev: 'eth0' }],
  neighbours: [{ ip: '10.1.0.254', mac: '02:00:00:00:10:aa', dev: 'eth0' }],
  peerPodCidrs: [],
};

const objectsOf = (c: PolicyCluster) => [...c.namespaces, ...c.pods, ...c.policies, ...c.nodes];
const ipOf = (p: Json) => (p.status as Json).podIP as string;
const localPods = (c: PolicyCluster) => new Set(c.pods.filter((p) => (p.spec as Json).nodeName === NODE).map(ipOf));

function load(dp: Datapath, c: PolicyCluster): void {
  dp.clearState();
  dp.recompile(objectsOf(c));
  dp.setLocalPods([...localPods(c)]);
}

/** The program a packet from src to dst meets first on n1 (viaStack: one for a local pod came through the stack). */
function programFor(src: string, dst: string, locals: Set<string>, viaStack: boolean): Program {
  if (locals.has(src)) return 'sl_from_pod';
  if (src === NODE_IP) return 'sl_to_pod';
  return locals.has(dst) && viaStack ? 'sl_to_pod' : 'sl_from_netdev';
}

function frame(f: TestFlow, src: string, dst: string, sport: number, dport: number, flags: number): Uint8Array {
  const l4: L4 = f.protocol === 'TCP' ? { proto: 'tcp', sport, dport, flags, seq: 1000, ack: flags & ACK ? 5000 : 0 }
    : f.protocol === 'UDP' ? { proto: 'udp', sport, dport, payload: new Uint8Array(4) } : sctp(sport, dport);
  return buildFrame({ srcMac: '02:00:00:00:20:01', dstMac: '02:00:00:00:20:02', ip: { src, dst, l4 } });
}

/** The flows of c that n1 sees: those a local pod sends or gets, and the node's own to its pods. */
function flowsOf(c: PolicyCluster): TestFlow[] {
  const locals = localPods(c);
  return flows(c).filter((f) => locals.has(f.src) || locals.has(f.dst));
}

const show = (f: TestFlow, sport: number) => `${f.src}:${sport} -> ${f.dst}:${f.port}/${f.protocol}`;

const bpf = await bpfTest('NetworkPolicy: kernel and reference evaluator agree');
let dp: Datapath | undefined, keep: Datapath | undefined;
bpf.before(() => {
  dp = new Datapath({ objects: [], node: NODE, net: NET });
  keep = new Datapath({ objects: [], node: NODE, net: NET, config: { flags: A.SL_CFG_POLICY_KEEP } });
});
bpf.after(() => {
  dp?.close();
  keep?.close();
});

bpf('a flow\'s first packet, a packet after it, its answer, and a packet that finds no entry: as the evaluator says', () => {
  let allowed = 0, denied = 0, either = 0;
  check(fc.property(policyCluster(), fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 8 }), (c, picks) => {
    const d = dp!, ev = new Evaluator(c), locals = localPods(c), all = flowsOf(c);
    if (all.length === 0) return;
    load(d, c);
    const deniedFlows = all.filter((f) => !nodeAllows(ev, NODE, f)); // half the picks among them: most flows are allowed
    picks.forEach(([pick, viaStack, preferDenied], i) => {
      const pool = preferDenied && deniedFlows.length > 0 ? deniedFlows : all;
      const f = pool[pick % pool.length], sport = 40000 + i;
      const fwd = programFor(f.src, f.dst, locals, viaStack), back = programFor(f.dst, f.src, locals, viaStack);
      const passes = (p: Program, bytes: Uint8Array) => d.run(p, bytes).verdict !== TC_ACT.SHOT;
      const allow = nodeAllows(ev, NODE, f);
      d.clearState();
      assert.is(passes(fwd, frame(f, f.src, f.dst, sport, f.port, SYN)), allow, `first packet of ${show(f, sport)} by ${fwd}`);
      if (allow) {
        allowed++;
        assert.ok(passes(back, frame(f, f.dst, f.src, f.port, sport, SYN | ACK)), `the answer to ${show(f, sport)} by ${back}`);
        assert.ok(passes(fwd, frame(f, f.src, f.dst, sport, f.port, ACK)), `a packet after the first of ${show(f, sport)}`);
      } else {
        denied++;
        const want = untrackedAllows(ev, NODE, f, sport, true);
        if (want) either++;
        assert.is(passes(fwd, frame(f, f.src, f.dst, sport, f.port, ACK)), want, `a packet after the denied first of ${show(f, sport)}`);
      }
      d.clearState();
      assert.is(passes(fwd, frame(f, f.src, f.dst, sport, f.port, ACK)), untrackedAllows(ev, NODE, f, sport, true),
        `a packet of ${show(f, sport)} that finds no entry mid-flow`);
    });
  }), { numRuns: 300 });
  assert.ok(allowed > 400 && denied > 100 && either > 20, `too few interesting flows: ${allowed} allowed, ${denied} denied, ${either} allowed the other way`);
});

/** A second set of policies (and namespace labels) for the same pods. */
const changed = (c: PolicyCluster) => fc.integer({ min: 0, max: 4 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyObject(`np${i}`))))
  .map((policies): PolicyCluster => ({ ...c, policies }));

bpf('established flows after a policy change: judged again on their next packet, either way, and cut when denied (a RST to the local pod for TCP); with keep, never', () => {
  let cut = 0, kept = 0;
  const clusters = policyCluster().chain((c) => fc.tuple(fc.constant(c), changed(c)));
  check(fc.property(clusters, fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 6 }), ([c1, c2], picks) => {
    const ev1 = new Evaluator(c1), ev2 = new Evaluator(c2), locals = localPods(c1);
    const all = flowsOf(c1).filter((f) => nodeAllows(ev1, NODE, f));
    if (all.length === 0) return;
    const revoked = all.filter((f) => !nodeAllows(ev2, NODE, f)); // half the picks among them
    const tracked = c1.policies.length > 0; // without a policy, only service flows are tracked
    for (const [d, keeping] of [[dp!, false], [keep!, true]] as const) {
      picks.forEach(([pick, viaStack, backwards, preferRevoked], i) => {
        const pool = preferRevoked && revoked.length > 0 ? revoked : all;
        const f = pool[pick % pool.length], sport = 41000 + i;
        load(d, c1);
        const fwd = programFor(f.src, f.dst, locals, viaStack), back = programFor(f.dst, f.src, locals, viaStack);
        d.run(fwd, frame(f, f.src, f.dst, sport, f.port, SYN));
        d.run(back, frame(f, f.dst, f.src, f.port, sport, SYN | ACK));
        d.recompile(objectsOf(c2));
        const [src, dst, from, to, p] = backwards ? [f.dst, f.src, f.port, sport, back] : [f.src, f.dst, sport, f.port, fwd];
        const pkt: TestFlow = { src, dst, protocol: f.protocol, port: to };
        const want = tracked ? trackedAllows(ev2, NODE, f, keeping) : untrackedAllows(ev2, NODE, pkt, from, true);
        const before = d.stats().SL_DROP_POLICY_REVOKED;
        const r = d.run(p, frame(f, src, dst, from, to, ACK));
        const what = `${backwards ? 'an answer' : 'a packet'} of ${show(f, sport)} by ${p}${keeping ? ', keep' : ''} after the change`;
        const counted = d.stats().SL_DROP_POLICY_REVOKED - before;
        if (want) {
          assert.is(counted, 0, `${what}: not revoked`);
          assert.ok(r.verdict !== TC_ACT.SHOT && !((parseFrame(r.frame).l4.flags ?? 0) & RST), `${what}: passes`);
          if (tracked) kept++;
          return;
        }
        assert.is(counted, tracked ? 1 : 0, `${what}: counted as revoked when it was tracked`);
        if (tracked) cut++;
        if (f.protocol !== 'TCP' || !tracked) {
          assert.is(r.verdict, TC_ACT.SHOT, `${what}: dropped`);
          return;
        }
        const out = parseFrame(r.frame);
        const toSender = p === 'sl_from_pod'; // the local pod sent it: the RST goes back to it
        assert.ok((out.l4.flags ?? 0) & RST, `${what}: a RST`);
        assert.equal([out.ip.src, out.ip.dst], toSender ? [dst, src] : [src, dst], `${what}: the RST's addresses`);
        assert.ok(d.ct().every((e) => !(e.key.sport === sport || e.key.dport === sport)), `${what}: the flow's entries are gone`);
      });
    }
  }), { numRuns: 100 });
  assert.ok(cut > 20 && kept > 20, `too few interesting changes: ${cut} flows cut, ${kept} kept`);
});

bpf.run();
