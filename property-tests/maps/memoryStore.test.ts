// MemoryStore (--dry-run's, compile's and replay's maps) answers as the
// kernel's maps do where a diff or a reader is wrong: a delete of a key it
// does not hold is refused (ENOENT), and a lookup in a map it does not keep
// (the datapath's own state maps) finds nothing. Both survived the sampled
// mutation run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore, StoreError } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { deleteOf, ep, recordsFor, slice, svc } from '../model/kube.ts';

const web = (...ips: string[]) => recordsFor([svc('shop/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }),
  slice('shop/web-1', 'web', [{ name: 'http', port: 8080 }], ips.map((ip) => ep(ip)))]);

test('MemoryStore: a diff that deletes a key it does not hold is refused, naming the map and the key, as the kernel answers ENOENT', () => {
  const c = new Compiler({ node: 'n1' });
  c.batch(encodeRecords(web('10.244.0.1')));
  const gone = c.batch(encodeRecords(web('10.244.0.1').map(deleteOf)));
  const first = gone.sections.find((x) => x.deleteKeys.length > 0)!;
  const key = Buffer.from(first.deleteKeys.subarray(0, first.map.key.size)).toString('hex');
  const upserts = gone.sections.filter((x) => x.map.id < first.map.id).reduce((n, x) => n + x.upsertKeys.length / x.map.key.size, 0)
    + first.upsertKeys.length / first.map.key.size;
  try {
    new MemoryStore().apply(gone);
    assert.unreachable('applied');
  } catch (e) {
    assert.instance(e, StoreError);
    assert.is((e as StoreError).message, `delete ${first.map.name}: key ${key} not present`);
    assert.is((e as StoreError).applied, upserts, 'the upserts before it were applied');
  }
});

test('MemoryStore keeps no state map: a lookup in sl_ct finds nothing, as a lookup of a missing key does', () => {
  assert.is(new MemoryStore().lookup('sl_ct', new Uint8Array(16)), undefined);
});

test.run();
