// The Kubernetes protobuf wire schema of the fields sluice reads, and only
// those: field numbers as k8s.io/api's and k8s.io/apimachinery's
// generated.proto give them. Everything else an object carries (a Pod's
// containers beyond their ports, status conditions, managedFields) is
// skipped by the decoder without being built. The names are the JSON names,
// so a decoded object is what JSON.parse would give of the same fields, and
// one normalizer reads both. property-tests/sources/protoGolden.test.ts checks
// the numbers against bytes that protoc wrote from the upstream schema.

/** protobuf's wire types, the low 3 bits of a field's tag: what the decoder checks and the test encoder writes. */
export const VARINT = 0, I64 = 1, LEN = 2;

/** time: metav1.Time (seconds); intOrString: intstr.IntOrString; map: map<string, string>. */
export type Scalar = 'string' | 'bool' | 'int' | 'time' | 'intOrString' | 'map';

export interface Field { readonly name: string; readonly type: Scalar | Message; readonly repeated: boolean }

export interface Message { readonly name: string; readonly fields: readonly (Field | undefined)[] }

const one = (name: string, type: Scalar | Message): Field => ({ name, type, repeated: false });
const many = (name: string, type: 'string' | Message): Field => ({ name, type, repeated: true });

function message(name: string, byNumber: { readonly [n: number]: Field }): Message {
  const fields: (Field | undefined)[] = [];
  for (const [n, f] of Object.entries(byNumber)) fields[Number(n)] = f;
  return { name, fields };
}

const META = { 1: one('name', 'string'), 3: one('namespace', 'string'), 6: one('resourceVersion', 'string'), 11: one('labels', 'map') };
const objectMeta = message('ObjectMeta', META);
const labelSelector = message('LabelSelector', {
  1: one('matchLabels', 'map'),
  2: many('matchExpressions', message('LabelSelectorRequirement', { 1: one('key', 'string'), 2: one('operator', 'string'), 3: many('values', 'string') })),
});
const withMeta = (name: string, rest: { readonly [n: number]: Field }) => message(name, { 1: one('metadata', objectMeta), ...rest });

const pod = withMeta('Pod', {
  2: one('spec', message('PodSpec', {
    2: many('containers', message('Container', {
      6: many('ports', message('ContainerPort', { 1: one('name', 'string'), 3: one('containerPort', 'int'), 4: one('protocol', 'string') })),
    })),
    10: one('nodeName', 'string'), 11: one('hostNetwork', 'bool'),
  })),
  3: one('status', message('PodStatus', {
    1: one('phase', 'string'), 6: one('podIP', 'string'), 12: many('podIPs', message('PodIP', { 1: one('ip', 'string') })),
  })),
});

// Only a Service's age is read (the older of two claiming one address keeps it).
const service = message('Service', {
  1: one('metadata', message('ObjectMeta', { ...META, 8: one('creationTimestamp', 'time') })),
  2: one('spec', message('ServiceSpec', {
    1: many('ports', message('ServicePort', {
      1: one('name', 'string'), 2: one('protocol', 'string'), 3: one('port', 'int'), 4: one('targetPort', 'intOrString'), 5: one('nodePort', 'int'),
    })),
    3: one('clusterIP', 'string'), 4: one('type', 'string'), 5: many('externalIPs', 'string'), 7: one('sessionAffinity', 'string'),
    9: many('loadBalancerSourceRanges', 'string'), 11: one('externalTrafficPolicy', 'string'), 12: one('healthCheckNodePort', 'int'),
    13: one('publishNotReadyAddresses', 'bool'),
    14: one('sessionAffinityConfig', message('SessionAffinityConfig', { 1: one('clientIP', message('ClientIPConfig', { 1: one('timeoutSeconds', 'int') })) })),
    18: many('clusterIPs', 'string'), 22: one('internalTrafficPolicy', 'string'),
  })),
  3: one('status', message('ServiceStatus', {
    1: one('loadBalancer', message('LoadBalancerStatus', {
      1: many('ingress', message('LoadBalancerIngress', { 1: one('ip', 'string'), 3: one('ipMode', 'string') })),
    })),
  })),
});

const endpointSlice = withMeta('EndpointSlice', {
  2: many('endpoints', message('Endpoint', {
    1: many('addresses', 'string'),
    2: one('conditions', message('EndpointConditions', { 1: one('ready', 'bool'), 2: one('serving', 'bool'), 3: one('terminating', 'bool') })),
    6: one('nodeName', 'string'), 7: one('zone', 'string'),
    8: one('hints', message('EndpointHints', { 1: many('forZones', message('ForZone', { 1: one('name', 'string') })) })),
  })),
  3: many('ports', message('EndpointPort', { 1: one('name', 'string'), 2: one('protocol', 'string'), 3: one('port', 'int') })),
  4: one('addressType', 'string'),
});

const policyPort = message('NetworkPolicyPort', { 1: one('protocol', 'string'), 2: one('port', 'intOrString'), 3: one('endPort', 'int') });
const policyPeer = message('NetworkPolicyPeer', {
  1: one('podSelector', labelSelector), 2: one('namespaceSelector', labelSelector),
  3: one('ipBlock', message('IPBlock', { 1: one('cidr', 'string'), 2: many('except', 'string') })),
});
const networkPolicy = withMeta('NetworkPolicy', {
  2: one('spec', message('NetworkPolicySpec', {
    1: one('podSelector', labelSelector),
    2: many('ingress', message('NetworkPolicyIngressRule', { 1: many('ports', policyPort), 2: many('from', policyPeer) })),
    3: many('egress', message('NetworkPolicyEgressRule', { 1: many('ports', policyPort), 2: many('to', policyPeer) })),
    4: many('policyTypes', 'string'),
  })),
});

const node = withMeta('Node', {
  2: one('spec', message('NodeSpec', { 1: one('podCIDR', 'string'), 7: many('podCIDRs', 'string') })),
  3: one('status', message('NodeStatus', {
    5: many('addresses', message('NodeAddress', { 1: one('type', 'string'), 2: one('address', 'string') })),
  })),
});

/** An error the API server answers with (metav1.Status): its message is what a failure quotes. */
export const STATUS = message('Status', { 2: one('status', 'string'), 3: one('message', 'string'), 4: one('reason', 'string'), 6: one('code', 'int') });

/** The message of each kind sluice watches, by kind. */
export const KINDS: { readonly [kind: string]: Message } = {
  Pod: pod, Service: service, EndpointSlice: endpointSlice, NetworkPolicy: networkPolicy, Namespace: withMeta('Namespace', {}), Node: node, Status: STATUS,
};

const listMeta = message('ListMeta', { 2: one('resourceVersion', 'string'), 3: one('continue', 'string') });

/** A list's two fields: its metadata (ListMeta) and its items. */
export const LIST = { metadata: 1, items: 2 } as const;

/** Each kind's list (PodList, ...), by its kind: its metadata's resourceVersion and continue token, and its items. */
export const LISTS: { readonly [kind: string]: Message } = Object.fromEntries(Object.entries(KINDS).map(([kind, item]) =>
  [`${kind}List`, message(`${kind}List`, { [LIST.metadata]: one('metadata', listMeta), [LIST.items]: many('items', item) })]));

/** runtime.Unknown, the envelope of every protobuf body: the TypeMeta and the object's own bytes. */
export const UNKNOWN = { typeMeta: 1, raw: 2 } as const;
export const TYPE_META = message('TypeMeta', { 1: one('apiVersion', 'string'), 2: one('kind', 'string') });

/** metav1.WatchEvent, a watch frame's whole body: type, and object, a RawExtension whose raw (field 1) is an enveloped object. */
export const WATCH_EVENT = { type: 1, object: 2, raw: 1 } as const;

/** What every protobuf body starts with, before its Unknown envelope. */
export const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00); // "k8s\0"

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
export const JSON_TYPE = 'application/json';
/** What the agent may ask for (kube-proxy's --kube-api-content-type). */
export const CONTENT_TYPES = [PROTOBUF, JSON_TYPE] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];
/** What the agent asks for: protobuf, as kube-proxy does, or JSON from a server (or a kind) without it. */
export const ACCEPT_PROTOBUF = `${PROTOBUF}, ${JSON_TYPE}`;

/** A response's Content-Type says protobuf (a list's; a watch's adds ";stream=watch"). */
export const isProtobuf = (contentType: string | undefined): boolean => contentType?.split(';')[0].trim() === PROTOBUF;
