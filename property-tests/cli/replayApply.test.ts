// sluice replay --apply on real pinned maps (the fixture datapath's, under a
// scratch pin root): the maps end as the replay ends, and applying again
// changes nothing. Skips where BPF is not usable, fails under CI.
import * as assert from 'uvu/assert';
import { DEFAULT_TIMEOUTS } from '../../runtime/bpf/config.ts';
import { loadDatapath } from '../../runtime/bpf/loader.ts';
import { PinnedStore } from '../../runtime/bpf/maps.ts';
import { replayCommand } from '../../runtime/cli/replay.ts';
import { renderMaps } from '../../runtime/view/render.ts';
import { dropPinRoot, fixtureObject, kernelTest, scratchPinRoot } from '../bpf/env.ts';

const it = kernelTest({ netns: false });
const EXAMPLE = new URL('../../examples/recorded.log', import.meta.url).pathname;
const CONFIG = { netnsCookie: 0n, nodeIp: new Uint8Array([192, 168, 50, 10]), hairpinIp: new Uint8Array([169, 254, 42, 1]), flags: 0, ...DEFAULT_TIMEOUTS };

function replay(...args: string[]): { status: number; stdout: string; stderr: string } {
  let stdout = '', stderr = '';
  const status = replayCommand(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

it('--apply brings the pinned maps to the replayed state, then changes nothing', () => {
  const root = scratchPinRoot();
  try {
    loadDatapath({ object: fixtureObject(), pinRoot: root, config: CONFIG, sizes: {} }).close();
    const first = replay(EXAMPLE, '--verify', '--apply', '--pin-root', root, '--format', 'maps');
    assert.is(first.status, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`\nsluice replay: applied to ${root}: sl_svc \\+16 -0, [^\n]*\n$`));
    const replayed = first.stdout.slice(first.stdout.indexOf('\nnode node-a\n') + 1);
    const live = PinnedStore.open(root);
    try {
      assert.is(renderMaps('node-a', live), replayed);
    } finally {
      live.close();
    }
    const again = replay(EXAMPLE, '--apply', '--pin-root', root);
    assert.is(again.status, 0, again.stderr);
    assert.is(again.stderr, `sluice replay: applied to ${root}: no change\n`);
  } finally {
    dropPinRoot(root);
  }
});

it.run();
