// A policy group whose id bucket is full (forced with 1 hash bit: 2 buckets
// of 16 ranks) isolates its pods and allows nothing, and is reported: fail
// closed, never open.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { normalize } from '../../runtime/encode/records.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { mapVerdict, NodePolicy } from '../model/policyMaps.ts';
import { namespace, node, pod, policy } from '../oracles/oracles.ts';

const rec = (o: object): Record => normalize(o).record!;

test('more groups than a bucket has ranks: the unnumbered ones deny, and a problem names them', () => {
  const objects = [node('n1', '10.1.0.1'), namespace('x', {}), pod({ name: 'client', namespace: 'x', ip: '10.0.1.1', node: 'n1', labels: { role: 'client' }, ports: [] })];
  for (let i = 0; i < 40; i++) {
    objects.push(pod({ name: `p${i}`, namespace: 'x', ip: `10.0.0.${i + 1}`, node: 'n1', labels: { id: `${i}` }, ports: [] }));
    objects.push(policy({ name: `np${i}`, namespace: 'x', spec: { podSelector: { matchLabels: { id: `${i}` } }, ingress: [{}] } }));
  }
  const c = new Compiler({ node: 'n1', idBits: 1 });
  const store = new MemoryStore();
  store.apply(c.batch(encodeRecords(objects.map(rec))));
  const maps = new NodePolicy(store);
  const unnumbered = Array.from({ length: 40 }, (_, i) => `10.0.0.${i + 1}`).filter((ip) => maps.lookupIpid(ip)!.group[A.SL_DIR_INGRESS] === A.SL_GROUP_UNNUMBERED);
  assert.ok(unnumbered.length >= 40 - 2 * 16, `${unnumbered.length} groups without an id`);
  for (const ip of unnumbered) assert.equal(mapVerdict({ src: '10.0.1.1', dst: ip, protocol: 'TCP', port: 80 }, maps, maps), { egress: true, ingress: false });
  const numbered = Array.from({ length: 40 }, (_, i) => `10.0.0.${i + 1}`).find((ip) => !unnumbered.includes(ip))!;
  assert.equal(mapVerdict({ src: '10.0.1.1', dst: numbered, protocol: 'TCP', port: 80 }, maps, maps), { egress: true, ingress: true });
  const problems = c.problems().filter((p) => p.reason.includes('got no id'));
  assert.is(problems.length, unnumbered.length);
});

test.run();
