import fc from 'fast-check';
import { plain } from './plain.ts';
import type { PolicyBody, PolicyRule } from '../../runtime/encode/schema.ts';
import { cidr } from './cidr.ts';
import { selector } from './selector.ts';
import { text } from './text.ts';
import { uint } from './uint.ts';

// No required keys: absent peer parts are left out of the object, as the decoder does.
const peer = () => plain({
  pods: selector(),
  namespaces: selector(),
  ipBlock: plain({ cidr: cidr(), except: fc.array(cidr(), { maxLength: 2 }) }),
}, []);

const rule = (): fc.Arbitrary<PolicyRule> => plain({
  peers: fc.array(peer(), { maxLength: 3 }),
  ports: fc.array(plain({ proto: uint(8), port: uint(16), endPort: uint(16), portName: text() }), { maxLength: 3 }),
});

export const policyBody = (): fc.Arbitrary<PolicyBody> => plain({
  podSelector: selector(),
  policyTypes: uint(8),
  ingress: fc.array(rule(), { maxLength: 2 }),
  egress: fc.array(rule(), { maxLength: 2 }),
});
