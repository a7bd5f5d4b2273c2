// Pod v1 -> PodBody: where a pod runs, its IPs, labels and named ports.
import * as R from '../../compiler/abi/records.ts';
import { ipv4, type Noter } from './addresses.ts';
import { absent, boolean, fits, Invalid, list, object, oneOf, string, type Obj } from './fields.ts';
import { port, portName, protocol } from './ports.ts';
import type { ContainerPort, Labels, PodBody } from './schema.ts';

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

export function normalizePod(o: Obj, note: Noter, labels: Labels): PodBody {
  const spec = object(o.spec, 'spec');
  const status = object(o.status, 'status');
  let flags = boolean(spec.hostNetwork, 'spec.hostNetwork', false) ? R.PODF_HOST_NETWORK : 0;
  const phase = oneOf(status.phase, 'status.phase', PHASES, 'Pending');
  if (phase === 'Succeeded' || phase === 'Failed') flags |= R.PODF_TERMINAL;
  const many = list(status.podIPs, 'status.podIPs');
  const given: [unknown, string][] = many.length > 0
    ? many.map((v, i) => [object(v, `status.podIPs[${i}]`).ip, `status.podIPs[${i}].ip`])
    : absent(status.podIP) || status.podIP === '' ? [] : [[status.podIP, 'status.podIP']];
  const ports = list(spec.containers, 'spec.containers').flatMap((c, i) => {
    const at = `spec.containers[${i}]`;
    return list(object(c, at).ports, `${at}.ports`).map((p, j) => containerPort(p, `${at}.ports[${j}]`));
  });
  fits(ports.length, 'ports in all', 'spec.containers'); // one list in the record, however many containers
  return {
    nodeName: string(spec.nodeName, 'spec.nodeName'),
    flags,
    podIPs: given.flatMap(([v, field]) => ipv4(v, field, note) ?? []),
    labels,
    ports,
  };
}

function containerPort(v: unknown, at: string): ContainerPort {
  const x = object(v, at);
  const p = port(x.containerPort, `${at}.containerPort`);
  if (p === undefined) throw new Invalid(`${at}.containerPort`, 'missing');
  return { name: portName(x.name, `${at}.name`), proto: protocol(x.protocol, `${at}.protocol`), port: p };
}
