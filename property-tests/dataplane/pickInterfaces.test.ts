// pickInterfaces: the rules for which interface gets which program, from
// links and routes given by hand (no kernel needed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Link, Route } from '../../runtime/bpf/ifaces.ts';
import { pickInterfaces } from '../../runtime/dataplane/pickInterfaces.ts';

const LINKS: Link[] = [
  { ifindex: 1, ifname: 'lo', addresses: ['127.0.0.1'] },
  { ifindex: 2, ifname: 'eth0', addresses: ['192.168.50.10'] },
  { ifindex: 3, ifname: 'eth1', addresses: ['203.0.113.7'] },
  { ifindex: 7, ifname: 'cali2', addresses: [] },
  { ifindex: 5, ifname: 'cali1', addresses: [] },
];
const ROUTES: Route[] = [
  { dst: '10.244.1.11', dev: 'cali1' },
  { dst: '10.244.1.12', dev: 'cali1' },
  { dst: '10.244.1.13', dev: 'cali2' },
  { dst: '10.244.2.20', dev: 'eth0', gateway: '192.168.50.11' },
  { dst: '192.168.50.10', dev: 'lo', type: 'local' },
  { dst: '10.244.9.9', dev: 'eth0' },
];
const WANT = {
  nodeAddresses: ['192.168.50.10', '203.0.113.7'],
  pods: [
    { pod: 'a/one', ip: '10.244.1.11' }, { pod: 'a/two', ip: '10.244.1.12' }, { pod: 'a/three', ip: '10.244.1.13' },
    { pod: 'b/far', ip: '10.244.2.20' }, { pod: 'b/self', ip: '192.168.50.10' }, { pod: 'b/flat', ip: '10.244.9.9' },
    { pod: 'b/lost', ip: '10.9.9.9' },
  ],
};
const brief = (cs: { ifname: string; ifindex: number; why: string }[]) => cs.map((c) => `${c.ifname}#${c.ifindex} ${c.why}`);

test('from routes: direct routes to pod IPs name the pod interfaces; the node\'s addresses name its interfaces', () => {
  const c = pickInterfaces(LINKS, ROUTES, WANT);
  assert.equal(brief(c.pod), ['cali1#5 pod a/one 10.244.1.11, a/two 10.244.1.12', 'cali2#7 pod a/three 10.244.1.13']);
  assert.equal(brief(c.node), ['eth0#2 holds 192.168.50.10', 'eth1#3 holds 203.0.113.7']);
  assert.equal(c.skipped, [
    'pod b/far 10.244.2.20: routed via 192.168.50.11 on eth0; not a local pod interface',
    'pod b/self 192.168.50.10: a local route; not a local pod interface',
    'pod b/flat 10.244.9.9: routed to node interface eth0; not a local pod interface',
    'pod b/lost 10.9.9.9: no route; not a local pod interface',
  ]);
  assert.equal(c.podAddrs, [{ ip: '10.244.1.11', ifindex: 5 }, { ip: '10.244.1.12', ifindex: 5 }, { ip: '10.244.1.13', ifindex: 7 }],
    'sl_podnet\'s local pods: those routed straight to a pod interface');
});

test('podAddrs whichever way the pod interfaces were chosen: only pods routed straight to one of them', () => {
  assert.equal(pickInterfaces(LINKS, ROUTES, WANT, { podIfaces: ['cali2'] }).podAddrs, [{ ip: '10.244.1.13', ifindex: 7 }]);
  assert.equal(pickInterfaces(LINKS, ROUTES, WANT, { podIfacePrefix: 'cali' }).podAddrs.map((a) => a.ip), ['10.244.1.11', '10.244.1.12', '10.244.1.13']);
  // a bridge CNI: pods are routed to the bridge, not to the veths the prefix names
  const bridged = pickInterfaces([...LINKS, { ifindex: 9, ifname: 'cni0', addresses: ['10.244.1.1'] }],
    [{ dst: '10.244.1.11', dev: 'cni0' }], WANT, { podIfacePrefix: 'cali' });
  assert.equal(bridged.podAddrs, []);
});

test('flags override discovery; unknown names are errors', () => {
  const c = pickInterfaces(LINKS, [], WANT, { podIfacePrefix: 'cali', nodeIfaces: ['eth1'] });
  assert.equal(brief(c.pod), ['cali1#5 --pod-iface-prefix cali', 'cali2#7 --pod-iface-prefix cali']);
  assert.equal(brief(c.node), ['eth1#3 --node-ifaces']);
  assert.equal(brief(pickInterfaces(LINKS, [], WANT, { podIfaces: ['cali2'] }).pod), ['cali2#7 --pod-ifaces']);
  assert.throws(() => pickInterfaces(LINKS, [], WANT, { podIfaces: ['veth9'] }), /^--pod-ifaces: no interface named veth9$/);
  assert.throws(() => pickInterfaces(LINKS, [], WANT, { nodeIfaces: ['eth9'] }), /^--node-ifaces: no interface named eth9$/);
});

test('a node whose addresses no interface holds is reported, not guessed', () => {
  const c = pickInterfaces(LINKS, [], { nodeAddresses: ['198.51.100.1'], pods: [] });
  assert.equal(c.node, []);
  assert.equal(c.skipped, ['node: no interface holds 198.51.100.1; NodePorts and external clients are not served (pass --node-ifaces)']);
});

test.run();
