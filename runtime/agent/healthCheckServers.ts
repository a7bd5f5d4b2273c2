// The healthCheckNodePort listeners, one per target (healthCheckTargets.ts),
// opened and closed as Services come and go. Each answers any path, as
// kube-proxy's do: 200 when this node has ready endpoints of the Service and
// the agent is healthy, else 503, with kube-proxy's JSON body and its
// X-Load-Balancing-Endpoint-Weight header. A port that cannot be opened
// (taken by another process) is logged and tried again at the next change.
import type { HealthCheckTarget } from './healthCheckTargets.ts';
import type { Logger } from './logger.ts';
import { listen, send, type Listening } from './statusServer.ts';

export class HealthCheckServers {
  private readonly host: string;
  private readonly log: Logger;
  private readonly healthy: () => boolean;
  /** What each port answers now. */
  private readonly targets = new Map<number, HealthCheckTarget>();
  /** Listeners open or opening, by port. */
  private readonly open = new Map<number, Promise<Listening | undefined>>();
  /** Listeners closing, by port: a port opened again waits for its close. */
  private readonly closing = new Map<number, Promise<void>>();

  constructor(host: string, log: Logger, healthy: () => boolean) {
    this.host = host;
    this.log = log;
    this.healthy = healthy;
  }

  /** Ports listening (or about to). */
  get ports(): number[] {
    return [...this.open.keys()].sort((a, b) => a - b);
  }

  /** Makes the listeners match targets. */
  sync(targets: readonly HealthCheckTarget[]): void {
    this.targets.clear();
    for (const t of targets) this.targets.set(t.port, t);
    for (const port of [...this.open.keys()]) if (!this.targets.has(port)) this.stop(port);
    for (const t of targets) if (!this.open.has(t.port)) this.start(t);
  }

  /** Closes every listener. */
  async close(): Promise<void> {
    this.targets.clear();
    await Promise.all([...this.open.keys()].map((port) => this.stop(port)));
  }

  private start(t: HealthCheckTarget): void {
    const service = `${t.namespace}/${t.name}`;
    const closed = this.closing.get(t.port) ?? Promise.resolve();
    const opening = closed.then(() => listen({ host: this.host, port: t.port }, (_req, res) => {
      const now = this.targets.get(t.port);
      if (!now) return send(res, 503, 'text/plain', 'no service\n');
      const healthy = this.healthy();
      const body = { service: { namespace: now.namespace, name: now.name }, localEndpoints: now.localEndpoints, serviceProxyHealthy: healthy };
      send(res, now.localEndpoints > 0 && healthy ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`,
        { 'X-Load-Balancing-Endpoint-Weight': String(now.localEndpoints) });
    })).then((l) => {
      this.log.info('health check port open', { service, port: l.address.port, address: l.address.address });
      return l;
    }, (e: Error) => {
      if (this.open.get(t.port) === opening) this.open.delete(t.port);
      this.log.error('health check port failed', { service, port: t.port, reason: e.message });
      return undefined;
    });
    this.open.set(t.port, opening);
  }

  private stop(port: number): Promise<void> {
    const opening = this.open.get(port);
    this.open.delete(port);
    const closing = (async () => {
      const l = await opening;
      if (!l) return;
      await l.close();
      this.log.info('health check port closed', { port });
    })();
    this.closing.set(port, closing);
    void closing.then(() => {
      if (this.closing.get(port) === closing) this.closing.delete(port);
    });
    return closing;
  }
}
