// Programs go on interfaces only once the maps hold a whole state (as apply
// fills the maps before attaching): first after the sync, then whenever this
// node's pods (or its addresses) change; a failed apply defers it. An attach
// that failed (a veth gone between discovery and attach, a tc error) is
// tried again by a timer, as a failed apply is, so a node whose pods do not
// change is not left without programs. Each discovery's report becomes log
// lines and metrics; a skipped pod is logged once, not at every discovery.
import { asyncScheduler, type SchedulerLike } from '../rx/rx.ts';
import type { Dataplane, InterfaceReport } from '../dataplane/dataplane.ts';
import type { NodeFacts } from '../encode/nodeFacts.ts';
import type { Logger } from './logger.ts';
import { RETRY_MS, RetryTimer } from './retryTimer.ts';

export interface InterfaceSyncOptions {
  dataplane: Pick<Dataplane, 'store' | 'syncInterfaces'>;
  /** What the cluster says of this node now. */
  facts: () => NodeFacts | undefined;
  /** Whether the maps wait for a reconcile (a failed apply): programs wait with them. */
  mapsPending: () => boolean;
  log: Logger;
  /** sluice_interface_attaches_total. */
  attaches: { inc(labels: { result: 'attached' | 'failed' }, n: number): void };
  /** Runs the retry timer's discovery (the agent queues it behind the batch being compiled). */
  run?: (sync: () => void) => void;
  clock?: SchedulerLike;
  retryMs?: { first: number; max: number };
}

export class InterfaceSync {
  private readonly o: InterfaceSyncOptions;
  private readonly retry: RetryTimer;
  private due = true;
  private skipped = new Set<string>(); // as last logged

  constructor(o: InterfaceSyncOptions) {
    this.o = o;
    const run = o.run ?? ((f) => f());
    this.retry = new RetryTimer(() => run(() => this.sync(true)), o.clock ?? asyncScheduler, o.retryMs ?? RETRY_MS);
  }

  /**
   * After a batch or an apply: discovers and attaches when due (nodeChanged
   * now, or before while the maps could not take programs yet).
   */
  sync(nodeChanged: boolean): void {
    this.due ||= nodeChanged;
    if (!this.due || !this.o.dataplane.store || this.o.mapsPending()) return;
    this.due = false;
    const report = this.o.dataplane.syncInterfaces(this.o.facts());
    this.logReport(report);
    if (report.failed.length > 0) this.retry.failed();
    else this.retry.succeeded();
  }

  stop(): void {
    this.retry.stop();
  }

  private logReport(report: InterfaceReport): void {
    const { log } = this.o;
    for (const line of report.attached) log.info('interface attached', { interface: line });
    for (const line of report.failed) log.error('interface attach failed', { interface: line, retryInMs: this.retry.nextMs });
    if (report.hostServices) log.info('host services', { programs: report.hostServices });
    if (report.podnet) log.info('pod addresses', { map: report.podnet });
    if (report.dropped.length) log.info('interfaces no longer chosen', { interfaces: report.dropped });
    this.o.attaches.inc({ result: 'attached' }, report.attached.length);
    this.o.attaches.inc({ result: 'failed' }, report.failed.length);
    for (const s of report.skipped) if (!this.skipped.has(s)) log.info('interface skipped', { reason: s });
    this.skipped = new Set(report.skipped);
  }
}
