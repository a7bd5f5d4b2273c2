// tc attach and detach on veth pairs inside network namespaces these tests
// make (and always delete), and interface discovery from the kernel's routes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_TIMEOUTS } from '../../runtime/bpf/config.ts';
import { readLinks, routesTo } from '../../runtime/bpf/ifaces.ts';
import { TC_INGRESS, tcAttach, tcQuery } from '../../runtime/bpf/libbpf.ts';
import { loadDatapath, type Datapath } from '../../runtime/bpf/loader.ts';
import { inNetns } from '../../runtime/bpf/netns.ts';
import { pickInterfaces } from '../../runtime/dataplane/pickInterfaces.ts';
import { attachedProgram, attachProgram, detachInterface, interfacesWithPrograms, TC_HANDLE, TC_PRIORITY } from '../../runtime/bpf/tc.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { dropNetns, dropPinRoot, fixtureObject, ipIn, kernelTest, scratchNetns, scratchPinRoot, tcIn } from './env.ts';

const it = kernelTest({ netns: true });
const CONFIG = { netnsCookie: 0n, nodeIp: new Uint8Array([10, 0, 0, 1]), hairpinIp: new Uint8Array([169, 254, 42, 1]), flags: 0, ...DEFAULT_TIMEOUTS };

/** A namespace with a veth pair v0 <-> v1 in it, and the fixture loaded; all removed after. */
function withVeth(body: (ns: string, ifindex: number, load: (hairpin?: number) => Datapath) => void): void {
  const ns = scratchNetns('a');
  const root = scratchPinRoot();
  const loaded: Datapath[] = [];
  try {
    ipIn(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    const ifindex = inNetns(ns, () => readLinks().find((l) => l.ifname === 'v0')!.ifindex);
    const load = (hairpin = 1) => {
      const dp = loadDatapath({ object: fixtureObject(), pinRoot: root, config: { ...CONFIG, hairpinIp: new Uint8Array([169, 254, 42, hairpin]) } });
      loaded.push(dp);
      return dp;
    };
    body(ns, ifindex, load);
  } finally {
    for (const dp of loaded) dp.close();
    dropNetns(ns);
    dropPinRoot(root);
  }
}

const progId = (dp: Datapath, name: 'sl_from_pod' | 'sl_to_pod' | 'sl_from_netdev') => S.progInfo(dp.programs.get(name)!).id;

it('attach: clsact made, programs at our handle and priority; again: unchanged; other settings: replaced in place', () => {
  withVeth((ns, ifindex, load) => {
    const a = load();
    const attach = (dp: Datapath) => inNetns(ns, () => [
      attachProgram(ifindex, 'ingress', dp.programs.get('sl_from_pod')!),
      attachProgram(ifindex, 'egress', dp.programs.get('sl_to_pod')!),
    ]);
    assert.equal(attach(a), ['attached', 'attached']);
    const shown = tcIn(ns, 'filter', 'show', 'dev', 'v0', 'ingress');
    assert.match(shown, `pref ${TC_PRIORITY} bpf chain 0 handle 0x${TC_HANDLE.toString(16)} sl_from_pod:[${progId(a, 'sl_from_pod')}] direct-action`);
    assert.match(tcIn(ns, 'filter', 'show', 'dev', 'v0', 'egress'), `sl_to_pod:[${progId(a, 'sl_to_pod')}]`);
    assert.match(tcIn(ns, 'qdisc', 'show', 'dev', 'v0'), 'qdisc clsact');
    assert.equal(attach(a), ['unchanged', 'unchanged'], 'the same program ids');
    assert.equal(attach(load()), ['unchanged', 'unchanged'], 'a fresh load of the same object and settings');
    assert.is(inNetns(ns, () => attachedProgram(ifindex, 'ingress')), progId(a, 'sl_from_pod'), 'the running program stays');
    const b = load(2);
    assert.equal(attach(b), ['replaced', 'replaced'], 'other .rodata settings');
    assert.is(inNetns(ns, () => attachedProgram(ifindex, 'ingress')), progId(b, 'sl_from_pod'));
    assert.is(tcIn(ns, 'filter', 'show', 'dev', 'v0', 'ingress').match(/ handle /g)?.length, 1, 'replaced, not added');
  });
});

it('detach: our programs and the clsact qdisc go; a foreign filter keeps clsact', () => {
  withVeth((ns, ifindex, load) => {
    const dp = load();
    inNetns(ns, () => {
      attachProgram(ifindex, 'ingress', dp.programs.get('sl_from_pod')!);
      attachProgram(ifindex, 'egress', dp.programs.get('sl_to_pod')!);
      assert.equal(interfacesWithPrograms().map((l) => l.ifname), ['v0']);
      assert.equal(detachInterface(ifindex, 'v0'), ['ingress', 'egress']);
      assert.equal(interfacesWithPrograms(), []);
      assert.equal(detachInterface(ifindex, 'v0'), [], 'nothing left to detach');
    });
    assert.not.match(tcIn(ns, 'qdisc', 'show', 'dev', 'v0'), 'clsact');
    inNetns(ns, () => {
      attachProgram(ifindex, 'ingress', dp.programs.get('sl_from_pod')!);
      tcAttach(ifindex, TC_INGRESS, dp.programs.get('sl_from_netdev')!, 7, 7); // someone else's filter
      assert.equal(detachInterface(ifindex, 'v0'), ['ingress']);
      assert.is(tcQuery(ifindex, TC_INGRESS, 7, 7), progId(dp, 'sl_from_netdev'), 'the foreign filter stays');
    });
    assert.match(tcIn(ns, 'qdisc', 'show', 'dev', 'v0'), 'qdisc clsact');
  });
});

it('discovery: a pod is where its IP is routed directly; the node is where its address is; the rest is skipped with a reason', () => {
  const ns = scratchNetns('d');
  try {
    ipIn(ns, 'link', 'add', 'slh0', 'type', 'veth', 'peer', 'name', 'slp0');
    ipIn(ns, 'link', 'add', 'sln0', 'type', 'veth', 'peer', 'name', 'slx0');
    ipIn(ns, 'addr', 'add', '192.168.50.10/24', 'dev', 'sln0');
    for (const l of ['slh0', 'sln0']) ipIn(ns, 'link', 'set', l, 'up');
    ipIn(ns, 'route', 'add', '10.244.1.11/32', 'dev', 'slh0');
    ipIn(ns, 'route', 'add', '10.244.2.0/24', 'via', '192.168.50.11');
    const want = {
      nodeAddresses: ['192.168.50.10'],
      pods: [{ pod: 'shop/web-a', ip: '10.244.1.11' }, { pod: 'shop/far', ip: '10.244.2.12' }, { pod: 'shop/lost', ip: '10.9.9.9' }],
    };
    const choice = inNetns(ns, () => pickInterfaces(readLinks(), routesTo(want.pods.map((p) => p.ip)), want));
    assert.equal(choice.pod.map((c) => [c.ifname, c.why]), [['slh0', 'pod shop/web-a 10.244.1.11']]);
    assert.equal(choice.node.map((c) => [c.ifname, c.why]), [['sln0', 'holds 192.168.50.10']]);
    assert.equal(choice.skipped, [
      'pod shop/far 10.244.2.12: routed via 192.168.50.11 on sln0; not a local pod interface',
      'pod shop/lost 10.9.9.9: no route; not a local pod interface',
    ]);
  } finally {
    dropNetns(ns);
  }
});

it('inNetns: an unknown namespace is a clear error, and the process stays where it was', () => {
  const before = readLinks().map((l) => l.ifname);
  assert.throws(() => inNetns('sl-test-no-such-ns', () => 1), /network namespace sl-test-no-such-ns: \/run\/netns\/sl-test-no-such-ns does not exist/);
  const ns = scratchNetns('e');
  try {
    assert.throws(() => inNetns(ns, () => { throw new Error('inside'); }), /inside/);
    assert.equal(readLinks().map((l) => l.ifname), before, 'back in the first namespace after a throw');
  } finally {
    dropNetns(ns);
  }
});

test.run();
