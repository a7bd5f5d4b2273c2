// The testbed's pure parts, without root: snapshot -> topology, names,
// and the argument parsers of `sluice testbed` and the probe.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { UsageError } from '../../runtime/cli/io.ts';
import { parseTestbedArgs } from '../../runtime/cli/testbed.ts';
import { recordsOf as pipeline, upserts } from '../../runtime/streams/recordsOf.ts';
import type { Upsert } from '../../runtime/encode/schema.ts';
import { loadSnapshot, snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { inSubnet, maskOf, parseU32, textOf } from '../../runtime/encode/ipv4.ts';
import * as N from '../../runtime/testbed/names.ts';
import { parseProbeArgs } from '../../runtime/testbed/probe.ts';
import { peerRoutes, topologyOf } from '../../runtime/testbed/topology.ts';
import { check } from '../seed.ts';
import { parseIp } from '../../runtime/encode/ip.ts';

const path = (rel: string) => new URL(`../${rel}`, import.meta.url).pathname;
const recordsOf = (file: string) => upserts(pipeline(snapshotEvents(loadSnapshot([file]).objects)).records);

test('cluster.yaml: nodes on one /24, every pod with an IP, service IPs routed via the first node', () => {
  const t = topologyOf(recordsOf(path('../examples/cluster.yaml')), 'sl');
  assert.equal(t.underlay, { netns: 'sl-ul', subnet: '192.168.50.0/24', prefixLen: 24 });
  assert.equal(t.nodes.map((n) => [n.name, n.netns, n.ip, n.podCIDRs, n.pinRoot]), [
    ['node-a', 'sl-n-node-a', '192.168.50.10', ['10.244.1.0/24'], '/sys/fs/bpf/sl/node-a'],
    ['node-b', 'sl-n-node-b', '192.168.50.11', ['10.244.2.0/24'], '/sys/fs/bpf/sl/node-b'],
  ]);
  assert.is(t.external.ip, '192.168.50.254');
  assert.is(t.pods.length, 12);
  const coredns = t.pods.find((p) => p.key === 'kube-system/coredns-5d78c9869d-4xk2p')!;
  assert.equal([coredns.node, coredns.ip, coredns.ports, coredns.netns], ['node-a', '10.244.1.20', [53, 9153], 'sl-p-kube-system.coredns-5d78c9869d-4xk2p']);
  const routes = new Map(t.external.routes.map((r) => [r.dst, r.via]));
  assert.is(routes.get('10.244.2.0/24'), '192.168.50.11');
  for (const ip of ['10.96.10.10/32', '203.0.113.10/32', '198.51.100.20/32']) assert.is(routes.get(ip), '192.168.50.10', ip);
  assert.equal(peerRoutes(t, t.nodes[0]), [{ dst: '10.244.2.0/24', via: '192.168.50.11' }]);
  assert.equal(t.skipped, []);
});

test('pods left out say why: hostNetwork, no IP', () => {
  const t = topologyOf(recordsOf(path('fixtures/testbed-small.yaml')), 'x');
  assert.equal(t.pods.map((p) => p.key), ['demo/web-1', 'demo/web-2', 'kube-system/dns-1']);
  assert.equal(t.skipped, ['Pod demo/web-pending: no podIP', 'Pod kube-system/agent-x: hostNetwork: it has no namespace of its own']);
  assert.equal(t.external.ip, '172.30.4.254');
});

const node = (name: string, ip: string): Upsert => ({
  kind: R.KIND_NODE, namespace: '', name, op: 'upsert',
  body: { addresses: [{ type: R.NODE_ADDR_INTERNAL, ip: parseIp(ip)! }], podCIDRs: [], labels: [] },
});

test('property: the underlay holds every node and a free address for the external client', () => {
  check(fc.property(fc.uniqueArray(fc.integer({ min: 0x0a000001, max: 0x0a0003fe }), { minLength: 1, maxLength: 6 }), (ips) => {
    const t = topologyOf(ips.map((ip, i) => node(`n${i}`, textOf(ip))), 'p');
    const [net, len] = t.underlay.subnet.split('/');
    const ext = parseU32(t.external.ip);
    assert.ok(ips.every((ip) => inSubnet(ip, parseU32(net), Number(len))));
    assert.ok(inSubnet(ext, parseU32(net), Number(len)) && !ips.includes(ext) && Number(len) <= 24);
    assert.ok(ext !== parseU32(net) && ext !== ((parseU32(net) | ~maskOf(Number(len))) >>> 0), 'not the network or broadcast address');
  }));
});

test('a snapshot without a usable Node is an error', () => {
  assert.throws(() => topologyOf([], 'p'), /no Node with an InternalIP/);
});

test('names: interfaces fit IFNAMSIZ, netns names stay short and distinct, prefixes never overlap', () => {
  const long = 'a'.repeat(63), pod = `${'b'.repeat(200)}.x`;
  assert.ok(N.hostIface(long, pod).length <= 15 && N.underlayIface(pod).length <= 15);
  assert.is.not(N.hostIface('a', 'b-c'), N.hostIface('a-b', 'c'));
  const a = N.podNetns('sl', long, `${pod}1`), b = N.podNetns('sl', long, `${pod}2`);
  assert.ok(a.length < 64 && a !== b, `${a} ${b}`);
  assert.ok(N.isTestbedNetns('sl', 'sl-p-demo.web-1') && !N.isTestbedNetns('sl', 'sla-p-demo.web-1') && !N.isTestbedNetns('sl', 'sl-test-1'));
  for (const bad of ['', 'a-b', 'Sl', '9a', 'abcdefghi', 'sluice']) assert.ok(N.prefixProblem(bad), bad);
  assert.is(N.prefixProblem('t1'), undefined);
});

test('testbed arguments', () => {
  assert.equal(parseTestbedArgs(['up', 'a.yaml', '--prefix', 'x1', '--no-sluice', '--client-ip', '198.51.100.7,192.0.2.1']), {
    sub: 'up', prefix: 'x1', files: ['a.yaml'], sluice: false, ttl: 21600, clientIps: ['198.51.100.7', '192.0.2.1'], rpFilter: 2, wiring: 'bridged',
    target: undefined, command: [],
  });
  assert.equal([parseTestbedArgs(['up', 'a.yaml', '--rp-filter', '0', '--routed'])].map((a) => [a?.rpFilter, a?.wiring]), [[0, 'routed']]);
  const exec = parseTestbedArgs(['exec', 'shop/web', '--prefix', 'x1', '--', 'ip', '-br', '--all', 'addr']);
  assert.equal([exec?.target, exec?.command, exec?.prefix], ['shop/web', ['ip', '-br', '--all', 'addr'], 'x1']);
  assert.is(parseTestbedArgs(['--help']), undefined);
  assert.is(parseTestbedArgs(['down', '-h']), undefined);
  for (const bad of [[], ['frob'], ['up'], ['down', 'a.yaml'], ['up', 'a.yaml', '--prefix', 'a-b'], ['down', '--no-sluice'],
    ['exec', 'external'], ['exec', '--', 'ls'], ['up', 'a.yaml', '--ttl', '0'], ['up', 'a.yaml', '--client-ip', '1.2.3'], ['status', '--', 'x'],
    ['up', 'a.yaml', '--rp-filter', '1'], ['apply', 'a.yaml', '--routed'], ['down', '--rp-filter', '0']]) {
    assert.throws(() => parseTestbedArgs(bad), (e: unknown) => e instanceof UsageError, bad.join(' '));
  }
});

test('probe arguments', () => {
  assert.equal(parseProbeArgs(['udp', '10.0.0.1', '53', '-n', '3', '--timeout', '200', '--sport', '5353']),
    { proto: 'udp', ip: '10.0.0.1', port: 53, count: 3, timeoutMs: 200, source: undefined, sport: 5353, peer: undefined });
  assert.is((parseProbeArgs(['tcp', '10.0.0.1', '80', '--peer']) as { peer?: boolean }).peer, true);
  for (const bad of [['sctp', '10.0.0.1', '1'], ['tcp', 'x', '1'], ['tcp', '10.0.0.1', '0'], ['tcp', '10.0.0.1', '1', 'extra'],
    ['tcp', '10.0.0.1', '1', '-n', '0'], ['tcp', '10.0.0.1', '1', '--timeout', '999999'], ['tcp', '10.0.0.1', '1', '--source', 'h']]) {
    assert.type(parseProbeArgs(bad), 'string', bad.join(' '));
  }
});

test.run();
