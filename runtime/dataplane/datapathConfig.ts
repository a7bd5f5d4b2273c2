// struct sl_config for a node, from its IP and the datapath flags.
import { SL_CFG_DSR, SL_CFG_NO_FAST_PATH } from '../abi/layouts.generated.ts';
import { DEFAULT_TIMEOUTS, type DatapathConfig } from '../bpf/config.ts';
import { inNetns, netnsCookie } from '../bpf/netns.ts';
import { parseIp } from '../encode/ip.ts';
import type { DatapathArgs } from './datapathArgs.ts';

/** sl_config for a node: its IP, the hairpin source, DSR or not, the fast path or not, and with host services its namespace's cookie. */
export function datapathConfig(nodeIp: string, a: Pick<DatapathArgs, 'hairpinIp' | 'dsr' | 'fastPath' | 'hostServices' | 'netns'>): DatapathConfig {
  return {
    netnsCookie: a.hostServices ? inNetns(a.netns, netnsCookie) : 0n,
    nodeIp: parseIp(nodeIp)!.bytes, hairpinIp: parseIp(a.hairpinIp)!.bytes,
    flags: (a.dsr ? SL_CFG_DSR : 0) | (a.fastPath ? 0 : SL_CFG_NO_FAST_PATH), ...DEFAULT_TIMEOUTS,
  };
}
