// loadKubeConfig: a file, else in-cluster; errors say which and why; the
// forms read without client-node agree with client-node.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kubeEvents } from '../../runtime/sources/kube.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiCredentials, loadKubeConfig, type Credentials } from '../../runtime/sources/kubeConfig.ts';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { listPages } from '../../runtime/sources/listPages.ts';
import { WATCHED_KINDS } from '../../runtime/sources/watchedKinds.ts';
import { FakeApiServer } from '../../testkit/fakeApiServer.ts';
import { FAST } from './kubeHarness.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-kubeconfig-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a kubeconfig whose cluster and user say cluster and user, and syncs one namespace from server through it. */
async function syncsThrough(server: FakeApiServer, cluster: string, user: string): Promise<void> {
  const path = join(dir, 'config');
  writeFileSync(path, `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "${server.url}", ${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: ctx, context: {cluster: fake, user: u}}]
current-context: ctx
`);
  server.apply('namespaces', { metadata: { name: 'shop' } });
  const events: KubeEvent[] = [];
  const sub = kubeEvents(await loadKubeConfig(path), FAST).subscribe((e) => events.push(e));
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = performance.now() + 4000;
      const poll = () => (events.some((e) => e.type === 'synced') ? resolve() : performance.now() > deadline ? reject(new Error('no sync')) : setTimeout(poll, 5));
      poll();
    });
    assert.is(events.length, 2);
  } finally {
    sub.unsubscribe();
  }
}

/** Every request server saw carried authorization. */
const allCarried = (server: FakeApiServer, authorization: string | undefined) =>
  assert.equal([...new Set(server.requests.map((r) => r.authorization))], [authorization]);

test('a kubeconfig file: its current context is the cluster watched', async () => {
  const server = await FakeApiServer.start();
  try {
    await syncsThrough(server, 'insecure-skip-tls-verify: true', 'token: t0k3n');
    allCarried(server, 'Bearer t0k3n');
  } finally {
    await server.close();
  }
});

test('a kubeconfig only client-node reads (a token file): its KubeConfig\'s agent and headers carry the lists and watches', async () => {
  const server = await FakeApiServer.start();
  try {
    await syncsThrough(server, 'insecure-skip-tls-verify: true', `token-file: ${join(dir, 'token')}`);
    allCarried(server, 'Bearer from-a-token-file');
  } finally {
    await server.close();
  }
});

// testkit/tls: a CA, the server's certificate for 127.0.0.1 and a client's, all signed by it.
const pem = (name: string) => readFileSync(new URL(`../../testkit/tls/${name}`, import.meta.url));
const MUTUAL_TLS = { key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: true };

test('TLS over a real connection: the CA verifies the server, the client certificate is presented, both read from the kubeconfig', async () => {
  const server = await FakeApiServer.start(MUTUAL_TLS);
  try {
    await syncsThrough(server, `certificate-authority-data: ${pem('ca.pem').toString('base64')}`,
      `client-certificate-data: ${pem('client.pem').toString('base64')}, client-key-data: ${pem('client.key').toString('base64')}`);
    allCarried(server, undefined);
  } finally {
    await server.close();
  }
});

test('TLS over a real connection: a server the CA did not sign, or no client certificate, and the list fails', async () => {
  const server = await FakeApiServer.start(MUTUAL_TLS);
  const list = (c: Partial<Credentials>) => listPages(new ApiCredentials({ server: server.url, clusterName: 'fake', skipTLSVerify: false, ...c }),
    WATCHED_KINDS[0], 500, AbortSignal.timeout(4000), 4000).next();
  try {
    await rejects(list({ cert: pem('client.pem'), key: pem('client.key') }), /self-signed certificate/);
    await rejects(list({ ca: pem('ca.pem') }), /certificate required/);
    const listed = await list({ ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') });
    assert.is(listed.done, false); // the control: the same request with both succeeds
  } finally {
    await server.close();
  }
});

const rejects = async (p: Promise<unknown>, check: RegExp | ((e: Error) => boolean)) => {
  const e = await p.then(() => undefined, (err: Error) => err);
  assert.ok(e, 'expected an error');
  assert.ok(typeof check === 'function' ? check(e!) : check.test(e!.message), e!.message);
};

test('a missing file is named in the error', () => rejects(loadKubeConfig(join(dir, 'nope')),
  (e) => e.message.startsWith(`kubeconfig ${join(dir, 'nope')}: `) && /ENOENT/.test(e.message)));

test('a file whose context names no cluster', () => {
  const path = join(dir, 'empty');
  writeFileSync(path, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: x\n');
  return rejects(loadKubeConfig(path), /names no cluster/);
});

test('no file: in-cluster config from the service environment, or a clear error outside a cluster', async () => {
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  try {
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
    await rejects(loadKubeConfig(), /not running in a cluster .*pass a kubeconfig file/);
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    assert.is((await loadKubeConfig()).getCurrentCluster()?.server, 'https://10.96.0.1:443');
  } finally {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});


// client-node's KubeConfig is the oracle: for the forms read here, the same
// server, Authorization header and TLS options it would use; for the rest,
// client-node's own KubeConfig.
const b64 = (s: string) => Buffer.from(s).toString('base64');
const kubeconfig = (cluster: string, user: string) => `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: shop}}]
current-context: x
`;
writeFileSync(join(dir, 'ca.pem'), 'CA FROM A FILE');
writeFileSync(join(dir, 'client.pem'), 'CERT FROM A FILE');
writeFileSync(join(dir, 'client.key'), 'KEY FROM A FILE');
writeFileSync(join(dir, 'token'), 'from-a-token-file');
const READ_HERE: [string, string, string][] = [
  ['a token over plain HTTP', 'server: "http://127.0.0.1:8080/", insecure-skip-tls-verify: true', 'token: abc'],
  ['CA and client certificate inline, a TLS server name', `server: "https://10.0.0.1:6443", certificate-authority-data: ${b64('CA')}, tls-server-name: kube.example`,
    `client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}`],
  ['files named relative to the kubeconfig', 'server: "https://10.0.0.1:6443", certificate-authority: ca.pem', 'client-certificate: client.pem, client-key: client.key'],
  ['a token, TLS verification off', 'server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true', 'token: t0k3n'],
  ['no credentials', 'server: "https://10.0.0.1:6443"', ''],
];
for (const [what, cluster, user] of READ_HERE) {
  test(`read here, as client-node reads it: ${what}`, async () => {
    const path = join(dir, 'read-here');
    writeFileSync(path, kubeconfig(cluster, user));
    const ours = await loadKubeConfig(path);
    assert.instance(ours, ApiCredentials);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const theirs: { headers?: { [k: string]: string }; [k: string]: unknown } = {};
    await (kc as unknown as { applyOptions(o: object): Promise<void> }).applyOptions(theirs); // what applySecurityAuthentication applies
    const { headers = {}, ...tls } = theirs;
    const o = ours as ApiCredentials;
    assert.equal(o.getCurrentCluster().server, kc.getCurrentCluster()!.server);
    assert.equal(o.authorization(), headers.Authorization);
    assert.equal(o.tlsOptions(), tls);
  });
}

const CLIENT_NODE_READS: [string, string, string][] = [
  ['an exec plugin', 'server: "https://10.0.0.1:6443"', 'exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}'],
  ['a token file', 'server: "https://10.0.0.1:6443"', `token-file: ${join(dir, 'token')}`],
  ['basic auth', 'server: "https://10.0.0.1:6443"', 'username: admin, password: secret'],
  ['impersonation', 'server: "https://10.0.0.1:6443"', 'token: abc, as: someone'],
  ['a proxy', 'server: "https://10.0.0.1:6443", proxy-url: "http://proxy:3128"', 'token: abc'],
];
for (const [what, cluster, user] of CLIENT_NODE_READS) {
  test(`left to client-node's KubeConfig: ${what}`, async () => {
    const path = join(dir, 'client-node');
    writeFileSync(path, kubeconfig(cluster, user));
    const access = await loadKubeConfig(path);
    assert.instance(access, KubeConfig);
    assert.is(access.getCurrentCluster()?.server, 'https://10.0.0.1:6443');
  });
}

test('in-cluster: the service account token is read again after a minute, as it is rotated', () => {
  const token = join(dir, 'sa-token');
  writeFileSync(token, 'one');
  const access = new ApiCredentials({ server: 'https://10.96.0.1:443', clusterName: 'inCluster', skipTLSVerify: false, tokenFile: token });
  assert.is(access.authorization(0), 'Bearer one');
  writeFileSync(token, 'two');
  assert.is(access.authorization(59_000), 'Bearer one');
  assert.is(access.authorization(61_000), 'Bearer two');
});

test.run();
