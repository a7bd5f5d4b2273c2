import fc from 'fast-check';
import { RESOURCE_NAMES, type FakeApiServer, type Resource } from '../../testkit/fakeApiServer.ts';
import { apiObject, nameOf, type ApiObject } from './apiObject.ts';

/** One thing the fake API server does: a write, a malformed item, or a way to break the watch. */
export type ApiStep =
  | { op: 'apply'; o: ApiObject }
  | { op: 'delete'; o: ApiObject }
  | { op: 'raw'; resource: Resource } // an item the informer cache cannot hold
  | { op: 'drop'; resource: Resource; how: 'end' | 'reset' }
  | { op: 'expire'; as: 'event' | 'http' } // history compacted: a relist follows
  | { op: 'fail'; resource: Resource }; // the next watch gets HTTP 500

const resource = fc.constantFrom(...RESOURCE_NAMES);

export const apiStep = (): fc.Arbitrary<ApiStep> => fc.oneof(
  { weight: 10, arbitrary: apiObject().map((o) => ({ op: 'apply' as const, o })) },
  { weight: 5, arbitrary: apiObject().map((o) => ({ op: 'delete' as const, o })) },
  { weight: 1, arbitrary: resource.map((r) => ({ op: 'raw' as const, resource: r })) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), resource, how: fc.constantFrom('end' as const, 'reset' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), as: fc.constantFrom('event' as const, 'http' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), resource }) },
);

/** Runs a step against the server (a delete of something absent does nothing). */
export function runStep(server: FakeApiServer, s: ApiStep): void {
  switch (s.op) {
    case 'apply': server.apply(s.o.resource, s.o.object); break;
    case 'delete': try { server.delete(s.o.resource, nameOf(s.o)); } catch { /* not there */ } break;
    case 'raw': server.raw(s.resource, { metadata: { namespace: 'a' }, spec: {} }); break;
    case 'drop': server.dropWatches(s.resource, s.how); break;
    case 'expire': server.expire(s.as); break;
    case 'fail': server.fail(s.resource, 'watch', 500); break;
  }
}
