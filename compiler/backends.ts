// Which endpoints serve a service port, by kube-proxy's rules: the port is
// matched by name and protocol in each EndpointSlice (so a named targetPort
// may resolve differently per slice); an endpoint listed twice counts once;
// ready endpoints serve, and only when none is ready do serving-and-
// terminating ones (KEP-1669). Node-local selection applies the same rule to
// this node's endpoints alone.
import { SL_BE_LOCAL, SL_BE_TERMINATING } from './abi/layouts';
import { ADDR_IPV4, COND_READY, COND_SERVING, COND_TERMINATING } from './abi/records';
import { Cluster } from './cluster';
import { endpointConds, endpointIp, endpointLocal, Service, ServicePort, Slice } from './model';

export class Backend {
  id: u32 = 0; // assigned by ids.ts within its backend set
  constructor(public ip: u32, public port: u16, public flags: u8) {}

  /** Address and port as one number whose order is their byte order. */
  @inline get addr(): u64 { return ((<u64>bswap<u32>(this.ip)) << 16) | <u64>this.port; }
}

/** A candidate as one number, address and port (in their byte order) ·
 * COND_* · local, so that sorting numbers sorts candidates by address. */
@inline function candidate(ip: u32, port: u16, conds: u8, local: bool): u64 {
  return ((((<u64>bswap<u32>(ip)) << 16) | <u64>port) << 16) | ((<u64>conds) << 8) | <u64>local;
}
@inline function candAddr(c: u64): u64 { return c >> 16; }
@inline function candIp(c: u64): u32 { return bswap<u32>(<u32>(c >> 32)); }
@inline function candPort(c: u64): u16 { return <u16>(c >> 16); }
@inline function candConds(c: u64): u8 { return <u8>(c >> 8); }
@inline function candLocal(c: u64): bool { return (c & 1) != 0; }

// The candidates of the port being selected: scratch that every call reuses.
const found: u64[] = [];

/** Fills found with every endpoint of the port, by address; one listed twice
 * is merged into the union of its slices' claims, whatever their order. */
function candidates(cluster: Cluster, svc: Service, sp: ServicePort): void {
  found.length = 0;
  if (!cluster.slicesOf.has(svc.key)) return;
  const slices = cluster.slicesOf.get(svc.key);
  for (let i = 0; i < slices.length; i++) {
    const s = unchecked(slices[i]);
    if (s.addressType != ADDR_IPV4) continue;
    const port = s.portOf(sp.name, sp.proto);
    if (port == 0) continue;
    for (let j = 0; j < s.endpoints.length; j++) {
      const e = unchecked(s.endpoints[j]);
      if (svc.clusterIPs.includes(endpointIp(e))) continue; // never its own backend: selfBackends reports it
      found.push(candidate(endpointIp(e), port, endpointConds(e), endpointLocal(e)));
    }
  }
  found.sort();
  let n = 0;
  for (let i = 0; i < found.length; i++) {
    const e = unchecked(found[i]);
    if (n == 0 || candAddr(unchecked(found[n - 1])) != candAddr(e)) { unchecked(found[n++] = e); continue; }
    const c = unchecked(found[n - 1]);
    const term = candConds(c) & candConds(e) & COND_TERMINATING;
    const conds = <u8>(((candConds(c) | candConds(e)) & (COND_READY | COND_SERVING)) | term);
    unchecked(found[n - 1] = candidate(candIp(c), candPort(c), conds, candLocal(c) || candLocal(e)));
  }
  found.length = n;
}

/** Calls report(slice, endpoint index, address) for each endpoint of svc's
 * slices at one of its own ClusterIPs: a Service cannot be its own backend
 * (its packets would come back to it), so candidates() leaves them out. */
export function selfBackends(cluster: Cluster, svc: Service, report: (s: Slice, i: i32, ip: u32) => void): void {
  if (svc.clusterIPs.length == 0 || !cluster.slicesOf.has(svc.key)) return;
  const slices = cluster.slicesOf.get(svc.key);
  for (let i = 0; i < slices.length; i++) {
    const s = unchecked(slices[i]);
    if (s.addressType != ADDR_IPV4) continue; // an IPv4 slice's endpoints keep their index
    for (let j = 0; j < s.endpoints.length; j++) {
      const ip = endpointIp(unchecked(s.endpoints[j]));
      if (svc.clusterIPs.includes(ip)) report(s, j, ip);
    }
  }
}

/** The backends of one service port, sorted by address and port. */
export function selectBackends(cluster: Cluster, svc: Service, sp: ServicePort, localOnly: bool): StaticArray<Backend> {
  candidates(cluster, svc, sp);
  let ready = 0;
  for (let i = 0; i < found.length; i++) {
    const c = unchecked(found[i]);
    if ((!localOnly || candLocal(c)) && (candConds(c) & COND_READY)) ready++;
  }
  const fallback = ready == 0;
  const want = fallback ? COND_SERVING | COND_TERMINATING : COND_READY;
  let n = 0;
  for (let i = 0; i < found.length; i++) {
    if (serves(unchecked(found[i]), localOnly, want)) n++;
  }
  const out = new StaticArray<Backend>(n);
  for (let i = 0, k = 0; i < found.length; i++) {
    const c = unchecked(found[i]);
    if (!serves(c, localOnly, want)) continue;
    const flags = (candLocal(c) ? SL_BE_LOCAL : 0) | (fallback ? SL_BE_TERMINATING : 0);
    unchecked(out[k++] = new Backend(candIp(c), candPort(c), <u8>flags));
  }
  return out;
}

@inline function serves(c: u64, localOnly: bool, want: i32): bool {
  return (!localOnly || candLocal(c)) && (candConds(c) & want) == want;
}
