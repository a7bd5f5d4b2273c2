// Invariant 5 of DESIGN.md: the layouts the compiler and runtime use are the
// ones the datapath was compiled with, read from the BTF of build/bpf/sluice.o
// (the programs themselves, not the object the layouts were generated from).
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFIG, MAPS, NODE_MAPS, STATE_MAPS } from '../../runtime/abi/layouts.generated.ts';
import { readLayouts } from '../../tools/btf.ts';

const OBJECT = new URL('../../build/bpf/sluice.o', import.meta.url).pathname;

test('every map key, value and sl_config in sluice.o match the generated layouts field by field', () => {
  assert.ok(existsSync(OBJECT), `${OBJECT} missing: run npm run build:bpf`);
  const compiled = readLayouts(OBJECT).structs;
  // Array maps take a plain __u32 key, so struct stats_key names the field but is not in the programs.
  const generated = [...MAPS, ...STATE_MAPS, ...NODE_MAPS].flatMap((m) => [m.key, m.value]).concat(CONFIG)
    .filter((s) => s.name !== 'stats_key');
  for (const s of generated) assert.equal(compiled.get(s.name), s, `struct ${s.name}`);
  assert.is(STATE_MAPS.find((m) => m.name === 'sl_stats')!.key.size, 4, 'sl_stats key is a __u32');
});

test.run();
