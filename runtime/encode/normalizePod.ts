// Pod v1 -> PodBody: where a pod runs, its IPs, labels and named ports.
import * as R from '../../compiler/abi/records.ts';
import { ipv4, type Noter } from './addresses.ts';
import { absent, boolean, fits, Invalid, item, list, object, oneOf, string, type Obj } from './fields.ts';
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
  const ports = list(spec.containers, 'spec.containers').flatMap((c, i) => item('spec.containers', i, containerPorts, c, undefined));
  fits(ports.length, 'ports in all', 'spec.containers'); // one list in the record, however many containers
  return {
    nodeName: string(spec.nodeName, 'spec.nodeName'),
    flags,
    podIPs: given.flatMap(([v, field]) => ipv4(v, field, note) ?? []),
    labels,
    ports,
  };
}

// A container's ports, and a port, each named within itself (item() names it in the pod).
function containerPorts(v: unknown): ContainerPort[] {
  return list(object(v, '').ports, 'ports').map((p, j) => item('ports', j, containerPort, p, undefined));
}

function containerPort(v: unknown): ContainerPort {
  const x = object(v, '');
  const p = port(x.containerPort, 'containerPort');
  if (p === undefined) throw new Invalid('containerPort', 'missing');
  return { name: portName(x.name, 'name'), proto: protocol(x.protocol, 'protocol'), port: p };
}
