// Which healthCheckNodePorts a node serves and the local endpoint count each
// answers with, from records alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { HealthCheckTargets } from '../../runtime/agent/healthCheckTargets.ts';
import { parseIp } from '../../runtime/encode/ip.ts';
import type { Record } from '../../runtime/encode/schema.ts';

const svc = (name: string, type: number, flags: number, hc: number): Record => ({
  kind: R.KIND_SERVICE, namespace: 'shop', name, op: 'upsert',
  body: { type, flags, healthCheckNodePort: hc, affinityTimeout: 0, created: 0, clusterIPs: [], externalIPs: [], loadBalancerIPs: [], sourceRanges: [], ports: [] },
});
const ep = (ip: string, nodeName: string, conditions = R.COND_READY | R.COND_SERVING) => ({ address: parseIp(ip)!, conditions, nodeName, zone: '', forZones: [] });
const slice = (name: string, service: string, endpoints: ReturnType<typeof ep>[]): Record => ({
  kind: R.KIND_ENDPOINT_SLICE, namespace: 'shop', name, op: 'upsert', body: { serviceName: service, addressType: R.ADDR_IPV4, ports: [], endpoints },
});
const del = (kind: 1 | 2, name: string): Record => ({ kind, namespace: 'shop', name, op: 'delete' });
const LB = R.SVC_TYPE_LOAD_BALANCER, LOCAL = R.SVCF_EXTERNAL_LOCAL;

test('LoadBalancer, externalTrafficPolicy Local and a port: a target; anything less is not', () => {
  const t = new HealthCheckTargets('n1');
  assert.ok(t.update([svc('lb', LB, LOCAL, 31000), svc('cluster', LB, 0, 31001), svc('np', R.SVC_TYPE_NODE_PORT, LOCAL, 31002), svc('noport', LB, LOCAL, 0)]));
  assert.equal(t.targets(), [{ port: 31000, namespace: 'shop', name: 'lb', localEndpoints: 0 }]);
  assert.not.ok(t.update([svc('other', R.SVC_TYPE_CLUSTER_IP, 0, 0)]), 'nothing to do with targets');
});

test('local ready endpoints, counted once per address over every slice; terminating and remote ones are not', () => {
  const t = new HealthCheckTargets('n1');
  t.update([svc('lb', LB, LOCAL, 31000), slice('lb-a', 'lb', [ep('10.0.0.1', 'n1'), ep('10.0.0.2', 'n2'), ep('10.0.0.3', 'n1', R.COND_SERVING | R.COND_TERMINATING)])]);
  assert.is(t.targets()[0].localEndpoints, 1);
  assert.ok(t.update([slice('lb-b', 'lb', [ep('10.0.0.1', 'n1'), ep('10.0.0.4', 'n1')])]));
  assert.is(t.targets()[0].localEndpoints, 2, '10.0.0.1 is in both slices');
  t.update([del(R.KIND_ENDPOINT_SLICE, 'lb-b')]);
  assert.is(t.targets()[0].localEndpoints, 1);
  t.update([slice('lb-a', 'lb', [ep('10.0.0.2', 'n2')])]);
  assert.is(t.targets()[0].localEndpoints, 0, 'the slice lost its local endpoint');
  t.update([slice('x', 'lb', [ep('10.0.0.9', 'n1')]), del(R.KIND_SERVICE, 'lb')]);
  assert.equal(t.targets(), [], 'the Service went; its slices do not make a target');
  t.update([svc('lb', LB, LOCAL, 31000)]);
  assert.is(t.targets()[0].localEndpoints, 1, 'a slice seen before the Service counts once it is back');
});

test.run();
