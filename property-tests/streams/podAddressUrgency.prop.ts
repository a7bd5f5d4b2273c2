// PodAddressUrgency against a model written from its rule: a Pod's record is
// urgent when a NetworkPolicy exists and the pod's addresses (as text, in
// order) are not empty and not the ones it last had. Records of a few pods
// and policies, addresses from a small pool (one IPv4 address, two, an IPv6
// one, none), so that an address comes back, moves to another pod, and a pod
// moves between one address and several. Reach is counted and bounded below.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { parseIp, type Ip } from '../../runtime/encode/ip.ts';
import { refKey } from '../../runtime/encode/objectKey.ts';
import type { Record } from '../../runtime/encode/schema.ts';
import { PodAddressUrgency } from '../../runtime/streams/podAddressUrgency.ts';
import { check } from '../seed.ts';

const ADDRESSES = [[], ['10.244.1.5'], ['10.244.1.6'], ['10.244.1.5', '10.244.2.5'], ['fd00::5'], ['10.244.1.6', 'fd00::6']];

const ip = (text: string): Ip => parseIp(text)!;

const podRecord = fc.record({ name: fc.constantFrom('a', 'b', 'c'), addresses: fc.constantFrom(...ADDRESSES), op: fc.constantFrom('upsert', 'upsert', 'delete') })
  .map(({ name, addresses, op }): { record: Record; text: string } => {
    const ref = { kind: R.KIND_POD, namespace: 'shop', name };
    const record = op === 'delete' ? { ...ref, op: 'delete' as const }
      : { ...ref, op: 'upsert' as const, body: { nodeName: 'n1', flags: 0, podIPs: addresses.map(ip), labels: [], ports: [] } };
    return { record: record as Record, text: op === 'delete' ? '' : addresses.join(',') };
  });

const policyRecord = fc.record({ name: fc.constantFrom('deny', 'allow'), op: fc.constantFrom('upsert', 'upsert', 'upsert', 'delete') })
  .map(({ name, op }): { record: Record; text: string } => ({
    record: { kind: R.KIND_NETWORK_POLICY, namespace: 'shop', name, op } as Record, text: '',
  }));

test('a Pod\'s record is urgent exactly when a policy exists and its addresses are new and not none', () => {
  const reach = { urgent: 0, same: 0, changed: 0, noPolicy: 0 };
  check(fc.property(fc.array(fc.oneof(podRecord, podRecord, policyRecord), { maxLength: 40 }), (drawn) => {
    const urgency = new PodAddressUrgency();
    const policies = new Set<string>(), last = new Map<string, string>();
    for (const { record: r, text } of drawn) {
      const key = refKey(r);
      let want = false;
      if (r.kind === R.KIND_NETWORK_POLICY) {
        if (r.op === 'upsert') policies.add(key);
        else policies.delete(key);
      } else if (r.op === 'delete') last.delete(key);
      else {
        const was = last.get(key);
        last.set(key, text);
        want = policies.size > 0 && text !== '' && text !== was;
        if (want) reach.urgent++;
        else if (policies.size === 0) reach.noPolicy++;
        else if (text === was) reach.same++;
        if (was !== undefined && was !== '' && text !== '' && text !== was && policies.size > 0) reach.changed++;
      }
      assert.is(urgency.urgent(key, r), want, `${key} ${r.op} ${text}`);
    }
  }), { numRuns: 500 });
  console.log(`# urgency: ${reach.urgent} urgent, ${reach.changed} of them a pod's addresses changed, ${reach.same} unchanged under a policy, ${reach.noPolicy} without one`);
  assert.ok(reach.urgent > 300 && reach.changed > 60 && reach.same > 25 && reach.noPolicy > 300, JSON.stringify(reach));
});

test.run();
