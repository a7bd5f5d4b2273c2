// What the socket iterators write (struct stale_sock, 16 bytes: vip, backend,
// vport, port, all big-endian, then proto and 3 pad bytes), decoded and
// summed up per frontend. The records are written here byte by byte from the
// header's comment, not through the generated layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeStaleSocks, describeStaleSocks } from '../../runtime/bpf/staleRecords.ts';

const record = (vip: number[], backend: number[], vport: number, port: number, proto: number) =>
  [...vip, ...backend, vport >> 8, vport & 255, port >> 8, port & 255, proto, 0, 0, 0];

test('records decode to frontend, backend and protocol', () => {
  const bytes = new Uint8Array([...record([10, 96, 0, 10], [10, 244, 1, 50], 53, 53, 17), ...record([10, 96, 81, 81], [10, 244, 2, 13], 80, 8080, 6)]);
  assert.equal(decodeStaleSocks(bytes), [
    { frontend: '10.96.0.10:53', backend: '10.244.1.50:53', proto: 'UDP' },
    { frontend: '10.96.81.81:80', backend: '10.244.2.13:8080', proto: 'TCP' },
  ]);
  assert.equal(decodeStaleSocks(new Uint8Array(0)), []);
});

test('a torn record is an error, not a guess', () => {
  assert.throws(() => decodeStaleSocks(new Uint8Array(record([10, 96, 0, 10], [10, 244, 1, 50], 53, 53, 17).slice(0, 15))), /15 bytes, not whole 16-byte records/);
});

test('the summary counts per frontend and protocol, in text order', () => {
  const s = (frontend: string, proto: 'TCP' | 'UDP') => ({ frontend, backend: '10.244.1.50:53', proto });
  assert.is(describeStaleSocks([]), 'none');
  assert.is(describeStaleSocks([s('10.96.81.81:80', 'TCP'), s('10.96.0.10:53', 'UDP'), s('10.96.0.10:53', 'UDP'), s('10.96.0.10:53', 'TCP')]),
    '4 destroyed (10.96.0.10:53/TCP 1, 10.96.0.10:53/UDP 2, 10.96.81.81:80/TCP 1)');
});

test.run();
