// loadKubeConfig: a file, else in-cluster; errors say which and why.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kubeEvents, loadKubeConfig } from '../../runtime/sources/kube.ts';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { FakeApiServer } from '../../testkit/fakeApiServer.ts';
import { FAST } from './kubeHarness.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-kubeconfig-'));

test('a kubeconfig file: its current context is the cluster watched', async () => {
  const server = await FakeApiServer.start();
  const path = join(dir, 'config');
  writeFileSync(path, `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t0k3n}}]
contexts: [{name: ctx, context: {cluster: fake, user: u}}]
current-context: ctx
`);
  server.apply('namespaces', { metadata: { name: 'shop' } });
  const events: KubeEvent[] = [];
  const sub = kubeEvents(loadKubeConfig(path), FAST).subscribe((e) => events.push(e));
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = performance.now() + 4000;
      const poll = () => (events.some((e) => e.type === 'synced') ? resolve() : performance.now() > deadline ? reject(new Error('no sync')) : setTimeout(poll, 5));
      poll();
    });
    assert.is(events.length, 2);
  } finally {
    sub.unsubscribe();
    await server.close();
  }
});

test('a missing file is named in the error', () => {
  assert.throws(() => loadKubeConfig(join(dir, 'nope')), (e: Error) => e.message.startsWith(`kubeconfig ${join(dir, 'nope')}: `) && /ENOENT/.test(e.message));
});

test('a file whose context names no cluster', () => {
  const path = join(dir, 'empty');
  writeFileSync(path, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: x\n');
  assert.throws(() => loadKubeConfig(path), /names no cluster/);
});

test('no file: in-cluster config from the service environment, or a clear error outside a cluster', () => {
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  try {
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
    assert.throws(() => loadKubeConfig(), /not running in a cluster .*pass a kubeconfig file/);
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    assert.is(loadKubeConfig().getCurrentCluster()?.server, 'https://10.96.0.1:443');
  } finally {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test.run();
