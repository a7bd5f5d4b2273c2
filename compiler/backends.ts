// Which endpoints serve a service port, by kube-proxy's rules: the port is
// matched by name and protocol in each EndpointSlice (so a named targetPort
// may resolve differently per slice); an endpoint listed twice counts once;
// ready endpoints serve, and only when none is ready do serving-and-
// terminating ones (KEP-1669). Node-local selection applies the same rule to
// this node's endpoints alone.
import { SL_BE_LOCAL, SL_BE_TERMINATING } from './abi/layouts';
import { ADDR_IPV4, COND_READY, COND_SERVING, COND_TERMINATING } from './abi/records';
import { Cluster } from './cluster';
import { Service, ServicePort } from './model';

export class Backend {
  id: u32 = 0; // assigned by ids.ts within its backend set
  constructor(public ip: u32, public port: u16, public flags: u8) {}

  /** Address and port as one number whose order is their byte order. */
  @inline get addr(): u64 { return ((<u64>bswap<u32>(this.ip)) << 16) | <u64>this.port; }
}

class Candidate {
  constructor(public ip: u32, public port: u16, public conds: u8, public local: bool) {}

  @inline get addr(): u64 { return ((<u64>bswap<u32>(this.ip)) << 16) | <u64>this.port; }
}

function byAddr(a: Candidate, b: Candidate): i32 {
  return i32(a.addr > b.addr) - i32(a.addr < b.addr);
}

/** Every endpoint of the port, by address; one listed twice is merged into
 * the union of its slices' claims, whatever their order. */
function candidates(cluster: Cluster, svc: Service, sp: ServicePort): Candidate[] {
  const all: Candidate[] = [];
  if (!cluster.slicesOf.has(svc.key)) return all;
  const keys = cluster.slicesOf.get(svc.key).values();
  for (let i = 0; i < keys.length; i++) {
    const s = cluster.slices.get(keys[i]);
    if (s.addressType != ADDR_IPV4) continue;
    let port: u16 = 0;
    for (let j = 0; j < s.ports.length; j++) {
      if (s.ports[j].name == sp.name && s.ports[j].proto == sp.proto) port = s.ports[j].port;
    }
    if (port == 0) continue;
    for (let j = 0; j < s.endpoints.length; j++) {
      const e = s.endpoints[j];
      all.push(new Candidate(e.ip, port, e.conds, e.local));
    }
  }
  all.sort(byAddr);
  let n = 0;
  for (let i = 0; i < all.length; i++) {
    const e = all[i];
    if (n == 0 || all[n - 1].addr != e.addr) { all[n++] = e; continue; }
    const c = all[n - 1];
    const term = c.conds & e.conds & COND_TERMINATING;
    c.conds = <u8>(((c.conds | e.conds) & (COND_READY | COND_SERVING)) | term);
    c.local = c.local || e.local;
  }
  all.length = n;
  return all;
}

/** The backends of one service port, sorted by address and port. */
export function selectBackends(cluster: Cluster, svc: Service, sp: ServicePort, localOnly: bool): Backend[] {
  const all = candidates(cluster, svc, sp);
  let ready = 0;
  for (let i = 0; i < all.length; i++) {
    if ((!localOnly || all[i].local) && (all[i].conds & COND_READY)) ready++;
  }
  const fallback = ready == 0;
  const want = fallback ? COND_SERVING | COND_TERMINATING : COND_READY;
  const out: Backend[] = [];
  for (let i = 0; i < all.length; i++) {
    const c = all[i];
    if ((localOnly && !c.local) || (c.conds & want) != want) continue;
    const flags = (c.local ? SL_BE_LOCAL : 0) | (fallback ? SL_BE_TERMINATING : 0);
    out.push(new Backend(c.ip, c.port, <u8>flags));
  }
  return out;
}
