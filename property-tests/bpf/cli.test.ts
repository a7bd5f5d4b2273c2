// sluice apply, maps and detach end to end, as root, on a node made of
// network namespaces: apply twice changes nothing the second time, the live
// view equals the compiled one, detach takes everything away.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SL_CT_ESTABLISHED, SL_CT_REPLY, SL_DROP_NO_BACKEND } from '../../runtime/abi/layouts.generated.ts';
import { cgroup2Mount } from '../../runtime/bpf/cgroup2Mount.ts';
import { possibleCpus } from '../../runtime/bpf/maps.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import type { LiveView } from '../../runtime/view/live.ts';
import { dropNetns, dropPinRoot, fixtureObject, ipIn, kernelTest, MAIN, REAL_OBJECT, REPO, scratchNetns, scratchPinRoot, tcIn } from './env.ts';
import { tryRun } from '../../runtime/exec/command.ts';

const it = kernelTest({ netns: true });
const CLUSTER = new URL('../../examples/cluster.yaml', import.meta.url).pathname;
const sluice = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

/**
 * node-a as a namespace: slh0 is the host side of web-a1's veth (its IP
 * routed there), sln0 holds the Node's InternalIP. Removed after.
 */
function withNode(body: (ns: string, root: string) => void): void {
  const ns = scratchNetns('node'), pod = scratchNetns('pod');
  const root = scratchPinRoot();
  try {
    ipIn(ns, 'link', 'add', 'slh0', 'type', 'veth', 'peer', 'name', 'slp0', 'netns', pod);
    ipIn(ns, 'link', 'add', 'sln0', 'type', 'veth', 'peer', 'name', 'slx0');
    ipIn(ns, 'addr', 'add', '192.168.50.10/24', 'dev', 'sln0');
    for (const l of ['slh0', 'sln0']) ipIn(ns, 'link', 'set', l, 'up');
    ipIn(pod, 'addr', 'add', '10.244.1.11/32', 'dev', 'slp0');
    ipIn(ns, 'route', 'add', '10.244.1.11/32', 'dev', 'slh0');
    body(ns, root);
  } finally {
    dropNetns(pod);
    dropNetns(ns);
    dropPinRoot(root);
  }
}

function run(...args: string[]): string {
  const r = sluice(...args);
  assert.is(r.status, 0, `sluice ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The apply, maps and detach scenario against one datapath object. */
function scenario(object: string): void {
  withNode((ns, root) => {
    const apply = () => run('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', object);
    const first = apply();
    assert.match(first, /^node node-a: .*\nmaps: sl_svc \+16 -0, sl_be \+\d+ -0, .* \(\d+ ops, 10 syscalls\)\n/);
    assert.match(first, '\nsln0 (holds 192.168.50.10): sl_from_netdev ingress attached\n');
    assert.match(first, '\nslh0 (pod shop/web-7c5d9f8b6-a1 10.244.1.11): sl_from_pod ingress attached, sl_to_pod egress attached\n');
    assert.match(first, '\nskipped pod kube-system/coredns-5d78c9869d-4xk2p 10.244.1.20: no route; not a local pod interface');
    assert.match(tcIn(ns, 'filter', 'show', 'dev', 'slh0', 'egress'), 'sl_to_pod');
    assert.match(tcIn(ns, 'filter', 'show', 'dev', 'sln0', 'ingress'), 'sl_from_netdev');
    // the cgroup programs act on ns's sockets only, and it runs no process
    assert.match(first, /\nhost services \(root cgroup \/\S+\): sl_connect4 attached, sl_sendmsg4 attached, sl_recvmsg4 attached, sl_getpeername4 attached, sl_sock_release attached\n/);
    assert.ok(existsSync(`${root}/sl_connect4_link`), 'the link is pinned under the pin root');

    const second = apply();
    assert.match(second, '\nmaps: no change\n');
    assert.not.match(second, /attached|replaced/);
    assert.match(second, 'slh0 (pod shop/web-7c5d9f8b6-a1 10.244.1.11): sl_from_pod ingress unchanged, sl_to_pod egress unchanged');

    const compiled = JSON.parse(run('compile', CLUSTER, '--node', 'node-a', '--format', 'json'));
    const live = JSON.parse(run('maps', '--pin-root', root, '--format', 'json', '--node', 'node-a')) as LiveView;
    assert.equal(live.frontends, compiled.frontends);
    assert.equal(live.maps, compiled.maps);
    assert.equal(Object.keys(live), [...Object.keys(compiled), 'stats', 'conntrack'], 'compile keys first, unrenamed');
    assert.is(run('maps', '--pin-root', root, '--format', 'maps', '--node', 'node-a'), run('compile', CLUSTER, '--node', 'node-a', '--format', 'maps'));
    assert.match(run('maps', '--pin-root', root), /^node \(none\): 15 frontends, 0 rejections, 0 notes\n/);

    assert.is(run('detach', '--netns', ns, '--pin-root', root), 'slh0: detached from ingress and egress\nsln0: detached from ingress\n' +
      'host services: sl_connect4, sl_sendmsg4, sl_recvmsg4, sl_getpeername4, sl_sock_release detached\n');
    assert.not.ok(existsSync(`${root}/sl_connect4_link`));
    assert.not.match(tcIn(ns, 'qdisc', 'show'), 'clsact');
    assert.match(run('detach', '--netns', ns, '--pin-root', root, '--pins'), `no interface had sluice programs\nremoved ${root}: sl_affinity, sl_be,`);
    assert.not.ok(existsSync(root));
    const gone = sluice('maps', '--pin-root', root);
    assert.equal([gone.status, gone.stderr], [1, `sluice maps: no maps pinned at ${root}: run \`sluice apply\` first (or check --pin-root)\n`]);
  });
}

it('apply twice (the second changes nothing), maps equal to compile, detach (fixture datapath)', () => scenario(fixtureObject()));

if (existsSync(REAL_OBJECT)) {
  it('the same with build/bpf/sluice.o', () => scenario(REAL_OBJECT));
} else {
  console.log(`# SKIP the scenario with ${REAL_OBJECT}: not built (npm run build:bpf)`);
}

it('detach --pins removes sluice\'s pins only: another tool\'s map stays, even under one of sluice\'s names, and so does the directory', () => {
  withNode((ns, root) => {
    run('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject());
    const theirs = S.mapCreate(S.BPF_MAP_TYPE.HASH, 4, 4, 8, 0, 'other_tool');
    const pins = [`${root}/other_tool`, `${root}/sl_svcname_v0`];
    try {
      S.objPin(theirs, pins[0]);
      run('detach', '--netns', ns, '--pin-root', root); // the links go: their names are free to misuse
      S.objPin(theirs, `${root}/sl_connect4_link`); // a map under a link's name
      pins.push(`${root}/sl_connect4_link`);
      S.objPin(theirs, pins[1]);
      const out = run('detach', '--netns', ns, '--pin-root', root, '--pins');
      assert.match(out, `\nremoved from ${root}: sl_affinity, sl_be, sl_ct, sl_frag, sl_ipid, sl_maglev, sl_podnet, sl_pol, sl_polcidr, `);
      assert.match(out, `\nleft 3 pins that sluice did not make: other_tool, sl_connect4_link, sl_svcname_v0\n`);
      for (const p of pins) assert.ok(existsSync(p), p);
      assert.not.ok(existsSync(`${root}/sl_svc`));
    } finally {
      S.close(theirs);
      for (const p of pins) if (existsSync(p)) unlinkSync(p);
    }
  });
});

it('--no-host-services: no cgroup programs, and those of an earlier apply detached', () => {
  withNode((ns, root) => {
    const apply = (...more: string[]) => run('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject(), ...more);
    assert.not.match(apply('--no-host-services'), 'host services');
    assert.not.ok(existsSync(`${root}/sl_connect4_link`));
    assert.match(apply(), 'sl_connect4 attached');
    assert.match(apply('--no-host-services'), '\nhost services off: sl_connect4, sl_sendmsg4, sl_recvmsg4, sl_getpeername4, sl_sock_release detached\n');
    assert.not.ok(existsSync(`${root}/sl_connect4_link`));
  });
});

it('--cgroup-root: the hierarchy named is the one attached to; a directory that is not cgroup2 fails, naming the flag', () => {
  withNode((ns, root) => {
    const apply = (...more: string[]) => sluice('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject(), ...more);
    const cgroup = cgroup2Mount(readFileSync('/proc/mounts', 'utf8'))!;
    const r = apply('--cgroup-root', cgroup);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, `\nhost services (root cgroup ${cgroup}): sl_connect4 attached,`);
    const bad = apply('--cgroup-root', root);
    assert.is(bad.status, 1);
    assert.match(bad.stderr, `host services: ${root} is not a cgroup2 filesystem; name the cgroup v2 root with --cgroup-root`);
  });
});

it('maps: counters summed over CPUs by sl_stat name, conntrack as tuple => rewrite', () => {
  withNode((ns, root) => {
    run('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject());
    const stats = S.objGet(`${root}/sl_stats`)!, ct = S.objGet(`${root}/sl_ct`)!;
    try {
      const perCpu = new DataView(new ArrayBuffer(16 * possibleCpus()));
      for (let cpu = 0; cpu < possibleCpus(); cpu++) {
        perCpu.setBigUint64(16 * cpu, BigInt(cpu + 1), true);
        perCpu.setBigUint64(16 * cpu + 8, 100n, true);
      }
      const slot = -SL_DROP_NO_BACKEND; // a drop reason's slot in sl_stats: its negation
      S.mapUpdate(stats, new Uint8Array(new Uint32Array([slot]).buffer), new Uint8Array(perCpu.buffer));
      const key = Uint8Array.from([10, 96, 10, 10, 10, 244, 1, 11, 0, 80, 0x9c, 0x40, 6, 0, 0, 0]); // VIP:80 -> pod:40000, the reply direction
      const value = new Uint8Array(40);
      const v = new DataView(value.buffer);
      v.setBigUint64(0, process.hrtime.bigint() + 1_000_000_000_000n, true);
      value.set([10, 244, 2, 12, 10, 244, 1, 11, 0x1f, 0x90, 0x9c, 0x40], 8);
      value[28] = SL_CT_ESTABLISHED;
      value[29] = SL_CT_REPLY;
      S.mapUpdate(ct, key, value);
    } finally {
      S.close(stats);
      S.close(ct);
    }
    const live = JSON.parse(run('maps', '--pin-root', root, '--format', 'json')) as LiveView;
    const n = possibleCpus();
    assert.equal(live.stats.SL_DROP_NO_BACKEND, { packets: (n * (n + 1)) / 2, bytes: 100 * n });
    assert.equal(live.conntrack.map((e) => ({ ...e, secondsLeft: e.secondsLeft > 900 && e.secondsLeft <= 1000 })), [{
      protocol: 'TCP', tuple: { saddr: '10.96.10.10', sport: 80, daddr: '10.244.1.11', dport: 40000 },
      rewrite: { saddr: '10.244.2.12', sport: 8080, daddr: '10.244.1.11', dport: 40000 },
      state: 'ESTABLISHED', flags: ['REPLY'], bset: 0, backend: 0, secondsLeft: true,
    }]);
    const table = run('maps', '--pin-root', root);
    assert.match(table, `\n  SL_DROP_NO_BACKEND ${(n * (n + 1)) / 2} packets, ${100 * n} bytes\n`);
    assert.match(table, /\nconntrack: 1 entry\n  TCP 10\.96\.10\.10:80 -> 10\.244\.1\.11:40000 => 10\.244\.2\.12:8080 -> 10\.244\.1\.11:40000  ESTABLISHED REPLY  (9\d\d|1000)s left\n$/);
    run('detach', '--netns', ns, '--pin-root', root, '--pins');
  });
});

it('failures: exit 1 and one line naming what and why', () => {
  withNode((ns, root) => {
    const r = sluice('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject(), '--be-max', '3');
    assert.equal([r.status, r.stderr], [1, 'sluice apply: update sl_be: map full (max_entries 3; this change needs 18); raise --be-max\n']);
    const ghost = sluice('apply', CLUSTER, '--node', 'node-z', '--netns', ns, '--pin-root', root, '--object', fixtureObject());
    assert.equal([ghost.status, ghost.stderr], [1, 'sluice apply: no Node node-z in the snapshot: pass --node-ip, or include the Node\n']);
    const iface = sluice('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject(), '--pod-ifaces', 'nope0');
    assert.equal([iface.status, iface.stderr], [1, 'sluice apply: --pod-ifaces: no interface named nope0\n']);
    const broken = sluice('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject('SL_MINI_BROKEN'), '--verbose');
    assert.is(broken.status, 1);
    assert.match(broken.stderr, /^sluice apply: load sl_to_pod: the verifier rejected it: R0 invalid mem access 'map_value_or_null' [^\n]*\n  caused by: load [^\n]+\.o: [^\n]+\n.*-- BEGIN PROG LOAD LOG --/s);
    const quiet = sluice('apply', CLUSTER, '--node', 'node-a', '--netns', ns, '--pin-root', root, '--object', fixtureObject('SL_MINI_BROKEN'));
    assert.equal(quiet.stderr.split('\n').length, 2, 'one line without --verbose');
  });
});

/**
 * The CLI as user nobody. A checkout under a home only root may enter (a
 * clone in /root) is bound, in a mount namespace of the child's own, at a
 * path nobody can reach; node (the devDependency) comes with it.
 */
function runAsNobody(...argv: string[]): ReturnType<typeof tryRun> {
  const repo = REPO.replace(/\/$/, '');
  const at = mkdtempSync('/tmp/sl-test-checkout-');
  chmodSync(at, 0o755);
  const seen = (p: string) => (p.startsWith(`${repo}/`) ? at + p.slice(repo.length) : p);
  try {
    return tryRun(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" "$1" && shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"',
      repo, at, ...[process.execPath, ...argv].map(seen)]);
  } finally {
    rmSync(at, { recursive: true, force: true });
  }
}

it('as another user than root: maps and detach --pins say that the pins are root\'s, not that there are none', () => {
  const top = `/sys/fs/bpf/sl-test-${process.pid}-private`;
  mkdirSync(top, { mode: 0o700 }); // as systemd mounts /sys/fs/bpf: 0700, so others cannot even see what is in it
  try {
    const root = `${top}/sluice`;
    mkdirSync(root, { mode: 0o700 });
    const asNobody = (...args: string[]) => runAsNobody(MAIN, ...args);
    const why = `${root}: permission denied (EACCES): sluice's pins belong to root; run as root\n`;
    const maps = asNobody('maps', '--pin-root', root);
    assert.equal([maps.status, maps.stderr], [1, `sluice maps: ${why}`]); // said "run \`sluice apply\` first"
    const detach = asNobody('detach', '--pins', '--pin-root', root);
    assert.equal([detach.status, detach.stderr], [1, `sluice detach: ${why}`]); // said "no pins", exit 0
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('usage errors exit 2', () => {
  for (const args of [['apply', CLUSTER], ['apply', '--node', 'a'], ['apply', CLUSTER, '--node', 'a', '--svc-max', 'lots'],
    ['apply', CLUSTER, '--node', 'a', '--pod-ifaces', 'x', '--pod-iface-prefix', 'y'], ['apply', CLUSTER, '--node', 'a', '--node-ip', '::1'],
    ['maps', '--format', 'xml'], ['maps', 'extra'], ['detach', '--bogus']]) {
    const r = sluice(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^sluice \w+: [^\n]+\nusage: sluice /);
  }
  for (const c of ['apply', 'maps', 'detach']) assert.match(run(c, '--help'), `usage: sluice ${c}`);
});

test.run();
