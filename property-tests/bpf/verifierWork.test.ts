// How much the verifier works to load the datapath's tc programs: every node
// pays it at each first start and each upgrade (doc/scale.md). With the
// backend pick inlined at every path that reaches it, a program took
// 202,000-213,000 instructions to verify (280,000 once the rendezvous pick
// joined it), and the load 0.46 s; as a global function, 56,000-68,000 and
// 0.17 s. The bound sits between the two, with room for the code to grow.
import * as assert from 'uvu/assert';
import { BpfObject } from '../../runtime/bpf/libbpf.ts';
import { dropPinRoot, kernelTest, REAL_OBJECT, scratchPinRoot } from './env.ts';

const it = kernelTest({ netns: false });
const TC_PROGRAMS = ['sl_from_pod', 'sl_from_netdev', 'sl_to_pod'];
const BOUND = 120_000;

it(`the verifier processes at most ${BOUND} instructions for each tc program of build/bpf/sluice.o`, () => {
  const root = scratchPinRoot();
  const obj = new BpfObject(REAL_OBJECT, root);
  try {
    for (const p of TC_PROGRAMS) obj.keepVerifierStats(p);
    obj.load();
    const work = TC_PROGRAMS.map((p) => ({ program: p, insns: obj.verifiedInsns(p) }));
    console.log(`# verified instructions: ${work.map((w) => `${w.program} ${w.insns}`).join(', ')}`);
    for (const w of work) assert.ok(w.insns > 0 && w.insns <= BOUND, `${w.program}: ${w.insns} instructions verified, over ${BOUND}`);
  } finally {
    obj.close();
    dropPinRoot(root);
  }
});

it.run();
