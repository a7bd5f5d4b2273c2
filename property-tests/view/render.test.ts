// render(): the table, the JSON contract and the hex map dump with its hash.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import type { View } from '../../runtime/view/frontends.ts';
import { render } from '../../runtime/view/render.ts';
import { mapImage, type Entry } from '../model/mapImage.ts';
import { parseU32 } from '../../runtime/encode/ipv4.ts';

const VIEW: View = {
  node: 'node-a',
  frontends: [
    { service: 'shop/api', type: 'LoadBalancer', ip: '203.0.113.10', port: 443, protocol: 'TCP', trafficPolicy: 'Local', backends: [],
      affinitySeconds: 3600, sourceRanges: ['192.0.2.0/25', '198.51.100.0/24'] },
    { service: 'shop/web', type: 'ClusterIP', ip: '10.96.10.10', port: 80, protocol: 'TCP', trafficPolicy: 'Cluster',
      backends: [{ ip: '10.244.1.11', port: 8080 }, { ip: '10.244.2.12', port: 8080 }], affinitySeconds: null, sourceRanges: null },
  ],
  maps: { sl_svc: { entries: 2 }, sl_be: { entries: 2 }, sl_maglev: { entries: 0 }, sl_srcrange: { entries: 2 }, sl_svcname: { entries: 2 } },
  rejected: [
    { object: 'File x.yaml', field: '', reason: 'bad indentation at line 3, column 1' },
    { object: 'Service shop/bad', field: 'spec.ports[0].port', reason: '0 is out of range 1-65535' },
  ],
  notes: [{ object: 'Service shop/dual', field: 'spec.clusterIPs[1]', note: 'IPv6 is not supported yet; fd00::1 skipped' }],
};

const sp = (n: number) => ' '.repeat(n);

test('table: header, aligned rows, rejections, notes, map counts', () => {
  assert.fixture(render('table', { view: VIEW, store: new MemoryStore(), ignored: 3 }), [
    'node node-a: 2 frontends, 2 rejections, 1 note',
    `SERVICE${sp(3)}TYPE${sp(10)}FRONTEND${sp(14)}POLICY${sp(3)}BACKENDS${sp(27)}AFFINITY${sp(2)}SOURCE-RANGES`,
    `shop/api${sp(2)}LoadBalancer${sp(2)}203.0.113.10:443/TCP${sp(2)}Local${sp(4)}none (rejects)${sp(21)}3600s${sp(5)}192.0.2.0/25,198.51.100.0/24`,
    `shop/web${sp(2)}ClusterIP${sp(5)}10.96.10.10:80/TCP${sp(4)}Cluster${sp(2)}10.244.1.11:8080,10.244.2.12:8080${sp(2)}-${sp(9)}-`,
    '',
    'rejected:',
    '  File x.yaml  bad indentation at line 3, column 1',
    '  Service shop/bad  spec.ports[0].port: 0 is out of range 1-65535',
    '',
    'notes:',
    '  Service shop/dual  spec.clusterIPs[1]: IPv6 is not supported yet; fd00::1 skipped',
    '',
    'map entries: sl_svc 2, sl_be 2, sl_maglev 0, sl_srcrange 2, sl_svcname 2; 3 objects of other kinds ignored',
    '',
  ].join('\n'));
});

test('table without frontends, findings or a node', () => {
  const view: View = { ...VIEW, node: null, frontends: [], rejected: [], notes: [] };
  assert.fixture(render('table', { view, store: new MemoryStore(), ignored: 0 }), [
    'node (none): 0 frontends, 0 rejections, 0 notes',
    'SERVICE  TYPE  FRONTEND  POLICY  BACKENDS  AFFINITY  SOURCE-RANGES',
    '',
    'map entries: sl_svc 2, sl_be 2, sl_maglev 0, sl_srcrange 2, sl_svcname 2',
    '',
  ].join('\n'));
});

test('json: the view as one line', () => {
  const out = render('json', { view: VIEW, store: new MemoryStore(), ignored: 3 });
  assert.ok(out.endsWith('}\n') && out.indexOf('\n') === out.length - 1, 'one line');
  assert.equal(JSON.parse(out), VIEW);
});

const ENTRIES: Entry[] = [
  { map: 'sl_svcname', key: { bset: 1 }, value: { name: 'a/b' } },
  { map: 'sl_svc', key: { vip: parseU32('10.96.0.1'), port: 80, proto: 6, scope: 0 }, value: { bset: 1, count: 1, slots: 100 } },
  { map: 'sl_svc', key: { vip: parseU32('10.96.0.0'), port: 80, proto: 6, scope: 0 }, value: { bset: 1, count: 1, slots: 100 } },
];

function storeOf(entries: Entry[]): MemoryStore {
  const s = new MemoryStore();
  for (const e of entries) s.apply(mapImage([e])); // one diff per entry: insertion order varies with the list
  return s;
}

test('maps: every map in id order, entries in key order, and a sha256 of the canonical stream', () => {
  const out = render('maps', { view: VIEW, store: storeOf(ENTRIES), ignored: 0 });
  const name = Buffer.alloc(128);
  name.write('a/b');
  // svc_key: vip be32, port be16, proto, scope; svc_val: bset, slots, affinity (le32), count (le16), kind, flags
  const svcKey0 = '0a600000' + '0050' + '06' + '00', svcKey1 = '0a600001' + '0050' + '06' + '00';
  const svcValue = '01000000' + '64000000' + '00000000' + '0100' + '00' + '00';
  const lines = [
    'node node-a',
    'map sl_svc (2 entries)',
    `${svcKey0} ${svcValue}`,
    `${svcKey1} ${svcValue}`,
    'map sl_be (0 entries)',
    'map sl_maglev (0 entries)',
    'map sl_srcrange (0 entries)',
    'map sl_svcname (1 entries)',
    `00000001 ${name.toString('hex')}`,
    ...['sl_ipid', 'sl_polcidr', 'sl_pol', 'sl_polname', 'sl_polstate'].map((m) => `map ${m} (0 entries)`),
  ];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const stream = Buffer.concat([
    u32(A.SL_MAP_SVC), u32(2), Buffer.from(svcKey0 + svcValue + svcKey1 + svcValue, 'hex'),
    u32(A.SL_MAP_BE), u32(0), u32(A.SL_MAP_MAGLEV), u32(0), u32(A.SL_MAP_SRCRANGE), u32(0),
    u32(A.SL_MAP_SVCNAME), u32(1), Buffer.from('00000001', 'hex'), name,
    ...[A.SL_MAP_IPID, A.SL_MAP_POLCIDR, A.SL_MAP_POL, A.SL_MAP_POLNAME, A.SL_MAP_POLSTATE].flatMap((m) => [u32(m), u32(0)]),
  ]);
  assert.fixture(out, [...lines, `sha256 ${createHash('sha256').update(stream).digest('hex')}`, ''].join('\n'));
});

test('maps: the same contents give the same bytes, whatever the order they arrived in', () => {
  const a = render('maps', { view: VIEW, store: storeOf(ENTRIES), ignored: 0 });
  const b = render('maps', { view: VIEW, store: storeOf([...ENTRIES].reverse()), ignored: 0 });
  assert.is(a, b);
  const changed = render('maps', { view: VIEW, store: storeOf([...ENTRIES, { map: 'sl_be', key: { bset: 1, id: 1 }, value: {} }]), ignored: 0 });
  assert.is.not(changed.split('\n').at(-2), a.split('\n').at(-2), 'another map content, another hash');
});

test.run();
