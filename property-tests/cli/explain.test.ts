// sluice explain: arguments, exit status, the JSON contract of issue 10, and
// the bundled x/y/z example's matrix against the reference evaluator.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Evaluator, type Cluster, type Json } from '../model/netpol.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const XYZ = new URL('../../examples/netpol-xyz.yaml', import.meta.url).pathname;
const sluice = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'explain', ...args], { encoding: 'utf8' });

test('usage errors and unknown pods exit 2; help exits 0', () => {
  for (const args of [[], [XYZ], [XYZ, '--from', 'x/a', '--to', 'x/b'], [XYZ, '--from', 'x/a', '--port', '80'],
    [XYZ, '--from', 'x/a', '--to', 'x/b', '--port', '0'], [XYZ, '--from', 'x/a', '--to', 'x/b', '--port', '80', '--protocol', 'ICMP'],
    [XYZ, '--matrix', '--from', 'x/a', '--port', '80'], [XYZ, '--from', 'x/a', '--to', 'x/b', '--port', '80,81'],
    [XYZ, '--from', 'x/nope', '--to', 'x/b', '--port', '80'], [XYZ, '--from', 'x/a', '--to', 'x/nope', '--port', '80']]) {
    const r = sluice(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.is(r.stdout, '');
  }
  const help = sluice('--help');
  assert.equal([help.status, help.stderr], [0, '']);
  assert.match(help.stdout, /^usage: sluice explain <file>\.\.\. --from/);
});

test('one flow as JSON: the deciding rule, the lookups; a miss names the rule that matched the peer only', () => {
  const allow = JSON.parse(sluice(XYZ, '--from', 'y/b', '--to', 'x/a', '--port', '80', '--format', 'json').stdout);
  assert.is(allow.verdict, 'allow');
  assert.equal([allow.ingress.isolated, allow.ingress.allowedBy], [true, ['x/allow-a-from-y ingress[0]']]);
  assert.ok(allow.ingress.lookups.some((l: Json) => l.map === 'sl_pol' && typeof l.found === 'string'));
  const deny = JSON.parse(sluice(XYZ, '--from', 'y/b', '--to', 'x/a', '--port', '81', '--format', 'json').stdout);
  assert.is(deny.verdict, 'deny');
  assert.equal(deny.ingress.misses, [{ rule: 'x/allow-a-from-y ingress[0]', matched: 'peer', missed: 'port' }]);
  const r = sluice(XYZ, '--from', 'z/b', '--to', 'x/b', '--port', '80');
  assert.is(r.status, 0, 'a deny is an answer');
  assert.match(r.stdout, /^z\/b \(10\.3\.2\.10\) -> x\/b \(10\.1\.2\.10\) 80\/TCP: deny\n  egress:  isolated, no rule allows/);
});

test('--matrix: every ordered pair, JSON as the issue fixes it, equal to the reference evaluator', () => {
  const r = sluice(XYZ, '--matrix', '--port', '80,81', '--protocol', 'TCP,UDP', '--format', 'json');
  assert.is(r.status, 0);
  const { verdicts } = JSON.parse(r.stdout) as { verdicts: Json[] };
  assert.is(verdicts.length, 9 * 9 * 4);
  assert.equal(Object.keys(verdicts[0]), ['from', 'to', 'port', 'protocol', 'verdict', 'egress', 'ingress']);
  assert.equal(Object.keys(verdicts[0].egress as Json), ['isolated', 'allowedBy']);
  const items = (yaml.load(readFileSync(XYZ, 'utf8')) as { items: Json[] }).items;
  const cluster: Cluster = {
    pods: items.filter((o) => o.kind === 'Pod'), namespaces: items.filter((o) => o.kind === 'Namespace'),
    policies: items.filter((o) => o.kind === 'NetworkPolicy'), nodes: items.filter((o) => o.kind === 'Node'),
  };
  const ev = new Evaluator(cluster);
  const ip = (ref: string) => ((cluster.pods.find((p) => `${(p.metadata as Json).namespace}/${(p.metadata as Json).name}` === ref)!.status as Json).podIP as string);
  let denied = 0;
  for (const v of verdicts) {
    const want = ev.evaluate({ src: ip(v.from as string), dst: ip(v.to as string), protocol: v.protocol as 'TCP', port: v.port as number });
    assert.is(v.verdict, want.allowed ? 'allow' : 'deny', `${v.from} -> ${v.to} ${v.port}/${v.protocol}`);
    if (want.egress?.isolated) assert.equal((v.egress as Json).allowedBy, want.egress.allowedBy);
    if (want.ingress?.isolated) assert.equal((v.ingress as Json).allowedBy, want.ingress.allowedBy);
    if (!want.allowed) denied++;
  }
  assert.ok(denied > 20);
  const table = sluice(XYZ, '--matrix', '--namespace', 'x,z', '--port', '80').stdout;
  assert.match(table, /^80\/TCP {2}\(rows: from, columns: to; \. allowed, X denied\)\n {6}x\/a  x\/b  x\/c  z\/a  z\/b  z\/c\nx\/a {3}\. {4}\. {4}\. {4}\. {4}\. {4}\.\n/);
});

test('input with a rejected object: the answer, and exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-explain-'));
  try {
    const bad = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'bad', namespace: 'x' },
      spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {} }, { ipBlock: { cidr: '10.0.0.300/8' } }] }] } };
    writeFileSync(join(dir, 'bad.yaml'), yaml.dump(bad));
    const r = sluice(XYZ, join(dir, 'bad.yaml'), '--from', 'y/b', '--to', 'x/a', '--port', '80');
    assert.is(r.status, 1);
    assert.match(r.stderr, /rejected NetworkPolicy x\/bad: spec\.ingress\[0\]\.from\[1\]\.ipBlock\.cidr: /);
    assert.match(r.stdout, /: allow\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
