import fc from 'fast-check';

// Field names and values that the normalizer reads, so random objects get
// deep into it instead of failing at the first field.
const FIELDS = [
  'spec', 'status', 'metadata', 'labels', 'name', 'namespace', 'type', 'clusterIP', 'clusterIPs', 'externalIPs',
  'ports', 'port', 'targetPort', 'nodePort', 'protocol', 'sessionAffinity', 'sessionAffinityConfig', 'clientIP',
  'timeoutSeconds', 'externalTrafficPolicy', 'loadBalancer', 'ingress', 'ip', 'ipMode', 'loadBalancerSourceRanges',
  'addressType', 'endpoints', 'addresses', 'conditions', 'ready', 'serving', 'terminating', 'nodeName', 'hints',
  'forZones', 'podCIDRs', 'podCIDR', 'address', 'podIPs', 'containers', 'containerPort', 'phase', 'hostNetwork',
  'podSelector', 'namespaceSelector', 'matchLabels', 'matchExpressions', 'key', 'operator', 'values', 'policyTypes',
  'egress', 'from', 'to', 'ipBlock', 'cidr', 'except', 'endPort', 'kubernetes.io/service-name', 'constructor', '__proto__',
];
const VALUES = [
  'None', 'TCP', 'UDP', 'SCTP', 'Local', 'Cluster', 'ClientIP', 'NodePort', 'LoadBalancer', 'IPv4', 'IPv6', 'FQDN',
  'Proxy', 'VIP', 'In', 'Exists', 'Ingress', 'Egress', 'Running', 'Failed', 'InternalIP', 'http', '10.0.0.1',
  '10.0.0.300', 'fd00::1', '10.0.0.0/8', '10.0.0.1/8', 'fd00::/64', ' 192.0.2.0/24 ', '', 'constructor', 'toString',
];

/** A value such as a field of a Kubernetes object holds, valid or not. */
export const leaf = () => fc.oneof(
  fc.constantFrom(...VALUES), fc.integer({ min: -2, max: 70000 }), fc.boolean(), fc.constant(null), fc.double(), fc.string({ maxLength: 4 }),
);

/** A loosely Kubernetes-shaped object of a kind sluice reads, with random fields. */
export const kubeObject = () => {
  const { value } = fc.letrec<{ value: unknown; object: object; array: unknown[] }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf(), tie('object'), tie('array')),
    object: fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 5, noNullPrototype: true }),
    array: fc.array(tie('value'), { maxLength: 3 }),
  }));
  return fc.record({
    type: fc.constantFrom(...TYPES),
    metadata: fc.record({ name: fc.constantFrom('a', 'b', '', 7), namespace: fc.constantFrom('ns', undefined), labels: value }, { requiredKeys: ['name'] }),
    spec: value, status: value, addressType: value, endpoints: value, ports: value,
  }, { requiredKeys: ['type', 'metadata'] }).map(({ type: [apiVersion, kind], ...rest }) => ({ apiVersion, kind, ...rest }));
};

const TYPES: [apiVersion: string, kind: string][] = [
  ['v1', 'Service'], ['discovery.k8s.io/v1', 'EndpointSlice'], ['v1', 'Node'], ['v1', 'Pod'], ['v1', 'Namespace'],
  ['networking.k8s.io/v1', 'NetworkPolicy'], ['discovery.k8s.io/v1beta1', 'EndpointSlice'], ['apps/v1', 'Deployment'],
  ['v1', 'toString'],
];
