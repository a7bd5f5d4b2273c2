import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { Kind, Record } from '../../runtime/encode/schema.ts';
import { pick } from './pool.ts';
import { smallNode } from './smallNode.ts';
import { smallService } from './smallService.ts';
import { smallSlice } from './smallSlice.ts';

const ns = pick('a', 'b');

/** One change in the small universe: an object's new state, or its deletion.
 * Namespaces and Pods are in it too: the service compiler must ignore them. */
export const clusterEvent = (): fc.Arbitrary<Record> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ namespace: ns, name: pick('s1', 's2', 's3'), body: smallService() })
    .map((r): Record => ({ kind: R.KIND_SERVICE, op: 'upsert', ...r })) },
  { weight: 5, arbitrary: fc.record({ namespace: ns, name: pick('e1', 'e2', 'e3'), body: smallSlice() })
    .map((r): Record => ({ kind: R.KIND_ENDPOINT_SLICE, op: 'upsert', ...r })) },
  { weight: 1, arbitrary: fc.record({ name: pick('n1', 'n2'), body: smallNode() })
    .map((r): Record => ({ kind: R.KIND_NODE, op: 'upsert', namespace: '', ...r })) },
  { weight: 1, arbitrary: fc.record({ name: pick('a', 'b') })
    .map((r): Record => ({ kind: R.KIND_NAMESPACE, op: 'upsert', namespace: '', ...r, body: { labels: [['team', 'x']] } })) },
  { weight: 3, arbitrary: fc.record({
    kind: pick<Kind>(R.KIND_SERVICE, R.KIND_ENDPOINT_SLICE, R.KIND_NODE),
    namespace: ns, name: pick('s1', 's2', 's3', 'e1', 'e2', 'e3', 'n1', 'n2'),
  }).map((r): Record => ({ ...r, namespace: r.kind === R.KIND_NODE ? '' : r.namespace, op: 'delete' })) },
);

const ip = (a: number, b: number) => ({ family: 4 as const, bytes: Uint8Array.of(10, a, b >> 8, b & 255) });

/** A crowd in namespace c: 30-45 one-port Services, and one slice of 30-80
 * endpoints for the first, so that at few id hash bits a bucket fills up
 * (backend sets without an id, backends left out). */
const crowd = (): fc.Arbitrary<Record[]> => fc.tuple(fc.integer({ min: 30, max: 45 }), fc.integer({ min: 30, max: 80 }))
  .map(([services, endpoints]) => [
    ...Array.from({ length: services }, (_, i): Record => ({
      kind: R.KIND_SERVICE, op: 'upsert', namespace: 'c', name: `c${i}`,
      body: { type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0, clusterIPs: [ip(97, i)], externalIPs: [],
        loadBalancerIPs: [], sourceRanges: [], ports: [{ name: '', proto: R.PROTO_TCP, port: 80, nodePort: 0, targetPort: 8080, targetPortName: '' }] },
    })),
    { kind: R.KIND_ENDPOINT_SLICE, op: 'upsert', namespace: 'c', name: 'c0-1', body: {
      serviceName: 'c0', addressType: R.ADDR_IPV4, ports: [{ name: '', proto: R.PROTO_TCP, port: 8080 }],
      endpoints: Array.from({ length: endpoints }, (_, i) => ({ address: ip(246, i), conditions: R.COND_READY | R.COND_SERVING, nodeName: 'n1', zone: '', forZones: [] })),
    } },
  ]);

const small = () => fc.array(fc.array(clusterEvent(), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });

/** A history: batches of events, as the runtime hands them to the compiler; one in five has a crowd come (and some of it go). */
export const history = (): fc.Arbitrary<Record[][]> => fc.oneof(
  { weight: 4, arbitrary: small() },
  { weight: 1, arbitrary: fc.tuple(small(), crowd(), fc.nat(), fc.integer({ min: 0, max: 10 })).map(([h, c, at, gone]) => {
    const leaving = c.slice(0, gone).map((r): Record => ({ kind: r.kind, namespace: r.namespace, name: r.name, op: 'delete' }));
    const i = at % (h.length + 1);
    return [...h.slice(0, i), c, ...h.slice(i), ...(gone > 0 ? [leaving] : [])];
  }) },
);
