// The record codec and the IP text functions invert each other.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCidr, formatIp, parseCidr, parseIp } from '../../runtime/encode/ip.ts';
import * as R from '../../compiler/abi/records.ts';
import { decodeRecords, encodeRecords, KIND_NAMES, type Record } from '../../runtime/encode/schema.ts';
import { cidr } from '../arb/cidr.ts';
import { ip } from '../arb/ip.ts';
import { record } from '../arb/record.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

test('decodeRecords(encodeRecords(records)) gives the records back', () => {
  const kinds = [...Object.values(KIND_NAMES), 'delete'];
  const coverage = new Coverage('records', Object.fromEntries(kinds.map((k) => [k, 0.2])));
  check(fc.property(fc.array(record(), { maxLength: 8 }), (recs) => {
    coverage.run(recs.map((r) => (r.op === 'delete' ? 'delete' : KIND_NAMES[r.kind])));
    assert.equal(decodeRecords(encodeRecords(recs)), recs);
  }));
  coverage.check();
});

test('a string that starts with U+FEFF keeps it (found by a moving seed: the decoder dropped it)', () => {
  const recs: Record[] = [{ kind: R.KIND_NAMESPACE, op: 'upsert', namespace: '', name: '\uFEFFns', body: { labels: [['\uFEFFk', '\uFEFF']] } }];
  assert.equal(decodeRecords(encodeRecords(recs)), recs);
});

test('an IPv4 dotted quad is canonical: format(parse(x)) == x', () => {
  check(fc.property(fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }), (octets) => {
    const text = octets.join('.');
    const parsed = parseIp(text);
    assert.equal(parsed, { family: 4, bytes: Uint8Array.from(octets) });
    assert.is(formatIp(parsed!), text);
  }));
});

// The grammar of a strict dotted quad, as Kubernetes validates it; parseIp scans instead.
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

test('IPv4 text is accepted exactly when it is a strict dotted quad (no leading zeros, octets 0-255)', () => {
  const near = fc.oneof( // mostly almost-addresses: digits and dots, parts of 0-4 digits
    fc.array(fc.stringMatching(/^[0-9]{0,4}$/), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')),
    fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ' ', 'a', ':', '/'), maxLength: 17 }),
    // four parts, most of them octets: without these, not one text in 500 above is an address
    { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 255 }).map(String) },
      fc.nat({ max: 999 }).map(String), fc.stringMatching(/^0[0-9]{1,2}$/)), { minLength: 4, maxLength: 4 }).map((parts) => parts.join('.')) },
  );
  const coverage = new Coverage('almost-addresses', { 'an address': 0.1, 'not one': 0.5 });
  check(fc.property(near, (text) => {
    const parsed = parseIp(text);
    coverage.run([parsed?.family === 4 ? 'an address' : 'not one']);
    assert.is(parsed?.family === 4, DOTTED_QUAD.test(text), text);
    if (parsed?.family === 4) assert.equal([...parsed.bytes], text.split('.').map(Number), text);
  }), { numRuns: 2000 });
  coverage.check();
});

// Zeros are likely, so runs of them (the :: cases) come up often.
const word = () => fc.oneof(fc.constant(0), fc.constant(0), fc.constant(1), fc.nat({ max: 0xffff }));

test('canonical IPv6 text (as the WHATWG URL parser writes it) round-trips', () => {
  check(fc.property(fc.array(word(), { minLength: 8, maxLength: 8 }), (words) => {
    const full = words.map((w) => w.toString(16)).join(':');
    const canonical = new URL(`http://[${full}]/`).hostname.slice(1, -1);
    const bytes = Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
    assert.equal(parseIp(full), { family: 6, bytes });
    assert.equal(parseIp(canonical), { family: 6, bytes });
    assert.is(formatIp({ family: 6, bytes }), canonical);
  }));
});

test('any address: parse(format(bytes)) gives the bytes back', () => {
  check(fc.property(ip(), (a) => {
    assert.equal(parseIp(formatIp(a)), a);
  }));
});

test('a CIDR with zero host bits round-trips through text', () => {
  check(fc.property(cidr(), (c) => {
    const bytes = c.ip.bytes.map((b, i) => b & (0xff00 >> Math.min(8, Math.max(0, c.prefix - 8 * i))));
    const network = { ip: { family: c.ip.family, bytes }, prefix: c.prefix };
    assert.equal(parseCidr(formatCidr(network)), network);
  }));
});

test.run();
