// `sluice testbed` on the real kernel (root): namespaces, veths, echo servers,
// the diff of `testbed apply`, and a takedown that leaves nothing behind.
// Traffic stays between the namespaces these tests make. Each test takes its
// testbed down in `finally`, under a prefix unique to this process. The
// library is called directly (a CLI run costs a second of imports on a busy
// machine); the CLI is run where only it can be tested: arguments, exit
// status, exec, and a crash half way through `up`.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nsenter, run, start, tryRunAsync } from '../../runtime/exec/command.ts';
import { linksIn, listNetns, netnsUnavailableReason, readSysctl } from '../../runtime/exec/namespaces.ts';
import { down as testbedDown } from '../../runtime/testbed/down.ts';
import { isAlive } from '../../runtime/testbed/echo.ts';
import { isTestbedNetns, pinBase, ROUTER_IP, runDir, statePath } from '../../runtime/testbed/names.ts';
import { readState, type TestbedState, type Wiring } from '../../runtime/testbed/state.ts';
import { up as testbedUp, update } from '../../runtime/testbed/testbed.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const PROBE = new URL('../../runtime/testbed/probe.ts', import.meta.url).pathname;
const CLUSTER = new URL('../../examples/cluster.yaml', import.meta.url).pathname;
const SMALL = new URL('../fixtures/testbed-small.yaml', import.meta.url).pathname;
const SMALL_NEXT = new URL('../fixtures/testbed-small-next.yaml', import.meta.url).pathname;

const reason = netnsUnavailableReason();
if (reason && process.env.CI) {
  test('network namespaces are usable (required in CI)', () => assert.unreachable(`testbed tests cannot run: ${reason}`));
} else if (reason) {
  console.log(`# SKIP testbed tests: ${reason}`);
}
const nsTest = reason ? test.skip : test;

/** A prefix no other process running these tests uses: "t", the pid in base 36, a tag. */
const prefixFor = (tag: string) => `t${process.pid.toString(36)}${tag}`;

const quiet = () => {};
const up = (prefix: string, file: string, sluice = false, wiring: Wiring = 'bridged') =>
  testbedUp({ files: [file], prefix, sluice, ttl: 300, clientIps: [], rpFilter: 2, wiring }, quiet);
const down = (prefix: string) => testbedDown(prefix, quiet);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, 'testbed', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** The probe's answers, run inside netns: one line per attempt. */
async function probe(netns: string, proto: 'tcp' | 'udp', ip: string, port: number, count = 1): Promise<string[]> {
  const r = await tryRunAsync(nsenter(netns, ['node', PROBE, proto, ip, String(port), '-n', String(count), '--timeout', '1500']), { timeoutMs: 20_000 });
  return r.stdout.trimEnd().split('\n');
}

const podNetns = (s: TestbedState, key: string) => s.pods.find((p) => p.key === key)!.netns;
const escape = (text: string) => text.replace(/[.]/g, '\\.');

/** Every line is the pod's answer to client. */
function answered(lines: string[], pod: string, client: string): void {
  assert.ok(lines.length > 0);
  for (const l of lines) assert.match(l, new RegExp(`^${escape(pod)} ${escape(client)}:\\d+$`), `answer "${l}"`);
}

/** The IPv4 settings of netns that decide what a node forwards and accepts ("all", as a node's interfaces inherit them). */
function sysctls(netns: string): { [name: string]: string } {
  const keys = ['ip_forward', 'conf.all.rp_filter', 'conf.all.accept_local', 'conf.all.send_redirects'];
  const values = readSysctl(netns, keys.map((k) => `net.ipv4.${k}`));
  return Object.fromEntries(keys.map((k, i) => [k.split('.').at(-1)!, values[i]]));
}

/** Nothing of the testbed is left: namespaces, state, logs, echo servers, pins. */
function assertGone(prefix: string, s: TestbedState | undefined): void {
  assert.equal(listNetns().filter((n) => isTestbedNetns(prefix, n)), [], 'namespaces left');
  assert.not.ok(existsSync(statePath(prefix)), 'state file left');
  assert.not.ok(existsSync(runDir(prefix)), 'run directory left');
  assert.not.ok(existsSync(pinBase(prefix)), 'pins left');
  assert.equal((s?.pods ?? []).filter((p) => p.echo && isAlive(p.echo)).map((p) => p.echo!.pid), [], 'echo servers left');
}

nsTest('cluster.yaml, no sluice: pods reach pods on their node and across, TCP and UDP, and see the real client; so does the external client', async () => {
  const prefix = prefixFor('u');
  let s: TestbedState | undefined;
  try {
    s = up(prefix, CLUSTER);
    assert.is(s.pods.length, 12);
    const web = podNetns(s, 'shop/web-7c5d9f8b6-a1'); // node-a, 10.244.1.11
    const ext = s.external.netns;
    const [sameTcp, sameUdp, crossTcp, crossUdp, extTcp, extUdp, unused] = await Promise.all([
      probe(web, 'tcp', '10.244.1.20', 53, 2), probe(web, 'udp', '10.244.1.20', 53, 2),
      probe(web, 'tcp', '10.244.2.12', 8080, 2), probe(web, 'udp', '10.244.2.12', 8080, 2),
      probe(ext, 'tcp', '10.244.1.30', 8080), probe(ext, 'udp', '10.244.2.60', 8443),
      probe(web, 'tcp', '10.244.1.99', 8080),
    ]);
    for (const same of [sameTcp, sameUdp]) answered(same, 'kube-system/coredns-5d78c9869d-4xk2p', '10.244.1.11');
    for (const cross of [crossTcp, crossUdp]) answered(cross, 'shop/web-7c5d9f8b6-b2', '10.244.1.11');
    answered(extTcp, 'edge/ingress-6f4b8d7c5-a1', '192.168.50.254');
    answered(extUdp, 'edge/gateway-0', '192.168.50.254');
    assert.equal(unused, ['error EHOSTUNREACH'], 'an unused IP of a pod CIDR is unreachable, not looped');
    assert.ok(linksIn(s.nodes[0].netns).includes(s.pods.find((p) => p.key === 'shop/web-7c5d9f8b6-a1')!.hostIface));
    assert.equal(sysctls(s.nodes[0].netns), { ip_forward: '1', rp_filter: '2', accept_local: '0', send_redirects: '1' },
      'a real node\'s defaults (systemd\'s rp_filter) and forwarding, nothing else');
  } finally {
    down(prefix);
  }
  assertGone(prefix, s);
});

nsTest('the CLI: up, exec in a pod and on a node (exit status passed through), status, down', () => {
  const prefix = prefixFor('e');
  let s: TestbedState | undefined;
  try {
    const r = cli('up', SMALL, '--no-sluice', '--prefix', prefix, '--ttl', '300', '--rp-filter', '0');
    assert.is(r.status, 0, r.err);
    assert.match(r.out, new RegExp(`^testbed ${prefix}: 2 nodes, 3 pods, bridged underlay 172\\.30\\.4\\.0/24, nodes' rp_filter 0, sluice off`));
    assert.match(r.err, /skipped Pod kube-system\/agent-x: hostNetwork/);
    s = readState(prefix);
    const addr = cli('exec', 'demo/web-1', '--prefix', prefix, '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0');
    assert.match(addr.out, /inet 10\.50\.1\.11\/32/);
    assert.is(cli('exec', 'node/node-2', '--prefix', prefix, '--', 'sh', '-c', 'exit 7').status, 7);
    assert.is(cli('exec', 'demo/nope', '--prefix', prefix, '--', 'true').status, 1);
    assert.is(cli('up', SMALL, '--no-sluice', '--prefix', prefix).status, 1, 'a prefix already up is refused');
    const d = cli('down', '--prefix', prefix);
    assert.equal([d.status, d.err], [0, `testbed ${prefix}: down: 7 namespaces deleted, 3 echo servers stopped, 0 pins removed\n`]);
  } finally {
    down(prefix);
  }
  assertGone(prefix, s);
});

nsTest('routed wiring, no sluice: nodes and the external client each on a link to a router, which is the next hop to the other node\'s pods', async () => {
  const prefix = prefixFor('r');
  let s: TestbedState | undefined;
  try {
    s = up(prefix, SMALL, false, 'routed');
    const web1 = podNetns(s, 'demo/web-1'), ext = s.external.netns;
    const [cross, fromExt] = await Promise.all([probe(web1, 'tcp', '10.50.2.12', 8080, 2), probe(ext, 'udp', '10.50.2.20', 53)]);
    answered(cross, 'demo/web-2', '10.50.1.11');
    answered(fromExt, 'kube-system/dns-1', s.external.ip);
    const via = run(['ip', '-n', s.nodes[0].netns, '-j', 'route', 'get', '10.50.2.12']);
    assert.equal(JSON.parse(via)[0].gateway, ROUTER_IP, 'node-1 reaches node-2\'s pods through the router');
    assert.not.ok(linksIn(s.underlay.netns).includes('br0'), 'no bridge');
  } finally {
    down(prefix);
  }
  assertGone(prefix, s);
});

nsTest('testbed apply: a vanished pod is removed, a new one made, the others left running', async () => {
  const prefix = prefixFor('a');
  let s: TestbedState | undefined, after: TestbedState | undefined;
  try {
    s = up(prefix, SMALL);
    const pid = (st: TestbedState, key: string) => st.pods.find((p) => p.key === key)?.echo?.pid;
    assert.equal(update(prefix, [SMALL_NEXT], true, quiet), { added: ['demo/web-3'], removed: ['demo/web-2'], restarted: [] });
    after = readState(prefix)!;
    assert.equal(after.pods.map((p) => p.key).sort(), ['demo/web-1', 'demo/web-3', 'kube-system/dns-1']);
    assert.equal([pid(after, 'demo/web-1'), pid(after, 'kube-system/dns-1')], [pid(s, 'demo/web-1'), pid(s, 'kube-system/dns-1')], 'untouched pods keep their servers');
    const gone = s.pods.find((p) => p.key === 'demo/web-2')!;
    assert.not.ok(isAlive(gone.echo!), 'the removed pod\'s server is stopped');
    assert.not.ok(listNetns().includes(gone.netns), 'the removed pod\'s namespace is deleted');
    assert.not.ok(linksIn(after.nodes[1].netns).includes(gone.hostIface), 'and its veth');
    const web1 = podNetns(after, 'demo/web-1');
    const [toNew, fromNew, toGone] = await Promise.all([
      probe(web1, 'tcp', '10.50.1.13', 8080), probe(podNetns(after, 'demo/web-3'), 'udp', '10.50.2.20', 53), probe(web1, 'tcp', '10.50.2.12', 8080),
    ]);
    answered(toNew, 'demo/web-3', '10.50.1.11');
    answered(fromNew, 'kube-system/dns-1', '10.50.1.13');
    assert.equal(toGone, ['error EHOSTUNREACH']);
    assert.equal(update(prefix, [SMALL_NEXT], true, quiet), { added: [], removed: [], restarted: [] }, 'the same snapshot again changes nothing');
    assert.equal(readState(prefix)!.pods.map((p) => p.echo?.pid), after.pods.map((p) => p.echo?.pid));
  } finally {
    down(prefix);
  }
  assertGone(prefix, after);
  assert.not.ok(s!.pods.some((p) => p.echo && isAlive(p.echo)));
});

nsTest('two testbeds of one snapshot under different prefixes coexist; taking one down leaves the other', async () => {
  const [pa, pb] = [prefixFor('x'), prefixFor('y')];
  let a: TestbedState | undefined, b: TestbedState | undefined;
  try {
    a = up(pa, SMALL);
    b = up(pb, SMALL);
    answered(await probe(podNetns(a, 'demo/web-1'), 'tcp', '10.50.2.12', 8080), 'demo/web-2', '10.50.1.11');
    down(pa);
    assertGone(pa, a);
    answered(await probe(podNetns(b, 'demo/web-1'), 'udp', '10.50.2.20', 9153), 'kube-system/dns-1', '10.50.1.11');
  } finally {
    down(pa);
    down(pb);
  }
  assertGone(pb, b);
});

nsTest('down after a crash: up killed half way, or its state file lost', () => {
  const prefix = prefixFor('c');
  try {
    const child = start(['node', MAIN, 'testbed', 'up', CLUSTER, '--no-sluice', '--prefix', prefix]);
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000 && listNetns().filter((n) => isTestbedNetns(prefix, n)).length < 6) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    child.kill('SIGKILL');
    const s = readState(prefix);
    assert.ok(s && s.netns.length >= 6, 'the state file names what is made, before it is made');
    down(prefix);
    assertGone(prefix, s);
    const made = up(prefix, SMALL);
    rmSync(statePath(prefix));
    const lines: string[] = [];
    const report = testbedDown(prefix, (l) => lines.push(l));
    assert.equal([report.fromState, report.netns.length, report.stopped, report.warnings], [false, 7, 3, []]);
    assert.match(lines[0], /no state file: found by name/);
    assertGone(prefix, made);
  } finally {
    down(prefix);
  }
});

const sluiceReason = reason ?? (!existsSync(new URL('../../build/bpf/sluice.o', import.meta.url)) ? 'build/bpf/sluice.o not built (npm run build:bpf)' : null);
if (!reason && sluiceReason) console.log(`# SKIP testbed with sluice: ${sluiceReason}`);

(sluiceReason ? test.skip : test)('with sluice: apply on every node, each with its own pin root; down removes the pins', async () => {
  const prefix = prefixFor('s');
  let s: TestbedState | undefined;
  try {
    s = up(prefix, SMALL, true);
    for (const n of s.nodes) assert.ok(existsSync(n.pinRoot), `pins of ${n.name}`);
    const web1 = s.pods.find((p) => p.key === 'demo/web-1')!;
    assert.match(run(['tc', '-n', s.nodes[0].netns, 'filter', 'show', 'dev', web1.hostIface, 'ingress']), /sl_from_pod/);
    answered(await probe(web1.netns, 'tcp', '10.50.2.12', 8080), 'demo/web-2', '10.50.1.11');
    const report = down(prefix);
    assert.ok(report.pins > 0 && report.warnings.length === 0, JSON.stringify(report));
  } finally {
    down(prefix);
  }
  assertGone(prefix, s);
});

test.run();
