// When the agent discovers interfaces and attaches programs, in virtual time:
// not before there are maps, not while they wait for a reconcile, then only
// when this node changed; an attach that failed is tried again by the retry
// timer; a skipped pod is logged once.
import { Observable, type Observable as Obs } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InterfaceSync } from '../../runtime/agent/interfaceSync.ts';
import type { Fields, Logger } from '../../runtime/agent/logger.ts';
import type { InterfaceReport } from '../../runtime/dataplane/dataplane.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';

const scheduler = () => new TestScheduler((actual, expected) => assert.equal(actual, expected));
const report = (r: Partial<InterfaceReport>): InterfaceReport => ({ attached: [], dropped: [], skipped: [], failed: [], ...r });

interface Rig { logs: [string, Fields | undefined][]; counts: { attached: number; failed: number } }

/**
 * The discoveries (d) of an InterfaceSync driven by events: m the maps
 * appear, p they wait for a reconcile, a they are applied again, n a batch
 * that changed this node, u one that did not. Each discovery returns the
 * next of reports (the last one repeats).
 */
const discoveries = (events: Obs<string>, s: TestScheduler, reports: InterfaceReport[], rig: Rig) => new Observable<string>((out) => {
  let store: MemoryStore | undefined, pending = false, calls = 0;
  const log = (msg: string, f?: Fields) => void rig.logs.push([msg, f]);
  const logger: Logger = { info: log, warn: log, error: log };
  const sync = new InterfaceSync({
    dataplane: {
      get store() {
        return store;
      },
      syncInterfaces: () => {
        out.next('d');
        return reports[Math.min(calls++, reports.length - 1)];
      },
    },
    facts: () => undefined, mapsPending: () => pending, log: logger, clock: s, retryMs: { first: 3, max: 12 },
    attaches: { inc: (l, n) => void (rig.counts[l.result] += n) },
  });
  const sub = events.subscribe((e) => {
    if (e === 'm') store = new MemoryStore();
    else if (e === 'p') pending = true;
    else if (e === 'a') {
      pending = false;
      sync.sync(false);
    } else sync.sync(e === 'n');
  });
  return () => {
    sub.unsubscribe();
    sync.stop();
  };
});
const rig = (): Rig => ({ logs: [], counts: { attached: 0, failed: 0 } });

test('the first sync waits for maps; later ones only for a change of this node', () => {
  const s = scheduler(), r = rig();
  s.run(({ hot, expectObservable }) => {
    expectObservable(discoveries(hot('uu-m-u-uu-n--u-n'), s, [report({ attached: ['slh0 (pod a 10.0.0.1): sl_from_pod ingress attached'] })], r))
      .toBe('-----d----d----d');
  });
  assert.equal(r.counts, { attached: 3, failed: 0 });
  assert.equal(r.logs[0], ['interface attached', { interface: 'slh0 (pod a 10.0.0.1): sl_from_pod ingress attached' }]);
});

test('a change while the maps wait for a reconcile is held until they are applied', () => {
  const s = scheduler(), r = rig();
  s.run(({ hot, expectObservable }) => {
    // discovery at 1 (the first); p at 3: the change at 4 waits; applied at 7: discovered then
    expectObservable(discoveries(hot('mu-pn--a-u'), s, [report({})], r)).toBe('-d-----d--');
  });
});

test('an attach that failed is tried again after the retry wait, doubling while it fails, and no more once it works', () => {
  const s = scheduler(), r = rig();
  const failed = report({ failed: ['slh1 (pod b 10.0.0.2): tc: No such device'] });
  s.run(({ hot, expectObservable }) => {
    // discovery at 1 fails: again at 1 + 3, fails: again at 4 + 6, works: nothing more
    expectObservable(discoveries(hot('mu-------------------'), s, [failed, failed, report({})], r), '^-------------------!')
      .toBe('-d--d-----d---------');
  });
  assert.equal(r.counts.failed, 2);
  assert.equal(r.logs.filter(([m]) => m === 'interface attach failed').map(([, f]) => f!.retryInMs), [3, 6]);
});

test('a skipped pod is logged once while it stays skipped, and again when it comes back', () => {
  const s = scheduler(), r = rig();
  const skipped = report({ skipped: ['pod shop/cart-0 10.244.1.50: no route; not a local pod interface'] });
  s.run(({ hot, expectObservable }) => {
    expectObservable(discoveries(hot('mnnnn'), s, [skipped, skipped, report({}), skipped], r)).toBe('-dddd');
  });
  assert.is(r.logs.filter(([m]) => m === 'interface skipped').length, 2);
});

test.run();
