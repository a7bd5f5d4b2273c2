// The cluster as the records of past batches left it: the latest state of
// every object the service compiler reads, plus the index from a Service to
// its EndpointSlices. Applying a batch reports which Services it touched.
import {
  KIND_ENDPOINT_SLICE, KIND_NODE, KIND_SERVICE, OP_DELETE, OP_UPSERT, RECORD_HEADER_SIZE,
} from './abi/records';
import { readNodeAddresses, readService, readSlice, Service, Slice } from './model';
import { PolicyObjects } from './policy/objects';
import { joinStrs, Reader } from './reader';

export class Cluster {
  nodeBytes: ArrayBuffer = new ArrayBuffer(0); // this node's name, UTF-8
  nodeAddrs: u32[] = [];
  services: Map<string, Service> = new Map();
  slices: Map<string, Slice> = new Map();
  slicesOf: Map<string, Slice[]> = new Map(); // "ns/service" -> its slices
  policy: PolicyObjects = new PolicyObjects(); // pods, namespaces, policies: compiler/policy
  private r: Reader = new Reader();

  /** Applies the records in [ptr, ptr + len); adds touched Service keys to dirty. */
  apply(ptr: usize, len: usize, dirty: Set<string>): void {
    const end = ptr + len;
    let nodeChanged = false;
    while (ptr < end) {
      const size = <usize>load<u32>(ptr);
      if (size < <usize>RECORD_HEADER_SIZE || ptr + size > end) throw new Error('bad record size');
      const kind = load<u8>(ptr, 4);
      const op = load<u8>(ptr, 5);
      if (op != OP_UPSERT && op != OP_DELETE) throw new Error('bad record op');
      const r = this.r.reset(ptr + RECORD_HEADER_SIZE, ptr + size);
      const nsAt = r.strAt();
      const upsert = op == OP_UPSERT;
      if (kind == KIND_SERVICE) this.applyService(r, joinStrs(nsAt, r.strAt()), upsert, dirty);
      else if (kind == KIND_ENDPOINT_SLICE) this.applySlice(r, nsAt, joinStrs(nsAt, r.strAt()), upsert, dirty);
      else if (kind == KIND_NODE && r.strEq(this.nodeBytes)) nodeChanged = this.applyNode(r, upsert) || nodeChanged;
      else if (!this.policy.apply(kind, r, nsAt, upsert)) r.at = r.end; // kinds no one reads
      if (r.at != r.end) throw new Error('record longer than its body');
      ptr += size;
    }
    if (nodeChanged) this.addNodePortServices(dirty);
  }

  private applyService(r: Reader, key: string, upsert: bool, dirty: Set<string>): void {
    if (upsert) this.services.set(key, readService(r, key));
    else if (this.services.has(key)) this.services.delete(key);
    dirty.add(key);
  }

  private applySlice(r: Reader, nsAt: usize, key: string, upsert: bool, dirty: Set<string>): void {
    if (this.slices.has(key)) {
      const old = this.slices.get(key);
      const siblings = this.slicesOf.get(old.service);
      siblings.splice(siblings.indexOf(old), 1);
      if (siblings.length == 0) this.slicesOf.delete(old.service);
      this.slices.delete(key);
      dirty.add(old.service);
    }
    if (!upsert) return;
    const s = readSlice(r, nsAt, key, this.nodeBytes);
    this.slices.set(key, s);
    if (this.slicesOf.has(s.service)) this.slicesOf.get(s.service).push(s);
    else this.slicesOf.set(s.service, [s]);
    dirty.add(s.service);
  }

  /** Returns whether the addresses NodePorts listen on changed. */
  private applyNode(r: Reader, upsert: bool): bool {
    const addrs = upsert ? readNodeAddresses(r) : new Array<u32>();
    if (upsert) {
      r.at = r.end; // podCIDRs and labels: not used by the service compiler
    }
    let same = addrs.length == this.nodeAddrs.length;
    for (let i = 0; same && i < addrs.length; i++) same = addrs[i] == this.nodeAddrs[i];
    this.nodeAddrs = addrs;
    return !same;
  }

  private addNodePortServices(dirty: Set<string>): void {
    const all = this.services.values();
    for (let i = 0; i < all.length; i++) {
      const ports = all[i].ports;
      for (let j = 0; j < ports.length; j++) {
        if (ports[j].nodePort != 0) { dirty.add(all[i].key); break; }
      }
    }
  }
}
