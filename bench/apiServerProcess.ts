// The fake API server in a process of its own, so that a benchmark reads its
// CPU apart from the agents' and its own (from /proc, by pid). Driven over the
// fork() channel:
//   { op: 'load', size }                 -> { op: 'loaded', url, kubeconfig, objects }
//   { op: 'churn', kind, count, everyMs } -> { op: 'churned', changes, ms }
//   { op: 'stats' }                      -> { op: 'stats', watchers, watchBytes }
// A churn step changes one object, one MODIFIED event to every watch of its
// kind: a pod is relabelled (its tier), as a rollout or a status update
// changes pods; a Service's slice moves its endpoints on by one pod, as a
// rollout does; a policy's egress port changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../testkit/fakeApiServer.ts';
import { networkPolicy, pod, scaleCluster, slice, type ClusterSize } from '../testkit/scaleCluster.ts';

export type ChurnKind = 'pod' | 'service' | 'policy';
type Message = { op: 'load'; size: ClusterSize } | { op: 'churn'; kind?: ChurnKind; count: number; everyMs: number } | { op: 'stats' };

const send = (m: object) => process.send!(m);
let server: FakeApiServer | undefined;
let dir: string | undefined; // the kubeconfig's, removed as the process ends
let size: ClusterSize | undefined;
let step = 0;

process.on('message', async (m: Message) => {
  if (m.op === 'load') {
    size = m.size;
    server = await FakeApiServer.start();
    let objects = 0;
    for (const [r, o] of scaleCluster(size)) {
      server.apply(r, o);
      objects++;
    }
    dir ??= mkdtempSync(join(tmpdir(), 'sluice-api-'));
    send({ op: 'loaded', url: server.url, kubeconfig: server.writeKubeconfig(join(dir, 'kubeconfig')), objects });
  } else if (m.op === 'churn') {
    const t0 = performance.now();
    for (let i = 0; i < m.count; i++) {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * m.everyMs - performance.now())));
      change(m.kind ?? 'pod', ++step);
    }
    send({ op: 'churned', changes: m.count, ms: performance.now() - t0 });
  } else if (m.op === 'stats') {
    send({ op: 'stats', watchers: server!.openWatches('pods'), watchBytes: server!.watchBytes('pods') });
  }
});
/** Change number n of a kind; a prime stride makes each change a different object. */
function change(kind: ChurnKind, n: number): void {
  const s = size!, pick = (count: number) => (n * 7919) % count;
  if (kind === 'pod') return void server!.apply('pods', pod(pick(s.namespaces * s.podsPerNamespace), s, n));
  if (kind === 'service') {
    const k = pick(s.namespaces * s.servicesPerNamespace);
    return void server!.apply('endpointslices', slice(Math.floor(k / s.servicesPerNamespace), k % s.servicesPerNamespace, s, n));
  }
  const k = pick(s.namespaces * s.policiesPerNamespace), egress = (k % s.policiesPerNamespace) | 1; // egress policies have the port
  server!.apply('networkpolicies', networkPolicy(Math.floor(k / s.policiesPerNamespace), egress, s, 1000 + (n % 1000)));
}

process.on('disconnect', () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  void server?.close().then(() => process.exit(0));
});
