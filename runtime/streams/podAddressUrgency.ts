// Which records must not wait for --min-sync: while the cluster has a
// NetworkPolicy, the datapath isolates a pod whose address it does not know
// (SL_DROP_POLICY_UNKNOWN_POD), so a Pod's new address goes to the maps at
// once and the window is the watch's latency, not the batching interval.
// Stateful: it learns every record in arrival order (batchEvents asks it of
// each), the NetworkPolicies that exist and each Pod's addresses.
import * as R from '../../compiler/abi/records.ts';
import { u32Of } from '../encode/ipv4.ts';
import type { PodBody, Record } from '../encode/schema.ts';

export class PodAddressUrgency {
  private readonly policies = new Set<string>();
  // Pod key -> its addresses: one IPv4 address (nearly every pod) as a number, else their bytes joined
  private readonly addresses = new Map<string, number | string>();

  /** Whether r (whose refKey is key) is a Pod's new address while a NetworkPolicy exists; learns r either way. */
  urgent(key: string, r: Record): boolean {
    if (r.kind === R.KIND_NETWORK_POLICY) {
      if (r.op === 'upsert') this.policies.add(key);
      else this.policies.delete(key);
      return false;
    }
    if (r.kind !== R.KIND_POD) return false;
    if (r.op === 'delete') {
      this.addresses.delete(key);
      return false;
    }
    const ips = (r.body as PodBody).podIPs;
    const now = ips.length === 1 && ips[0].family === 4 ? u32Of(ips[0]) : ips.map((ip) => ip.bytes.join('.')).join(',');
    const was = this.addresses.get(key);
    this.addresses.set(key, now);
    return this.policies.size > 0 && now !== '' && now !== was;
  }
}
