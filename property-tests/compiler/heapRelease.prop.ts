// Giving the compiler's free pages back (Compiler.releaseFree) changes
// nothing it computes: a compiler released between batches gives the same
// diffs, the same rebuild and the same problems as one never released. The
// release either drops the pages (madvise, as the agent does) or scribbles
// over every byte heapPages.ts claims no one reads (each free block's
// payload past its list links and before its back-pointer), so a wrong claim
// shows up as a different diff or a trap of the debug build's allocator
// checks. Bulk arrivals and departures of a scaled-down issue-12 cluster
// (Pods, policies, Services) leave free blocks of many pages.
import fc from 'fast-check';
import { Buffer } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { dropPages, pageBytes } from '../../runtime/wasm/dropPages.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { scaleCluster } from '../../testkit/scaleCluster.ts';
import { clusterEvent } from '../arb/clusterEvent.ts';
import { Coverage } from '../coverage.ts';
import { deleteOf as gone } from '../model/kube.ts';
import { check } from '../seed.ts';

type Release = 'madvise' | 'scribble';
type Step = { batch: Record[] } | { release: Release };

/** n namespaces of the issue-12 cluster's shape, as upserts. */
function bulk(namespaces: number): Record[] {
  const size = { namespaces, podsPerNamespace: 20, servicesPerNamespace: 10, endpoints: 5, policiesPerNamespace: 2, nodes: 4 };
  return [...scaleCluster(size)].map(([, o]) => normalize(o).record!);
}


/** A bulk arrival, then (maybe later) every k-th of its records leaving. */
const comeAndGo = (): fc.Arbitrary<Step[]> => fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }))
  .map(([n, k]) => {
    const all = bulk(n);
    return [{ batch: all }, { batch: all.filter((_, i) => i % k === 0).map(gone) }];
  });

const steps = (): fc.Arbitrary<Step[]> => fc.array(fc.oneof(
  { weight: 3, arbitrary: fc.array(clusterEvent(), { minLength: 1, maxLength: 8 }).map((batch): Step[] => [{ batch }]) },
  { weight: 2, arbitrary: comeAndGo() },
  { weight: 3, arbitrary: fc.constantFrom<Release>('madvise', 'scribble').map((release): Step[] => [{ release }]) },
), { minLength: 1, maxLength: 8 }).map((s) => s.flat());

/** Every byte heapPages.ts says no one reads, 4-byte aligned, set to a pattern no valid state holds. */
const scribble = (bytes: Uint8Array) => bytes.fill(0xa5);

const same = (a: Uint8Array, b: Uint8Array, what: string) => assert.ok(Buffer.compare(a, b) === 0, `${what} differs after a release`);

test('a compiler whose free pages were given back computes what one never released does', () => {
  const coverage = new Coverage('releases between batches', { 'pages dropped (madvise)': 0.2, 'bytes scribbled': 0.3, 'a batch after a release': 0.3 });
  check(fc.property(steps(), (h) => {
    const released = new Compiler({ node: 'node-1', debug: true });
    const kept = new Compiler({ node: 'node-1', debug: true });
    const reached: ('pages dropped (madvise)' | 'bytes scribbled' | 'a batch after a release')[] = [];
    let releases = 0;
    for (const s of h) {
      if ('release' in s) {
        const r = s.release === 'madvise' ? released.releaseFree(dropPages, pageBytes) : released.releaseFree(scribble, 4);
        assert.ok(r.released <= r.free && r.used + r.free < r.memory, `release reported ${JSON.stringify(r)}`);
        if (r.released > 0) {
          reached.push(s.release === 'madvise' ? 'pages dropped (madvise)' : 'bytes scribbled');
          releases++;
        }
        same(released.rebuild().bytes, kept.rebuild().bytes, 'rebuild()');
        continue;
      }
      const bytes = encodeRecords(s.batch);
      same(released.batch(bytes).bytes, kept.batch(bytes).bytes, 'a batch\'s diff');
      if (releases > 0) reached.push('a batch after a release');
    }
    same(released.rebuild().bytes, kept.rebuild().bytes, 'rebuild()');
    assert.equal(released.problems(), kept.problems());
    coverage.run(reached);
  }), { numRuns: 60 });
  coverage.check();
});

test.run();
