// compiler.wasm's checks of a batch's framing (compiler/cluster.ts): the
// host's encoder never writes a bad record, so only bytes made by hand reach
// them. Each stops the batch with its reason, instead of reading a record
// into the next one. The check of a body shorter than its size survived the
// sampled mutation run: no test had ever handed the compiler such a record,
// nor one with an IPv6 address, which the format holds and the compiler reads
// past (the normalizer keeps IPv4 only, so only a record made here has one).
// The header, by hand from compiler/abi/records.ts: size (u32, little
// endian, header included), kind (u8), op (u8), two bytes of padding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { encodeRecords, type Record, type SliceBody } from '../../runtime/encode/schema.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { ep, recordsFor, slice, svc } from '../model/kube.ts';
import { compileOnce } from '../model/maps.ts';

const deleteWeb = () => encodeRecords([{ kind: R.KIND_SERVICE, namespace: 'shop', name: 'web', op: 'delete' }]);

/** The record with `extra` bytes after its body, counted in its size. */
function padded(extra: number): Uint8Array {
  const rec = deleteWeb(), out = new Uint8Array(rec.length + extra);
  out.set(rec);
  new DataView(out.buffer).setUint32(0, rec.length + extra, true);
  return out;
}

function withSize(size: number): Uint8Array {
  const rec = deleteWeb();
  new DataView(rec.buffer, rec.byteOffset).setUint32(0, size, true);
  return rec;
}

const batch = (bytes: Uint8Array) => () => new Compiler({ node: 'n1' }).batch(bytes);

test('the record as encoded is taken: the checks below refuse only what they name', () => {
  assert.equal(new Compiler({ node: 'n1' }).batch(deleteWeb()).sections, []);
});

test('a record whose size runs past its body: refused as longer than its body', () => {
  assert.throws(batch(padded(4)), /record longer than its body/);
});

test('a size under the header, or past the end of the batch: refused as a bad record size', () => {
  assert.throws(batch(withSize(R.RECORD_HEADER_SIZE - 1)), /bad record size/);
  assert.throws(batch(withSize(deleteWeb().length + 1)), /bad record size/);
});

test('an op that is neither upsert nor delete: refused as a bad record op', () => {
  const rec = deleteWeb();
  rec[5] = 7;
  assert.throws(batch(rec), /bad record op/);
});

test('an endpoint with an IPv6 address is read past: the maps are those of the slice without it', () => {
  const records = recordsFor([svc('shop/web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }),
    slice('shop/web-1', 'web', [{ name: 'http', port: 8080 }], [ep('10.244.0.1')])]);
  const withV6 = records.map((r): Record => {
    if (r.op !== 'upsert' || r.kind !== R.KIND_ENDPOINT_SLICE) return r;
    const body = r.body as SliceBody;
    const v6 = { ...body.endpoints[0], address: { family: 6 as const, bytes: Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 0xfd : i)) } };
    return { ...r, body: { ...body, endpoints: [v6, ...body.endpoints] } };
  });
  const want = compileOnce(records, { node: 'n1' });
  assert.ok(want.some((l) => l.startsWith('sl_be ')), 'the IPv4 endpoint is a backend');
  assert.equal(compileOnce(withV6, { node: 'n1' }), want);
});

test.run();
