// A testbed's state as a table: what `testbed up`, `apply` and `status` print.
import { statePath } from './names.ts';
import type { TestbedState } from './state.ts';

function table(rows: readonly string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function summary(s: TestbedState): string {
  const head = `testbed ${s.prefix}: ${s.nodes.length} nodes, ${s.pods.length} pods, ${s.wiring} underlay ${s.underlay.subnet}, ` +
    `nodes' rp_filter ${s.rpFilter}, sluice ${s.sluice ? 'on' : 'off'}; state ${statePath(s.prefix)}`;
  const rows = [
    ['WHAT', 'NAME', 'NETNS', 'ADDRESS', 'DETAIL'],
    ['external', '', s.external.netns, s.external.ip, [
      s.clientIps.length ? `client IPs ${s.clientIps.join(',')}` : '',
      `${s.external.routes.length} routes via nodes${s.wiring === 'routed' ? ' (on the router)' : ''}`,
    ].filter(Boolean).join('; ')],
    ...s.nodes.map((n) => ['node', n.name, n.netns, n.ip, `pod CIDR ${n.podCIDRs.join(',') || '-'}${s.sluice ? `; pins ${n.pinRoot}` : ''}`]),
    ...s.pods.map((p) => ['pod', p.key, p.netns, p.ip,
      `on ${p.node} via ${p.hostIface}; ${p.ports.length ? `tcp+udp ${p.ports.join(',')} (pid ${p.echo?.pid ?? '-'})` : 'no ports'}`]),
  ];
  return `${head}\n${table(rows)}\n`;
}
