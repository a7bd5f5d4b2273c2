// struct sl_config as bytes, laid out by the generated CONFIG layout: what
// the loader writes into the datapath object's .rodata before load.
import { CONFIG } from '../abi/layouts.generated.ts';

export interface DatapathConfig {
  netnsCookie: bigint; // SO_NETNS_COOKIE of the node's namespace: the cgroup programs act on its sockets only; 0n: on none
  nodeIp: Uint8Array; // 4 bytes, network order: SNAT source toward remote backends
  hairpinIp: Uint8Array; // 4 bytes: source of a pod's flows to itself through a service
  flags: number; // SL_CFG_*: SL_CFG_DSR for --dsr (bpf/lib/dsr.h), SL_CFG_NO_FAST_PATH for --no-fast-path (bpf/lib/fwd.h)
  ctSynS: number;
  ctEstS: number;
  ctFinS: number;
  ctRstS: number;
  ctUdpS: number;
  ctOtherS: number;
}

/** Calico's conntrack lifetimes. */
export const DEFAULT_TIMEOUTS = { ctSynS: 20, ctEstS: 3600, ctFinS: 30, ctRstS: 40, ctUdpS: 60, ctOtherS: 600 };

const FIELDS: Record<string, keyof DatapathConfig> = {
  netns_cookie: 'netnsCookie', node_ip: 'nodeIp', hairpin_ip: 'hairpinIp', flags: 'flags', ct_syn_s: 'ctSynS', ct_est_s: 'ctEstS',
  ct_fin_s: 'ctFinS', ct_rst_s: 'ctRstS', ct_udp_s: 'ctUdpS', ct_other_s: 'ctOtherS',
};

export function encodeConfig(c: DatapathConfig): Uint8Array {
  const out = new Uint8Array(CONFIG.size);
  const v = new DataView(out.buffer);
  for (const f of CONFIG.fields) {
    const value = c[FIELDS[f.name] ?? (() => { throw new Error(`sl_config.${f.name} has no setting`); })()];
    if (value instanceof Uint8Array) out.set(value, f.offset);
    else if (typeof value === 'bigint' && f.size === 8) v.setBigUint64(f.offset, value, true);
    else if (typeof value === 'number' && f.size === 4) v.setUint32(f.offset, value, true);
    else throw new Error(`sl_config.${f.name}: unexpected size ${f.size}`);
  }
  return out;
}
