// Which healthCheckNodePorts this node serves and what each answers, from the
// records (not the maps): a LoadBalancer Service with externalTrafficPolicy
// Local and a healthCheckNodePort gets one, answering with the number of its
// endpoints on this node that are ready, as kube-proxy's LocalReadyEndpoints
// counts them (distinct addresses; serving-but-terminating ones do not
// count, so a load balancer drains a node whose pods are going away, even
// though the datapath still sends to them as a last resort). Pure.
import * as R from '../../compiler/abi/records.ts';
import { refKey } from '../encode/objectKey.ts';
import { u32Of } from '../encode/ipv4.ts';
import type { Endpoint, Held, ServiceBody, Upsert } from '../encode/schema.ts';

export interface HealthCheckTarget { port: number; namespace: string; name: string; localEndpoints: number }

/** A Service's healthCheckNodePort when this node serves one for it, else 0. */
const checkPort = (b: ServiceBody) => (b.type === R.SVC_TYPE_LOAD_BALANCER && b.flags & R.SVCF_EXTERNAL_LOCAL ? b.healthCheckNodePort : 0);

export class HealthCheckTargets {
  readonly node: string;
  /** "ns/name" -> its healthCheckNodePort, for the Services that have one. */
  private readonly services = new Map<string, number>();
  /** "ns/service" -> slice key -> the slice's ready endpoints on this node (slices with none are not kept). */
  private readonly local = new Map<string, Map<string, number[]>>();
  /** Slice key -> its "ns/service", for the slices kept. */
  private readonly sliceService = new Map<string, string>();

  constructor(node: string) {
    this.node = node;
  }

  /** Whether update() reads r: a Service with a healthCheckNodePort, or a slice with a ready endpoint on this node. A batch may hold any other record as bytes. */
  keeps(r: Upsert): boolean {
    if (r.kind === R.KIND_SERVICE) return checkPort(r.body) > 0;
    return r.kind === R.KIND_ENDPOINT_SLICE && r.body.endpoints.some((e) => this.readyHere(e));
  }

  /** Takes a batch's records; true when a target may have changed. */
  update(records: readonly Held[]): boolean {
    let changed = false;
    for (const r of records) {
      if (r.kind === R.KIND_SERVICE) {
        const key = `${r.namespace}/${r.name}`;
        const port = r.op === 'upsert' ? checkPort(r.body) : 0;
        changed ||= this.services.has(key) || port > 0;
        if (port > 0) this.services.set(key, port);
        else this.services.delete(key);
      } else if (r.kind === R.KIND_ENDPOINT_SLICE) {
        const key = refKey(r), before = this.sliceService.get(key);
        if (before !== undefined) {
          const slices = this.local.get(before)!;
          slices.delete(key);
          if (slices.size === 0) this.local.delete(before);
          this.sliceService.delete(key);
          changed ||= this.services.has(before);
        }
        if (r.op !== 'upsert') continue;
        const ready = r.body.endpoints.filter((e) => this.readyHere(e)).map((e) => u32Of(e.address));
        if (ready.length === 0) continue;
        const service = `${r.namespace}/${r.body.serviceName}`;
        this.sliceService.set(key, service);
        if (!this.local.has(service)) this.local.set(service, new Map());
        this.local.get(service)!.set(key, ready);
        changed ||= this.services.has(service);
      }
    }
    return changed;
  }

  private readyHere(e: Endpoint): boolean {
    return e.nodeName === this.node && (e.conditions & R.COND_READY) !== 0;
  }

  /** One per Service with a healthCheckNodePort, by port. */
  targets(): HealthCheckTarget[] {
    return [...this.services].map(([key, port]) => {
      const [namespace, name] = key.split('/');
      const addresses = new Set([...this.local.get(key)?.values() ?? []].flat());
      return { port, namespace, name, localEndpoints: addresses.size };
    }).sort((a, b) => a.port - b.port);
  }
}
