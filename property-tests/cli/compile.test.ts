// sluice compile: arguments, exit status, and the bundled examples end to end
// (these need build/compiler.*.wasm: `npm run build`).
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCompileArgs } from '../../runtime/cli/compile.ts';
import { UsageError } from '../../runtime/cli/io.ts';
import type { View } from '../../runtime/view/frontends.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const example = (name: string) => new URL(`../../examples/${name}`, import.meta.url).pathname;
const sluice = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('arguments', () => {
  const [a, b] = [example('cluster.yaml'), example('bad.yaml')];
  assert.equal(parseCompileArgs([a, '--node', 'n1', b]), { files: [a, b], node: 'n1', format: 'table' });
  assert.equal(parseCompileArgs(['--format', 'maps', a]), { files: [a], node: undefined, format: 'maps' });
  assert.is(parseCompileArgs(['--help']), undefined);
  for (const bad of [[], ['a.yaml', '--format', 'xml'], ['a.yaml', '--verbose'], ['a.yaml', '--node'], ['a.yaml', '--node', '']]) {
    assert.throws(() => parseCompileArgs(bad), (e: unknown) => e instanceof UsageError, bad.join(' '));
  }
});

test('usage errors exit 2 with one line and the usage on stderr', () => {
  for (const args of [['compile'], ['compile', '--format', 'xml', 'x.yaml'], ['compile', '--bogus', 'x.yaml'], ['frobnicate'], []]) {
    const r = sluice(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.is(r.stdout, '');
    assert.match(r.stderr, /^sluice[^\n]*\nusage: sluice/);
  }
  const help = sluice('compile', '--help');
  assert.equal([help.status, help.stderr], [0, '']);
  assert.match(help.stdout, /^usage: sluice compile <file>\.\.\./);
});

test('what is really wrong, with exit 2: a --node the input lacks, an input file that is not there or is a directory', () => {
  for (const [args, message] of [
    [['compile', example('cluster.yaml'), '--node', 'node-z'], 'sluice compile: --node node-z: the input has no Node of that name (its Nodes: node-a, node-b)\n'],
    [['compile', example('bad.yaml'), '--node', 'node-a'], 'sluice compile: --node node-a: the input has no Node of that name (it has no Node)\n'],
    [['compile', example('cluster.yaml'), '/nonexistent/cluster.yaml'], 'sluice compile: cannot read /nonexistent/cluster.yaml: no such file\n'],
    [['compile', example('')], `sluice compile: cannot read ${example('')}: a directory, not a file\n`],
    [['apply', '/nonexistent/cluster.yaml', '--node', 'node-a'], 'sluice apply: cannot read /nonexistent/cluster.yaml: no such file\n'],
  ] as [string[], string][]) {
    const r = sluice(...args);
    assert.equal([r.status, r.stdout], [2, ''], args.join(' '));
    assert.ok(r.stderr.startsWith(message), r.stderr);
  }
});

test('cluster.yaml: exit 0, one JSON document per node, in name order', () => {
  const out = execFileSync(process.execPath, [MAIN, 'compile', example('cluster.yaml'), '--format', 'json'], { encoding: 'utf8' });
  const views = out.trimEnd().split('\n').map((line) => JSON.parse(line) as View);
  assert.equal(views.map((v) => [v.node, v.rejected, v.notes]), [['node-a', [], []], ['node-b', [], []]]);
  const find = (v: View, service: string, type: string) => v.frontends.find((f) => f.service === service && f.type === type);
  const [a, b] = views;
  // externalTrafficPolicy Local: node-a runs the only endpoint, node-b has none to offer
  assert.equal(find(a, 'edge/ingress', 'NodePort'), { service: 'edge/ingress', type: 'NodePort', ip: '192.168.50.10', port: 30080, protocol: 'TCP',
    trafficPolicy: 'Local', backends: [{ ip: '10.244.1.30', port: 8080 }], affinitySeconds: null, sourceRanges: null });
  assert.equal(find(b, 'edge/ingress', 'NodePort')?.backends, []);
  assert.equal(find(a, 'shop/api', 'LoadBalancer')?.sourceRanges, ['192.0.2.0/25', '198.51.100.0/24']);
  assert.is(find(a, 'shop/cart', 'ClusterIP')?.affinitySeconds, 3600);
  assert.equal(find(a, 'shop/checkout', 'ClusterIP')?.backends, [{ ip: '10.244.1.70', port: 9090 }], 'terminating but serving: used when nothing is ready');
  assert.equal(find(a, 'shop/reports', 'ClusterIP')?.backends, []);
  assert.equal(find(a, 'shop/web', 'ClusterIP')?.backends.map((x) => x.ip), ['10.244.1.11', '10.244.2.12', '10.244.2.13']);
  assert.equal(a.frontends.filter((f) => f.service === 'shop/web-headless' || f.service === 'default/docs'), [], 'headless and ExternalName have no frontend');
  assert.equal(a.frontends.filter((f) => f.service === 'kube-system/kube-dns').map((f) => f.protocol), ['TCP', 'UDP']);
});

test('bad.yaml: exit 1, the output still complete', () => {
  const r = sluice('compile', example('bad.yaml'), '--format', 'json');
  assert.is(r.status, 1);
  const view = JSON.parse(r.stdout) as View;
  assert.equal(view.rejected.map((x) => x.object), [
    'EndpointSlice default/orphan-slice', 'Service default/?', 'Service default/bad-cluster-ip',
    'Service default/port-out-of-range', 'Service default/unknown-protocol',
  ]);
  assert.equal(view.frontends.map((f) => `${f.service} ${f.ip}:${f.port}`), ['default/fine 10.96.100.5:80']);
});

test('maps output is the same on every run and for every file order', () => {
  const run = (...files: string[]) => sluice('compile', ...files, '--node', 'node-a', '--format', 'maps').stdout;
  const once = run(example('cluster.yaml'), example('bad.yaml'));
  assert.is(run(example('cluster.yaml'), example('bad.yaml')), once);
  assert.is(run(example('bad.yaml'), example('cluster.yaml')), once);
  assert.match(once, /\nsha256 [0-9a-f]{64}\n$/);
});

test.run();
