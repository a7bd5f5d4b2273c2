// Invariant 4 through the whole agent: for random histories served by the
// fake API server (objects good and bad, watches dropped, reset, failed and
// compacted along the way), the agent's maps end equal to a fresh compile of
// the final state, and its recorded log replays (--verify: every batch's diff
// hash as recorded live) to those same maps.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { replayCommand } from '../../runtime/cli/replay.ts';
import { apiStep, runStep } from '../arb/apiStep.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';
import { compiledMaps, converged, mapsOf, until, withCluster } from './agentHarness.ts';

const schedule = fc.array(fc.record({ step: apiStep(), pauseMs: fc.constantFrom(0, 0, 1, 5, 30) }), { minLength: 1, maxLength: 20 });

/** The breakages a history goes through, for the coverage counts. */
const BREAKS = { raw: 'an item the cache cannot hold', drop: 'a watch dropped', expire: 'history compacted (relist)', fail: 'a watch refused' } as const;
type Break = (typeof BREAKS)[keyof typeof BREAKS];
// Each in about 15% of histories: at 25 runs per seed, a floor of 2% asks for one at least.
const coverage = new Coverage<Break>('agent histories', Object.fromEntries(Object.values(BREAKS).map((b) => [b, 0.02])) as { [B in Break]: number });

test('property: the agent\'s maps = compile of the final state = replay --verify of what it recorded', () => check(fc.asyncProperty(
  fc.array(apiStep(), { maxLength: 8 }), schedule, fc.constantFrom(0, 10, 50), fc.constantFrom('n1', 'n2'),
  async (before, after, minSyncMs, node) => withCluster(async ({ server, dir, start }) => {
    coverage.run(after.flatMap(({ step }) => (step.op in BREAKS ? [BREAKS[step.op as keyof typeof BREAKS]] : [])));
    for (const s of before) if (s.op === 'apply' || s.op === 'delete' || s.op === 'raw') runStep(server, s);
    const log = `${dir}/log`;
    const r = await start({ node, minSyncMs, record: log, source: { restartBackoff: { initialMs: 5, maxMs: 40 }, clientReconnectDelay: (ms) => ms / 50, watchTimeoutMs: 5000 } });
    await until(() => r.agent.health.syncedAt !== undefined, 'the first sync'); // what follows arrives as watch events
    for (const { step, pauseMs } of after) {
      runStep(server, step);
      await new Promise((res) => setTimeout(res, pauseMs));
    }
    await converged(r, server, node, 10_000);
    const live = mapsOf(r.agent.store(), node);
    await r.agent.stop('property done');
    assert.is(live, compiledMaps(server, node), 'agent = compile');
    let out = '', err = '';
    const status = replayCommand([log, '--verify', '--format', 'maps'], { out: (t) => (out += t), err: (t) => (err += t) });
    assert.is(status, 0, `replay --verify failed:\n${err}\n${out}`);
    assert.match(err, /^sluice replay: verified \d+ batch/m);
    assert.ok(out.endsWith(live), `replay = agent\nreplayed:\n${out}\nlive:\n${live}`);
  }),
), { numRuns: 25 }).then(() => coverage.check()));

test.run();
