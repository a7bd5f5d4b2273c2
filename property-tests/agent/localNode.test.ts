// LocalNode: what the agent keeps of the records for its node's interfaces
// and for sl_podnet: its own Node and pods, and the other Nodes' podCIDRs,
// with update() saying when any of it changed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalNode } from '../../runtime/agent/localNode.ts';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf, upserts } from '../../runtime/streams/recordsOf.ts';
import type { Record } from '../../runtime/encode/schema.ts';

const node = (name: string, ip: string, podCIDR: string) =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
const pod = (name: string, nodeName: string, podIP: string) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo' }, spec: { nodeName }, status: { phase: 'Running', podIP } });
const records = (...objects: unknown[]): Record[] => upserts(recordsOf(snapshotEvents(objects)).records).map((r) => ({ ...r, op: 'upsert' }) as Record);

test('the other Nodes\' podCIDRs are facts too; a change of one is a change', () => {
  const l = new LocalNode('n1');
  assert.ok(l.update(records(node('n1', '10.0.0.1', '10.244.1.0/24'), node('n2', '10.0.0.2', '10.244.2.0/24'), pod('a', 'n1', '10.244.1.5'), pod('b', 'n2', '10.244.2.6'))));
  const f = l.facts()!;
  assert.equal([f.internalIp, f.pods, f.peerPodCidrs], ['10.0.0.1', [{ pod: 'demo/a', ip: '10.244.1.5' }], ['10.244.2.0/24']]);
  assert.not.ok(l.update(records(node('n2', '10.0.0.2', '10.244.2.0/24'), pod('b', 'n2', '10.244.2.7'))), 'same podCIDR, another node\'s pod: no change');
  assert.ok(l.update(records(node('n3', '10.0.0.3', '10.244.3.0/24'))), 'a new node');
  assert.equal(l.facts()!.peerPodCidrs.sort(), ['10.244.2.0/24', '10.244.3.0/24']);
  const gone = upserts(recordsOf(snapshotEvents([node('n2', '10.0.0.2', '10.244.2.0/24')])).records).map((r) => ({ ...r, op: 'delete' }) as Record);
  assert.ok(l.update(gone), 'a node gone');
  assert.equal(l.facts()!.peerPodCidrs, ['10.244.3.0/24']);
});

test.run();
