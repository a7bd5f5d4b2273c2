import fc from 'fast-check';
import { plain } from './plain.ts';
import type { ServiceBody } from '../../runtime/encode/schema.ts';
import { cidr } from './cidr.ts';
import { ip } from './ip.ts';
import { text } from './text.ts';
import { uint } from './uint.ts';

const ips = () => fc.array(ip(), { maxLength: 3 });

export const serviceBody = (): fc.Arbitrary<ServiceBody> => plain({
  type: uint(8), flags: uint(8), healthCheckNodePort: uint(16), affinityTimeout: uint(32), created: uint(32),
  clusterIPs: ips(), externalIPs: ips(), loadBalancerIPs: ips(), sourceRanges: fc.array(cidr(), { maxLength: 3 }),
  ports: fc.array(plain({ name: text(), proto: uint(8), port: uint(16), nodePort: uint(16), targetPort: uint(16), targetPortName: text() }), { maxLength: 4 }),
});
