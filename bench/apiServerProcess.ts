// The fake API server in a process of its own, so that a benchmark reads its
// CPU apart from the agents' and its own (from /proc, by pid). Driven over the
// fork() channel:
//   { op: 'load', size }                 -> { op: 'loaded', url, kubeconfig, objects }
//   { op: 'churn', count, everyMs }      -> { op: 'churned', changes, ms }
//   { op: 'stats' }                      -> { op: 'stats', watchers, watchBytes }
// A churn step relabels one pod (its tier), as a rollout or a status update
// changes pods: one MODIFIED event to every watch of pods.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../property-tests/model/fakeApiServer.ts';
import { pod, scaleCluster, type ClusterSize } from './scaleCluster.ts';

type Message = { op: 'load'; size: ClusterSize } | { op: 'churn'; count: number; everyMs: number } | { op: 'stats' };

const send = (m: object) => process.send!(m);
let server: FakeApiServer | undefined;
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
    send({ op: 'loaded', url: server.url, kubeconfig: server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'sluice-api-')), 'kubeconfig')), objects });
  } else if (m.op === 'churn') {
    const pods = size!.namespaces * size!.podsPerNamespace;
    const t0 = performance.now();
    for (let i = 0; i < m.count; i++) {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * m.everyMs - performance.now())));
      step++;
      server!.apply('pods', pod((step * 7919) % pods, size!, step)); // a prime stride: each change a different pod
    }
    send({ op: 'churned', changes: m.count, ms: performance.now() - t0 });
  } else if (m.op === 'stats') {
    send({ op: 'stats', watchers: server!.openWatches('pods'), watchBytes: server!.watchBytes('pods') });
  }
});
process.on('disconnect', () => void server?.close().then(() => process.exit(0)));
