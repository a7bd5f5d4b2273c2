// A Pod's addresses as the policy compiler keeps them: an address listed
// twice (a malformed snapshot; the API server refuses it) compiles to the
// maps the address listed once gives, as the Pod comes, moves and goes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import { deleteOf, node, recordsFor, type Json } from '../model/kube.ts';

const pod = (name: string, ips: string[]): Json => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'x', labels: { app: name } },
  spec: { nodeName: 'n1', containers: [] }, status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
});
const policy: Json = {
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' },
  spec: { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] },
};

/** Every map's entries after each step (objects upserted, or deleted when del), as hex. */
function run(steps: { objects: Json[]; del?: boolean }[]): string[] {
  const c = new Compiler({ node: 'n1' }), store = new MemoryStore();
  return steps.map(({ objects, del }) => {
    const records = del ? recordsFor(objects).map(deleteOf) : recordsFor(objects);
    store.apply(c.batch(encodeRecords(records)));
    return JSON.stringify(MAPS.map(({ name }) => store.entries(name).map(([k, v]) => Buffer.from(k).toString('hex') + Buffer.from(v).toString('hex'))));
  });
}

const steps = (b: string[]) => [
  { objects: [node('n1', '192.168.0.1'), policy, pod('a', ['10.0.0.1']), pod('b', b)] },
  { objects: [pod('b', ['10.0.0.3'])] }, // its address moves
  { objects: [pod('b', b)] }, // and back
  { objects: [pod('b', b)], del: true },
];

test('an address listed twice gives the maps it gives listed once, as the Pod comes, moves and goes', () => {
  const once = run(steps(['10.0.0.2'])), twice = run(steps(['10.0.0.2', '10.0.0.2']));
  const hex = (ip: number[]) => Buffer.from(ip).toString('hex');
  assert.ok(once[0].includes(hex([10, 0, 0, 2])) && !once[1].includes(hex([10, 0, 0, 2])) && once[1].includes(hex([10, 0, 0, 3])), 'sl_ipid follows pod b');
  assert.equal(twice, once);
});

test.run();
