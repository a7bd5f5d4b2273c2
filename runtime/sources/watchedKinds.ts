// The kinds the Kubernetes source watches, with their selectors, and what it
// requires of their objects. Pure: importable without client-node.

/** Services and slices that name another proxy (kube-proxy skips them too) are not ours to program. */
const NOT_OURS = '!service.kubernetes.io/service-proxy-name';
/** Slices of headless Services: no ClusterIP, so nothing to proxy (kube-proxy's selector too). */
const NOT_HEADLESS = '!service.kubernetes.io/headless';

export interface WatchedKind { kind: string; apiVersion: string; path: string; labelSelector?: string }

// No field selectors. Pods: NetworkPolicy peers select pods on every node by
// labels (and the policy of a local pod admits or denies traffic from remote
// ones by their IPs), so the compiler needs all of them; `spec.nodeName=NODE`
// would cut watch traffic only if that were not so. Terminal pods stay too:
// the normalizer flags them and the compiler decides. Nodes: all of them, for
// node IPs and pod CIDRs (kube-proxy watches only its own).
export const WATCHED_KINDS: readonly WatchedKind[] = [
  { kind: 'Service', apiVersion: 'v1', path: '/api/v1/services', labelSelector: NOT_OURS },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector: `${NOT_OURS},${NOT_HEADLESS}` },
  { kind: 'Pod', apiVersion: 'v1', path: '/api/v1/pods' },
  { kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces' },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', path: '/apis/networking.k8s.io/v1/networkpolicies' },
  { kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes' },
];

export const isObject = (o: unknown): o is { [k: string]: unknown } => o !== null && typeof o === 'object' && !Array.isArray(o);

/** What client-node's cache can key on without throwing or colliding: a metadata object with a name. */
export function cacheable(o: unknown): boolean {
  if (!isObject(o) || !isObject(o.metadata)) return false;
  return typeof o.metadata.name === 'string' && o.metadata.name !== '';
}

/**
 * An object as the source passes it on and client-node's cache keeps it:
 * apiVersion and kind filled in (list items carry neither; watch objects
 * should, but are not trusted to), metadata.managedFields dropped. Nothing
 * downstream reads them, and they are often most of an object: kept for
 * 10,000 objects, they were most of the heap the garbage collector walks.
 */
export function forCache(spec: WatchedKind, o: unknown): unknown {
  if (!isObject(o)) return o;
  const out: { [k: string]: unknown } = { ...o, apiVersion: o.apiVersion ?? spec.apiVersion, kind: o.kind ?? spec.kind };
  if (isObject(o.metadata) && 'managedFields' in o.metadata) {
    const { managedFields: _, ...metadata } = o.metadata;
    out.metadata = metadata;
  }
  return out;
}

export function resourceVersionOf(o: unknown): string | undefined {
  const rv = isObject(o) && isObject(o.metadata) ? o.metadata.resourceVersion : undefined;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}
