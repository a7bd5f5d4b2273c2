// problemsVersion is the agent's cue to read the compiler's problems, a walk
// of the whole cluster (runtime/agent/problemsWatch.ts): it must move when
// they change (incremental.prop.ts checks that over random histories) and
// stay put through the churn of a cluster that has none, or every batch
// pays for the walk. Mutants that bump it on every removed backend set
// (compiler/engine.ts, recompile), every compiled Service or every touched
// id bucket (renumber) survived the first sampled mutation run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { deleteOf as gone, ep, recordsFor as records, slice, svc } from '../model/kube.ts';

const web = (i: number, ...ips: string[]) => [svc(`shop/web${i}`, { clusterIP: `10.96.0.${i}`, ports: [{ name: 'http', port: 80 }] }),
  slice(`shop/web${i}-1`, `web${i}`, [{ name: 'http', port: 8080 }], ips.map((ip) => ep(ip)))];

test('a cluster without problems: Services added, their endpoints changed, Services removed; problemsVersion never moves', () => {
  // at one id hash bit every name lands in one of two buckets: each batch touches a bucket (renumber)
  const c = new Compiler({ node: 'n1', idBits: 1 });
  c.batch(encodeRecords(records([...web(1, '10.244.0.1'), ...web(2, '10.244.0.2')])));
  const v = c.problemsVersion();
  const steps: [string, Record[]][] = [
    ['a Service added', records(web(3, '10.244.0.3'))],
    ['its endpoints changed', records(web(3, '10.244.0.3', '10.244.0.4'))],
    ['a port renamed: one backend set leaves, another comes', records([svc('shop/web3', { clusterIP: '10.96.0.3', ports: [{ name: 'web', port: 80 }] }),
      slice('shop/web3-1', 'web3', [{ name: 'web', port: 8080 }], [ep('10.244.0.3')])])],
    ['a Service removed, its slice with it', records(web(1, '10.244.0.1')).map(gone)],
  ];
  for (const [what, batch] of steps) {
    c.batch(encodeRecords(batch));
    assert.equal(c.problems(), [], what);
    assert.is(c.problemsVersion(), v, what);
  }
});

test('the same cluster, then two Services on one ClusterIP and port: problemsVersion moves, and moves back when one goes', () => {
  const c = new Compiler({ node: 'n1', idBits: 1 });
  c.batch(encodeRecords(records([...web(1, '10.244.0.1'), ...web(2, '10.244.0.2')])));
  const v = c.problemsVersion();
  const clash = svc('shop/clash', { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80 }] });
  c.batch(encodeRecords(records([clash])));
  assert.is(c.problems().length, 1, JSON.stringify(c.problems()));
  const w = c.problemsVersion();
  assert.is.not(w, v, 'a conflict came');
  c.batch(encodeRecords(records([clash]).map(gone)));
  assert.equal(c.problems(), []);
  assert.is.not(c.problemsVersion(), w, 'the conflict went');
});

test.run();
