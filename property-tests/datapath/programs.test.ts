// The datapath object as a whole: its programs load (the verifier of this
// kernel accepts each), its maps are defined as the design says and agree
// with the generated layouts, and its .rodata is the config the loader
// writes, nothing else. The BTF checks need no privilege.
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as A from '../../runtime/abi/layouts.generated.ts';
import { bpfTest, OBJECT, PROGRAMS, SOCK_PROGRAMS, withDatapath } from './harness.ts';
import { NODE, NODE_NETS } from './cluster.ts';
import { run } from '../../runtime/exec/command.ts';

interface BtfType { id: number; kind: string; name: string; type_id?: number; nr_elems?: number; size?: number;
  members?: { name: string; type_id: number }[]; vars?: { type_id: number; offset: number; size: number }[] }

function btfOf(path: string): Map<number, BtfType> {
  const json = JSON.parse(run(['bpftool', '-j', 'btf', 'dump', 'file', path]));
  return new Map((json.types as BtfType[]).map((t) => [t.id, t]));
}

/** The variables of a DATASEC: name, offset, size. */
function sectionVars(btf: Map<number, BtfType>, section: string) {
  const sec = [...btf.values()].find((t) => t.kind === 'DATASEC' && t.name === section);
  if (!sec) return undefined;
  return sec.vars!.map((v) => ({ name: btf.get(v.type_id)!.name, offset: v.offset, size: v.size, type: btf.get(v.type_id)!.type_id! }));
}

/** A libbpf map definition (struct of __uint/__type members) as plain values. */
function mapDef(btf: Map<number, BtfType>, structId: number) {
  const out: { [k: string]: number | string } = {};
  for (const m of btf.get(structId)!.members!) {
    const target = btf.get(btf.get(m.type_id)!.type_id!)!; // every member is a pointer
    out[m.name] = target.kind === 'ARRAY' ? target.nr_elems! : target.name;
  }
  return out;
}

const BPF_MAP_TYPE = { HASH: 1, PERCPU_ARRAY: 6, LRU_HASH: 9, LPM_TRIE: 11 };
const NO_PREALLOC = 1, PIN_BY_NAME = 1;

/** The maps of bpf/include/sluice_maps.h as the design specifies them. */
const EXPECTED: { [map: string]: { type: number; max_entries: number; map_flags?: number; key: string; value: string } } = {
  sl_svc: { type: BPF_MAP_TYPE.HASH, max_entries: 65536, key: 'svc_key', value: 'svc_val' },
  sl_be: { type: BPF_MAP_TYPE.HASH, max_entries: 262144, key: 'be_key', value: 'be_val' },
  sl_maglev: { type: BPF_MAP_TYPE.HASH, max_entries: 1048576, map_flags: NO_PREALLOC, key: 'maglev_key', value: 'maglev_val' },
  sl_srcrange: { type: BPF_MAP_TYPE.LPM_TRIE, max_entries: 16384, map_flags: NO_PREALLOC, key: 'srcrange_key', value: 'srcrange_val' },
  sl_svcname: { type: BPF_MAP_TYPE.HASH, max_entries: 131072, map_flags: NO_PREALLOC, key: 'svcname_key', value: 'svcname_val' },
  sl_ipid: { type: BPF_MAP_TYPE.HASH, max_entries: 65536, key: 'ipid_key', value: 'ipid_val' },
  sl_polcidr: { type: BPF_MAP_TYPE.LPM_TRIE, max_entries: 16384, map_flags: NO_PREALLOC, key: 'polcidr_key', value: 'polcidr_val' },
  sl_pol: { type: BPF_MAP_TYPE.LPM_TRIE, max_entries: 262144, map_flags: NO_PREALLOC, key: 'pol_key', value: 'pol_val' },
  sl_polname: { type: BPF_MAP_TYPE.HASH, max_entries: 65536, map_flags: NO_PREALLOC, key: 'polname_key', value: 'polname_val' },
  sl_polstate: { type: BPF_MAP_TYPE.HASH, max_entries: 1, key: 'polstate_key', value: 'polstate_val' },
  sl_ct: { type: BPF_MAP_TYPE.LRU_HASH, max_entries: 524288, key: 'ct_key', value: 'ct_val' },
  sl_affinity: { type: BPF_MAP_TYPE.LRU_HASH, max_entries: 65536, key: 'affinity_key', value: 'affinity_val' },
  sl_sockrev: { type: BPF_MAP_TYPE.LRU_HASH, max_entries: 65536, key: 'sockrev_key', value: 'sockrev_val' },
  sl_frag: { type: BPF_MAP_TYPE.LRU_HASH, max_entries: 8192, key: 'frag_key', value: 'frag_val' },
  sl_podnet: { type: BPF_MAP_TYPE.LPM_TRIE, max_entries: 16384, map_flags: NO_PREALLOC, key: 'podnet_key', value: 'podnet_val' },
  sl_stats: { type: BPF_MAP_TYPE.PERCPU_ARRAY, max_entries: A.SL_STATS_SLOTS, key: '__u32', value: 'stats_val' },
};

test('.rodata holds sl_cfg alone, at offset 0, sized as struct sl_config (the loader writes it there)', () => {
  const vars = sectionVars(btfOf(OBJECT), '.rodata');
  assert.equal(vars?.map(({ name, offset, size }) => ({ name, offset, size })), [{ name: 'sl_cfg', offset: 0, size: A.CONFIG.size }]);
  for (const s of ['.data', '.bss']) assert.is(sectionVars(btfOf(OBJECT), s), undefined, `no ${s}: state lives in maps`);
});

test('map definitions: one per ABI map, named sl_<x>, pinned by name, with the design\'s types, flags, sizes and structs', () => {
  const btf = btfOf(OBJECT);
  const defs = Object.fromEntries(sectionVars(btf, '.maps')!.map((v) => [v.name, mapDef(btf, v.type)]));
  assert.equal(Object.keys(defs).sort(), [...A.MAPS, ...A.STATE_MAPS, ...A.NODE_MAPS].map((m) => m.name).sort());
  for (const [name, { map_flags, ...want }] of Object.entries(EXPECTED)) {
    assert.equal(defs[name], { ...want, ...(map_flags ? { map_flags } : {}), pinning: PIN_BY_NAME }, name);
  }
});

test('licence: every bpf/ source carries the SPDX line, the object the kernel\'s licence string', () => {
  const dir = new URL('../../bpf/', import.meta.url).pathname;
  const files = ['sluice.bpf.c', ...readdirSync(`${dir}include`).map((f) => `include/${f}`), ...readdirSync(`${dir}lib`).map((f) => `lib/${f}`)];
  for (const f of files) {
    assert.match(readFileSync(`${dir}${f}`, 'utf8').split('\n')[0], 'SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)', f);
  }
  assert.ok(readFileSync(OBJECT).includes(Buffer.from('Dual BSD/GPL\0')), 'license section');
});

const bpf = await bpfTest('programs on the kernel');

bpf('every program loads (the verifier accepts it) as a tc or cgroup program with its name; maps pin under the root and match the layouts', async () => {
  const sys = await import('../../runtime/bpf/syscall.ts');
  withDatapath({ objects: [], node: NODE, net: NODE_NETS[NODE] }, (dp) => {
    for (const p of PROGRAMS) {
      const info = sys.progInfo(dp.programFd(p));
      assert.equal([info.name, info.type], [p, 3 /* BPF_PROG_TYPE_SCHED_CLS */], p);
    }
    for (const p of SOCK_PROGRAMS) {
      const info = sys.progInfo(dp.programFd(p));
      // sock_release is a socket's hook, not an address's
      const type = p === 'sl_sock_release' ? 9 /* BPF_PROG_TYPE_CGROUP_SOCK */ : 18 /* BPF_PROG_TYPE_CGROUP_SOCK_ADDR */;
      assert.equal([info.name, info.type], [p, type], p);
    }
    assert.equal(readdirSync(dp.pinRoot).sort(), Object.keys(EXPECTED).sort(), 'pins');
    for (const m of [...A.MAPS, ...A.STATE_MAPS, ...A.NODE_MAPS]) {
      const info = sys.mapInfo(dp.mapFd(m.name));
      const valueSize = m.name === 'sl_stats' ? 16 : m.value.size;
      assert.equal([info.name, info.keySize, info.valueSize, info.type], [m.name, m.key.size, valueSize, EXPECTED[m.name].type], m.name);
    }
  });
});

bpf('one fixed program: the verifier sees the same code with no policy entry and with 100,000 in sl_pol', async () => {
  const sys = await import('../../runtime/bpf/syscall.ts');
  withDatapath({ objects: [], node: NODE, net: NODE_NETS[NODE] }, (dp) => {
    const empty = Object.fromEntries(PROGRAMS.map((p) => [p, sys.progInfo(dp.programFd(p))]));
    const n = 100_000, key = A.MAPS.find((m) => m.name === 'sl_pol')!.key, value = A.MAPS.find((m) => m.name === 'sl_pol')!.value;
    const keys = new Uint8Array(n * key.size), values = new Uint8Array(n * value.size);
    const kv = new DataView(keys.buffer);
    for (let i = 0; i < n; i++) { // one group, an ID peer per entry, TCP port 80
      kv.setUint32(i * key.size, A.SL_POL_PREFIX_PORT, true);
      kv.setUint32(i * key.size + 4, 0x80000001);
      kv.setUint32(i * key.size + 8, i + 1);
      kv.setUint8(i * key.size + 12, A.SL_PEER_ID);
      kv.setUint8(i * key.size + 13, 6);
      kv.setUint16(i * key.size + 14, 80);
      values[i * value.size + 4] = A.SL_POL_ALLOW;
    }
    sys.mapUpdateBatch(dp.mapFd('sl_pol'), keys, values, n);
    assert.is(sys.mapInfo(dp.mapFd('sl_pol')).maxEntries >= n, true);
    const full = dp.loadAgain();
    for (const p of PROGRAMS) {
      assert.ok(empty[p].xlatedBytes > 0, p);
      assert.equal([full[p].tag, full[p].xlatedBytes], [empty[p].tag, empty[p].xlatedBytes], `${p}: same instructions`);
    }
  });
});

test.run();
bpf.run();
