// kube-proxy's rules, one or more tests each: Kubernetes objects in (as
// `kubectl get -o json` prints them), the compiled node view out. Every
// expected value is written from Kubernetes and kube-proxy semantics
// (pkg/proxy: service.go, endpointslicecache.go, topology.go), not from what
// the compiler happens to print. Each example is also a named case of
// kubeproxy.prop.ts: where nothing is rejected, the view must equal the
// kube-proxy model's (model/kubeProxy.ts) as well.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObjects } from '../../runtime/cli/compile.ts';
import type { Backend, View } from '../../runtime/view/frontends.ts';
import { bes, ep, frontsOf, lbStatus, node, slice, svc, viewFor as compiledView, type Json } from '../model/kube.ts';
import { frontendId, kubeProxyModel } from '../model/kubeProxy.ts';
import { check } from '../seed.ts';

/** What a frontend should look like, past its identity. */
const fe = (backends: Backend[], more: object = {}) => ({ trafficPolicy: 'Cluster', backends, affinitySeconds: null, sourceRanges: null, ...more });
const local = (backends: Backend[], more: object = {}) => fe(backends, { trafficPolicy: 'Local', ...more });
const findings = (xs: { object: string; field: string }[]) => xs.map(({ object, field }) => ({ object, field }));

const inputs = new WeakMap<View, [Json[], string]>();

/** The compiled view, remembering its input for clean(). */
function viewFor(objects: unknown[], nodeName: string): View {
  const view = compiledView(objects, nodeName);
  inputs.set(view, [objects as Json[], nodeName]);
  return view;
}

/** Nothing rejected, and the view is what the kube-proxy model gives for the same input. */
function clean(view: View): void {
  assert.equal(view.rejected, [], 'nothing rejected');
  const [objects, nodeName] = inputs.get(view)!;
  const byId = <T extends { ip: string; port: number; protocol: string }>(fs: T[]) => Object.fromEntries(fs.map((f) => [frontendId(f), f]));
  assert.equal(byId(view.frontends), byId(kubeProxyModel(objects, nodeName).frontends), 'the kube-proxy model agrees');
}

const NODES = [
  node('n1', '192.168.1.10', [['ExternalIP', '203.0.113.10'], ['Hostname', 'n1'], ['InternalDNS', 'n1.cluster.internal']]),
  node('n2', '192.168.1.11'),
];

// ---- ClusterIP ---------------------------------------------------------------

test('ClusterIP: one frontend per service port, TCP, UDP and SCTP alike', () => {
  const objects = [
    svc('kube-system/dns', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      { name: 'sig', port: 9899, protocol: 'SCTP', targetPort: 9899 },
    ] }),
    slice('kube-system/dns-x1', 'dns',
      [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'sig', port: 9899, protocol: 'SCTP' }],
      [ep('10.244.1.5', 'n1'), ep('10.244.2.6', 'n2')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  const both = bes(['10.244.1.5', 53], ['10.244.2.6', 53]);
  assert.equal(frontsOf(view, 'kube-system/dns'), {
    'ClusterIP 10.96.0.10:53/UDP': fe(both),
    'ClusterIP 10.96.0.10:53/TCP': fe(both),
    'ClusterIP 10.96.0.10:9899/SCTP': fe(bes(['10.244.1.5', 9899], ['10.244.2.6', 9899])),
  });
});

test('ClusterIP: the older single clusterIP field alone is enough', () => {
  const view = viewFor([svc('shop/web', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] })], 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/web'), { 'ClusterIP 10.96.0.20:80/TCP': fe([]) });
});

test('ClusterIP: dual-stack keeps the IPv4 cluster IP; the IPv6 one is a note, not a rejection', () => {
  const objects = [
    svc('shop/web', { clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21', 'fd00:10:96::21'], ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'PreferDualStack', ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }),
    svc('shop/v6only', { clusterIP: 'fd00:10:96::22', clusterIPs: ['fd00:10:96::22'], ipFamilies: ['IPv6'], ports: [{ port: 80 }] }),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/web'), { 'ClusterIP 10.96.0.21:80/TCP': fe([]), 'ClusterIP 10.96.0.21:443/TCP': fe([]) });
  assert.equal(frontsOf(view, 'shop/v6only'), {});
  const noted = findings(view.notes);
  assert.ok(noted.some((n) => n.object === 'Service shop/web' && n.field === 'spec.clusterIPs[1]'), JSON.stringify(view.notes));
  assert.ok(noted.some((n) => n.object === 'Service shop/v6only' && n.field === 'spec.clusterIPs[0]'), JSON.stringify(view.notes));
  for (const n of view.notes.filter((x) => x.field.startsWith('spec.clusterIPs'))) assert.match(n.note, /IPv6/);
});

// ---- NodePort ----------------------------------------------------------------

const nodePortSvc = svc('shop/np', { type: 'NodePort', clusterIP: '10.96.0.30', clusterIPs: ['10.96.0.30'],
  ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353, nodePort: 30053 }] });
const nodePortSlice = slice('shop/np-1', 'np', [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], [ep('10.244.2.7', 'n2')]);

test('NodePort: a frontend at the nodePort on each InternalIP and ExternalIP of this node, none on Hostname', () => {
  const view = viewFor([...NODES, nodePortSvc, nodePortSlice], 'n1');
  clean(view);
  const http = fe(bes(['10.244.2.7', 8080])), dns = fe(bes(['10.244.2.7', 5353]));
  assert.equal(frontsOf(view, 'shop/np'), {
    'ClusterIP 10.96.0.30:80/TCP': http,
    'ClusterIP 10.96.0.30:53/UDP': dns,
    'NodePort 192.168.1.10:30080/TCP': http,
    'NodePort 203.0.113.10:30080/TCP': http,
    'NodePort 192.168.1.10:30053/UDP': dns,
    'NodePort 203.0.113.10:30053/UDP': dns,
  });
});

test('NodePort: compiling for another node uses that node\'s addresses', () => {
  const view = viewFor([...NODES, nodePortSvc, nodePortSlice], 'n2');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/np')).filter((k) => k.startsWith('NodePort')).sort(),
    ['NodePort 192.168.1.11:30053/UDP', 'NodePort 192.168.1.11:30080/TCP']);
});

test('NodePort: no Node object for this node, no NodePort frontends (the ClusterIP ones stay)', () => {
  const view = viewFor([...NODES, nodePortSvc, nodePortSlice], 'n3');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/np')).sort(), ['ClusterIP 10.96.0.30:53/UDP', 'ClusterIP 10.96.0.30:80/TCP']);
});

test('NodePort: IPv6 node addresses are noted and skipped', () => {
  const objects = [node('n1', '192.168.1.10', [['InternalIP', 'fd00::10']]), nodePortSvc];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/np')).filter((k) => k.startsWith('NodePort')).sort(),
    ['NodePort 192.168.1.10:30053/UDP', 'NodePort 192.168.1.10:30080/TCP']);
  assert.equal(findings(view.notes), [{ object: 'Node n1', field: 'status.addresses[1].address' }]);
});

test('NodePort: an address listed as both InternalIP and ExternalIP is one frontend', () => {
  const view = viewFor([node('n1', '192.168.1.10', [['ExternalIP', '192.168.1.10']]), nodePortSvc], 'n1');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/np')).filter((k) => k.startsWith('NodePort')).sort(),
    ['NodePort 192.168.1.10:30053/UDP', 'NodePort 192.168.1.10:30080/TCP']);
});

test('NodePort: a LoadBalancer Service gets NodePorts too, but not on a port without nodePort', () => {
  const objects = [...NODES, svc('shop/lb', { type: 'LoadBalancer', clusterIP: '10.96.0.31', allocateLoadBalancerNodePorts: false,
    ports: [{ name: 'http', port: 80, nodePort: 31080 }, { name: 'https', port: 443 }] }, lbStatus('203.0.113.31'))];
  const view = viewFor(objects, 'n2');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/lb')).sort(), [
    'ClusterIP 10.96.0.31:443/TCP', 'ClusterIP 10.96.0.31:80/TCP',
    'LoadBalancer 203.0.113.31:443/TCP', 'LoadBalancer 203.0.113.31:80/TCP',
    'NodePort 192.168.1.11:31080/TCP',
  ]);
});

// ---- externalIPs and LoadBalancer ingress -----------------------------------

test('externalIPs: an ExternalIP frontend per address and port, for a ClusterIP Service too', () => {
  const objects = [
    svc('shop/ext', { clusterIP: '10.96.0.40', externalIPs: ['198.51.100.7', '198.51.100.8'], ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
    slice('shop/ext-1', 'ext', [{ name: 'http', port: 8080 }], [ep('10.244.1.40', 'n1')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  const one = fe(bes(['10.244.1.40', 8080]));
  assert.equal(frontsOf(view, 'shop/ext'), {
    'ClusterIP 10.96.0.40:80/TCP': one, 'ExternalIP 198.51.100.7:80/TCP': one, 'ExternalIP 198.51.100.8:80/TCP': one,
  });
});

test('LoadBalancer: each ingress IP is a frontend; ipMode Proxy and hostname-only ingress are not', () => {
  const objects = [svc('shop/lb', { type: 'LoadBalancer', clusterIP: '10.96.0.41', ports: [{ port: 443 }] }, lbStatus(
    '203.0.113.50', { ip: '203.0.113.51', ipMode: 'VIP' }, { ip: '203.0.113.52', ipMode: 'Proxy' }, { hostname: 'lb.example.com' }))];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/lb')).sort(),
    ['ClusterIP 10.96.0.41:443/TCP', 'LoadBalancer 203.0.113.50:443/TCP', 'LoadBalancer 203.0.113.51:443/TCP']);
});

test('LoadBalancer: ingress in the status of a Service that is not type LoadBalancer is not programmed', () => {
  const objects = [...NODES,
    svc('shop/was-lb', { clusterIP: '10.96.0.42', ports: [{ port: 80 }] }, lbStatus('203.0.113.60')),
    svc('shop/np-lb', { type: 'NodePort', clusterIP: '10.96.0.43', ports: [{ port: 80, nodePort: 30043 }] }, lbStatus('203.0.113.61'))];
  const view = viewFor(objects, 'n2');
  clean(view);
  assert.equal(Object.keys(frontsOf(view, 'shop/was-lb')), ['ClusterIP 10.96.0.42:80/TCP']);
  assert.equal(Object.keys(frontsOf(view, 'shop/np-lb')).sort(), ['ClusterIP 10.96.0.43:80/TCP', 'NodePort 192.168.1.11:30043/TCP']);
});

// ---- Ports: from the EndpointSlice, by name and protocol ---------------------

test('targetPort by number: the backend port is the slice port of the same name, whatever targetPort says', () => {
  const objects = [
    svc('shop/num', { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
    // the slice is the truth kube-proxy programs (here it still lists the old port)
    slice('shop/num-1', 'num', [{ name: 'http', port: 8081, protocol: 'TCP' }], [ep('10.244.1.50')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/num'), { 'ClusterIP 10.96.0.50:80/TCP': fe(bes(['10.244.1.50', 8081])) });
});

test('an unnamed single port matches the unnamed slice port', () => {
  const objects = [
    svc('shop/plain', { clusterIP: '10.96.0.51', ports: [{ port: 80, targetPort: 8080 }] }),
    slice('shop/plain-1', 'plain', [{ port: 8080 }], [ep('10.244.1.51')]),
  ];
  const view = viewFor(objects, 'n1');
  assert.equal(frontsOf(view, 'shop/plain'), { 'ClusterIP 10.96.0.51:80/TCP': fe(bes(['10.244.1.51', 8080])) });
});

test('targetPort by name: each slice resolves the port for its own endpoints', () => {
  const objects = [
    svc('shop/named', { clusterIP: '10.96.0.52', ports: [{ name: 'http', port: 80, targetPort: 'web' }] }),
    slice('shop/named-a', 'named', [{ name: 'http', port: 8080 }], [ep('10.244.1.52', 'n1'), ep('10.244.1.53', 'n1')]),
    slice('shop/named-b', 'named', [{ name: 'http', port: 9090 }], [ep('10.244.2.52', 'n2')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/named'), {
    'ClusterIP 10.96.0.52:80/TCP': fe(bes(['10.244.1.52', 8080], ['10.244.1.53', 8080], ['10.244.2.52', 9090])),
  });
});

test('a slice that lacks a port name gives that port no backends', () => {
  const objects = [
    svc('shop/two', { clusterIP: '10.96.0.53', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9100 }] }),
    slice('shop/two-a', 'two', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }], [ep('10.244.1.54')]),
    slice('shop/two-b', 'two', [{ name: 'http', port: 8080 }], [ep('10.244.2.54')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/two'), {
    'ClusterIP 10.96.0.53:80/TCP': fe(bes(['10.244.1.54', 8080], ['10.244.2.54', 8080])),
    'ClusterIP 10.96.0.53:9100/TCP': fe(bes(['10.244.1.54', 9100])),
  });
});

test('a slice port of the same name but another protocol does not match', () => {
  const objects = [
    svc('shop/proto', { clusterIP: '10.96.0.54', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    slice('shop/proto-1', 'proto', [{ name: 'dns', port: 53, protocol: 'TCP' }], [ep('10.244.1.55')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/proto'), { 'ClusterIP 10.96.0.54:53/UDP': fe([]) });
});

// ---- EndpointSlices: which ones, merged how ----------------------------------

test('no selector: hand-made slices are merged, an endpoint in two slices counts once', () => {
  const objects = [
    svc('db/pg', { clusterIP: '10.96.0.60', ports: [{ name: 'pg', port: 5432 }] }), // no selector
    slice('db/pg-1', 'pg', [{ name: 'pg', port: 5432 }], [ep('10.0.0.1'), ep('10.0.0.2')]),
    slice('db/pg-2', 'pg', [{ name: 'pg', port: 5432 }], [ep('10.0.0.2'), ep('10.0.0.3')]),
    // labelled for another Service, and the same Service name in another namespace: neither is pg's
    slice('db/other-1', 'other', [{ name: 'pg', port: 5432 }], [ep('10.0.0.9')]),
    slice('staging/pg-1', 'pg', [{ name: 'pg', port: 5432 }], [ep('10.0.0.8')]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'db/pg'), {
    'ClusterIP 10.96.0.60:5432/TCP': fe(bes(['10.0.0.1', 5432], ['10.0.0.2', 5432], ['10.0.0.3', 5432])),
  });
});

test('an IPv6 EndpointSlice of a dual-stack Service is noted and gives no backends', () => {
  const objects = [
    svc('shop/ds', { clusterIPs: ['10.96.0.61', 'fd00::61'], ports: [{ name: 'http', port: 80 }] }),
    slice('shop/ds-v4', 'ds', [{ name: 'http', port: 8080 }], [ep('10.244.1.61')]),
    { ...slice('shop/ds-v6', 'ds', [{ name: 'http', port: 8080 }], [ep('fd00:244::61')]), addressType: 'IPv6' },
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/ds'), { 'ClusterIP 10.96.0.61:80/TCP': fe(bes(['10.244.1.61', 8080])) });
  assert.equal(findings(view.notes), [{ object: 'EndpointSlice shop/ds-v6', field: 'addressType' }, { object: 'Service shop/ds', field: 'spec.clusterIPs[1]' }]);
});

test('headless and ExternalName Services get no frontend', () => {
  const objects = [
    svc('shop/headless', { clusterIP: 'None', clusterIPs: ['None'], externalIPs: ['198.51.100.9'], ports: [{ name: 'http', port: 80 }] }),
    slice('shop/headless-1', 'headless', [{ name: 'http', port: 80 }], [ep('10.244.1.70')]),
    svc('shop/docs', { type: 'ExternalName', externalName: 'docs.example.com', externalIPs: ['198.51.100.10'], ports: [{ port: 443 }] }),
    svc('shop/kept', { clusterIP: '10.96.0.70', ports: [{ port: 80 }] }),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(view.frontends.map((f) => f.service), ['shop/kept']);
});

// ---- Endpoint conditions ----------------------------------------------------

const condSvc = (name: string, ip: string) => svc(`shop/${name}`, { clusterIP: ip, ports: [{ name: 'http', port: 80 }] });
const condSlice = (name: string, endpoints: Json[]) => slice(`shop/${name}-1`, name, [{ name: 'http', port: 8080 }], endpoints);

test('conditions: ready unset counts as ready, ready false is left out, terminating unused while something is ready', () => {
  const objects = [condSvc('c1', '10.96.0.80'), condSlice('c1', [
    ep('10.244.1.1'), // no conditions at all
    { addresses: ['10.244.1.2'] }, // no conditions object either
    ep('10.244.1.3', undefined, { ready: true, serving: true }),
    ep('10.244.1.4', undefined, { ready: false }),
    ep('10.244.1.5', undefined, { ready: false, serving: true, terminating: true }),
  ])];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/c1'), {
    'ClusterIP 10.96.0.80:80/TCP': fe(bes(['10.244.1.1', 8080], ['10.244.1.2', 8080], ['10.244.1.3', 8080])),
  });
});

test('conditions: with nothing ready, serving-and-terminating endpoints are used (KEP-1669)', () => {
  const objects = [condSvc('c2', '10.96.0.81'), condSlice('c2', [
    ep('10.244.1.1', undefined, { ready: false, serving: true, terminating: true }),
    ep('10.244.1.2', undefined, { ready: false, terminating: true }), // serving unset means serving
    ep('10.244.1.3', undefined, { ready: false, serving: false, terminating: true }), // terminating, not serving: never
    ep('10.244.1.4', undefined, { ready: false }), // not ready and not terminating: never
    ep('10.244.1.5', undefined, { ready: false, serving: true, terminating: false }),
  ])];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/c2'), {
    'ClusterIP 10.96.0.81:80/TCP': fe(bes(['10.244.1.1', 8080], ['10.244.1.2', 8080])),
  });
});

test('conditions: an endpoint in two slices is terminating only if both say so (backends.ts merges terminating with &, not |)', () => {
  // Slice 1 says serving and terminating, slice 2 serving and not terminating: merged, it is neither ready nor
  // terminating, so neither rule of KEP-1669 takes it. A mutant that merged with | used it as a fallback and
  // survived the suite (issue 15). The same endpoint alone in slice 1 is a fallback backend.
  const draining = ep('10.244.1.1', undefined, { ready: false, serving: true, terminating: true });
  const starting = ep('10.244.1.1', undefined, { ready: false, serving: true, terminating: false });
  const both = [condSvc('dup', '10.96.0.86'), condSlice('dup', [draining]),
    slice('shop/dup-2', 'dup', [{ name: 'http', port: 8080 }], [starting])];
  const view = viewFor(both, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/dup'), { 'ClusterIP 10.96.0.86:80/TCP': fe([]) });
  assert.equal(frontsOf(viewFor(both.slice(0, 2), 'n1'), 'shop/dup'), { 'ClusterIP 10.96.0.86:80/TCP': fe(bes(['10.244.1.1', 8080])) });
  // in either order of the slices
  assert.equal(frontsOf(viewFor([both[0], both[2], both[1]], 'n1'), 'shop/dup'), { 'ClusterIP 10.96.0.86:80/TCP': fe([]) });
});

test('conditions: publishNotReadyAddresses does not make kube-proxy use a not-ready endpoint (the slice says ready)', () => {
  const objects = [
    svc('shop/pnr', { clusterIP: '10.96.0.85', publishNotReadyAddresses: true, ports: [{ name: 'http', port: 80 }] }),
    condSlice('pnr', [ep('10.244.1.1', undefined, { ready: true }), ep('10.244.1.2', undefined, { ready: false })]),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/pnr'), { 'ClusterIP 10.96.0.85:80/TCP': fe(bes(['10.244.1.1', 8080])) });
});

test('conditions: no usable endpoint, or no slice at all, leaves the frontend with zero backends', () => {
  const objects = [
    condSvc('c3', '10.96.0.82'), condSlice('c3', [
      ep('10.244.1.3', undefined, { ready: false, serving: false, terminating: true }),
      ep('10.244.1.4', undefined, { ready: false }),
    ]),
    condSvc('c4', '10.96.0.83'),
    condSvc('c5', '10.96.0.84'), condSlice('c5', []),
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  assert.equal(frontsOf(view, 'shop/c3'), { 'ClusterIP 10.96.0.82:80/TCP': fe([]) });
  assert.equal(frontsOf(view, 'shop/c4'), { 'ClusterIP 10.96.0.83:80/TCP': fe([]) });
  assert.equal(frontsOf(view, 'shop/c5'), { 'ClusterIP 10.96.0.84:80/TCP': fe([]) });
});

// ---- Traffic policies --------------------------------------------------------

/** type LoadBalancer with every kind of frontend: ClusterIP, NodePort, externalIP, ingress IP. */
const everyKind = (name: string, clusterIP: string, nodePort: number, extIP: string, lbIP: string, spec: object = {}) =>
  svc(`shop/${name}`, { type: 'LoadBalancer', clusterIP, externalIPs: [extIP], ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort }], ...spec },
    lbStatus(lbIP));
const httpSlice = (nsName: string, service: string, endpoints: Json[]) => slice(nsName, service, [{ name: 'http', port: 8080 }], endpoints);

test('externalTrafficPolicy Local: external frontends keep this node\'s endpoints, the ClusterIP keeps all', () => {
  const objects = [...NODES,
    everyKind('etp', '10.96.0.90', 30090, '198.51.100.90', '203.0.113.90', { externalTrafficPolicy: 'Local', healthCheckNodePort: 32090 }),
    httpSlice('shop/etp-1', 'etp', [ep('10.244.1.91', 'n1'), ep('10.244.2.92', 'n2')]),
    httpSlice('shop/etp-2', 'etp', [ep('10.244.1.93', 'n1'), ep('10.244.9.94')]), // no nodeName: not local anywhere
  ];
  const view = viewFor(objects, 'n1');
  clean(view);
  const mine = local(bes(['10.244.1.91', 8080], ['10.244.1.93', 8080]));
  assert.equal(frontsOf(view, 'shop/etp'), {
    'ClusterIP 10.96.0.90:80/TCP': fe(bes(['10.244.1.91', 8080], ['10.244.1.93', 8080], ['10.244.2.92', 8080], ['10.244.9.94', 8080])),
    'NodePort 192.168.1.10:30090/TCP': mine,
    'NodePort 203.0.113.10:30090/TCP': mine,
    'ExternalIP 198.51.100.90:80/TCP': mine,
    'LoadBalancer 203.0.113.90:80/TCP': mine,
  });
});

test('externalTrafficPolicy Local: a node without a local endpoint gives its external frontends zero backends', () => {
  const objects = [...NODES,
    everyKind('etp', '10.96.0.90', 30090, '198.51.100.90', '203.0.113.90', { externalTrafficPolicy: 'Local' }),
    httpSlice('shop/etp-1', 'etp', [ep('10.244.1.91', 'n1')])];
  const view = viewFor(objects, 'n2');
  clean(view);
  assert.equal(frontsOf(view, 'shop/etp'), {
    'ClusterIP 10.96.0.90:80/TCP': fe(bes(['10.244.1.91', 8080])),
    'NodePort 192.168.1.11:30090/TCP': local([]),
    'ExternalIP 198.51.100.90:80/TCP': local([]),
    'LoadBalancer 203.0.113.90:80/TCP': local([]),
  });
});

test('externalTrafficPolicy Local: KEP-1669 fallback within the local endpoints', () => {
  const objects = [...NODES,
    everyKind('etp', '10.96.0.90', 30090, '198.51.100.90', '203.0.113.90', { externalTrafficPolicy: 'Local' }),
    httpSlice('shop/etp-1', 'etp', [
      ep('10.244.1.91', 'n1', { ready: false, serving: true, terminating: true }), // n1: nothing ready, this one serves
      ep('10.244.1.92', 'n1', { ready: false, serving: false, terminating: true }),
      ep('10.244.2.93', 'n2'), // ready, but not on n1
      ep('10.244.2.94', 'n2', { ready: false, serving: true, terminating: true }),
    ])];
  const n1 = viewFor(objects, 'n1');
  clean(n1);
  assert.equal(frontsOf(n1, 'shop/etp'), {
    'ClusterIP 10.96.0.90:80/TCP': fe(bes(['10.244.2.93', 8080])), // cluster-wide something is ready: no fallback
    'NodePort 192.168.1.10:30090/TCP': local(bes(['10.244.1.91', 8080])),
    'NodePort 203.0.113.10:30090/TCP': local(bes(['10.244.1.91', 8080])),
    'ExternalIP 198.51.100.90:80/TCP': local(bes(['10.244.1.91', 8080])),
    'LoadBalancer 203.0.113.90:80/TCP': local(bes(['10.244.1.91', 8080])),
  });
  // n2 has a ready local endpoint, so its terminating one stays out
  assert.equal(frontsOf(viewFor(objects, 'n2'), 'shop/etp')['NodePort 192.168.1.11:30090/TCP'], local(bes(['10.244.2.93', 8080])));
});

test('internalTrafficPolicy Local: ClusterIP frontends keep this node\'s endpoints, external ones keep all', () => {
  const objects = [...NODES,
    everyKind('itp', '10.96.0.95', 30095, '198.51.100.95', '203.0.113.95', { internalTrafficPolicy: 'Local' }),
    httpSlice('shop/itp-1', 'itp', [ep('10.244.1.96', 'n1'), ep('10.244.2.97', 'n2'),
      ep('10.244.1.98', 'n1', { ready: false, serving: true, terminating: true })])];
  const view = viewFor(objects, 'n2');
  clean(view);
  const all = fe(bes(['10.244.1.96', 8080], ['10.244.2.97', 8080]));
  assert.equal(frontsOf(view, 'shop/itp'), {
    'ClusterIP 10.96.0.95:80/TCP': local(bes(['10.244.2.97', 8080])),
    'NodePort 192.168.1.11:30095/TCP': all,
    'ExternalIP 198.51.100.95:80/TCP': all,
    'LoadBalancer 203.0.113.95:80/TCP': all,
  });
  // on a node with no endpoint, in-cluster clients of the ClusterIP get nothing (no fallback to other nodes)
  const none = viewFor([...objects, node('n3', '192.168.1.12')], 'n3');
  assert.equal(frontsOf(none, 'shop/itp')['ClusterIP 10.96.0.95:80/TCP'], local([]));
});

// ---- Session affinity ----------------------------------------------------------

test('sessionAffinity ClientIP: the configured timeout, else 10800 s, on every frontend; null without affinity', () => {
  const objects = [...NODES,
    svc('shop/sticky', { type: 'NodePort', clusterIP: '10.96.1.1', sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ port: 80, nodePort: 30101 }] }),
    svc('shop/sticky-default', { clusterIP: '10.96.1.2', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }),
    svc('shop/loose', { clusterIP: '10.96.1.3', sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      ports: [{ port: 80 }] }),
  ];
  const view = viewFor(objects, 'n2');
  clean(view);
  assert.equal(frontsOf(view, 'shop/sticky'), {
    'ClusterIP 10.96.1.1:80/TCP': fe([], { affinitySeconds: 600 }),
    'NodePort 192.168.1.11:30101/TCP': fe([], { affinitySeconds: 600 }),
  });
  assert.equal(frontsOf(view, 'shop/sticky-default'), { 'ClusterIP 10.96.1.2:80/TCP': fe([], { affinitySeconds: 10800 }) });
  assert.equal(frontsOf(view, 'shop/loose'), { 'ClusterIP 10.96.1.3:80/TCP': fe([]) });
});

// ---- loadBalancerSourceRanges ------------------------------------------------

test('loadBalancerSourceRanges: on LoadBalancer frontends only, as CIDR text; null elsewhere and when unset', () => {
  const objects = [...NODES,
    everyKind('ranged', '10.96.1.10', 30110, '198.51.100.110', '203.0.113.110',
      { loadBalancerSourceRanges: [' 192.0.2.0/24 ', '10.0.0.0/8', '198.51.100.7/32', '2001:db8::/32'] }),
    everyKind('open', '10.96.1.11', 30111, '198.51.100.111', '203.0.113.111'),
  ];
  const view = viewFor(objects, 'n2');
  clean(view);
  const ranged = frontsOf(view, 'shop/ranged');
  assert.equal([...(ranged['LoadBalancer 203.0.113.110:80/TCP']?.sourceRanges ?? [])].sort(), ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.7/32']);
  for (const k of ['ClusterIP 10.96.1.10:80/TCP', 'NodePort 192.168.1.11:30110/TCP', 'ExternalIP 198.51.100.110:80/TCP']) {
    assert.is(ranged[k]?.sourceRanges, null, k);
  }
  assert.equal(Object.values(frontsOf(view, 'shop/open')).map((f) => f.sourceRanges), [null, null, null, null]);
  assert.equal(findings(view.notes), [{ object: 'Service shop/ranged', field: 'spec.loadBalancerSourceRanges[3]' }]);
});

// ---- Bad input -------------------------------------------------------------------

const good = svc('shop/good', { clusterIP: '10.96.2.1', ports: [{ name: 'http', port: 80 }] });
const BAD: [label: string, object: object, rejected: { object: string; field: string }][] = [
  ['port out of range', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 65536 }] }),
    { object: 'Service shop/bad', field: 'spec.ports[1].port' }],
  ['port 0', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ port: 0 }] }), { object: 'Service shop/bad', field: 'spec.ports[0].port' }],
  ['nodePort out of range', svc('shop/bad', { type: 'NodePort', clusterIP: '10.96.2.2', ports: [{ port: 80, nodePort: 70000 }] }),
    { object: 'Service shop/bad', field: 'spec.ports[0].nodePort' }],
  ['targetPort out of range', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ port: 80, targetPort: 65536 }] }),
    { object: 'Service shop/bad', field: 'spec.ports[0].targetPort' }],
  ['invalid cluster IP', svc('shop/bad', { clusterIP: '10.96.2.300', ports: [{ port: 80 }] }), { object: 'Service shop/bad', field: 'spec.clusterIP' }],
  ['invalid clusterIPs entry', svc('shop/bad', { clusterIP: '10.96.2.2', clusterIPs: ['10.96.2.2', 'fd00::zz'], ports: [{ port: 80 }] }),
    { object: 'Service shop/bad', field: 'spec.clusterIPs[1]' }],
  ['invalid external IP', svc('shop/bad', { clusterIP: '10.96.2.2', externalIPs: ['198.51.100.1', 'example.com'], ports: [{ port: 80 }] }),
    { object: 'Service shop/bad', field: 'spec.externalIPs[1]' }],
  ['invalid ingress IP', svc('shop/bad', { type: 'LoadBalancer', clusterIP: '10.96.2.2', ports: [{ port: 80 }] }, lbStatus('203.0.113.999')),
    { object: 'Service shop/bad', field: 'status.loadBalancer.ingress[0].ip' }],
  ['invalid source range', svc('shop/bad', { type: 'LoadBalancer', clusterIP: '10.96.2.2', loadBalancerSourceRanges: ['10.0.0.0/33'],
    ports: [{ port: 80 }] }), { object: 'Service shop/bad', field: 'spec.loadBalancerSourceRanges[0]' }],
  ['unknown protocol', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ port: 80, protocol: 'QUIC' }] }),
    { object: 'Service shop/bad', field: 'spec.ports[0].protocol' }],
  ['lower-case protocol', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ port: 80, protocol: 'tcp' }] }),
    { object: 'Service shop/bad', field: 'spec.ports[0].protocol' }],
  ['an unknown type', svc('shop/bad', { type: 'Ingress', clusterIP: '10.96.2.2', ports: [{ port: 80 }] }), { object: 'Service shop/bad', field: 'spec.type' }],
  ['an unknown externalTrafficPolicy', svc('shop/bad', { type: 'NodePort', clusterIP: '10.96.2.2', externalTrafficPolicy: 'local',
    ports: [{ port: 80, nodePort: 30000 }] }), { object: 'Service shop/bad', field: 'spec.externalTrafficPolicy' }],
  ['an affinity timeout over a day', svc('shop/bad', { clusterIP: '10.96.2.2', sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } }, ports: [{ port: 80 }] }),
  { object: 'Service shop/bad', field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds' }],
  ['missing metadata.name', { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop' }, spec: { clusterIP: '10.96.2.2', ports: [{ port: 80 }] } },
    { object: 'Service shop/?', field: 'metadata.name' }],
  ['missing port', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ name: 'http', targetPort: 8080 }] }),
    { object: 'Service shop/bad', field: 'spec.ports[0].port' }],
  // API validation: with more than one port, every port must be named, and names are unique
  ['an unnamed port among several', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ name: 'http', port: 80 }, { port: 81 }] }),
    { object: 'Service shop/bad', field: 'spec.ports[1].name' }],
  ['a port name used twice', svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }),
    { object: 'Service shop/bad', field: 'spec.ports[1].name' }],
];

for (const [label, bad, rejected] of BAD) {
  test(`bad input: a Service with ${label} is rejected naming the field; the rest compiles`, () => {
    const view = viewFor([bad, good], 'n1');
    assert.equal(findings(view.rejected), [rejected]);
    assert.equal(view.frontends.map((f) => `${f.service} ${f.type} ${f.ip}:${f.port}/${f.protocol}`), ['shop/good ClusterIP 10.96.2.1:80/TCP']);
  });
}

test('two Services claiming one frontend: the first by namespace/name keeps it, the other is listed', () => {
  const objects = [
    // input order puts the loser first: the rule is by name, not arrival
    svc('beta/b', { clusterIP: '10.96.3.1', ports: [{ name: 'http', port: 80 }, { name: 'alt', port: 81 }, { name: 'dns', port: 80, protocol: 'UDP' }] }),
    httpSlice('beta/b-1', 'b', [ep('10.244.2.2')]),
    svc('alpha/a', { clusterIP: '10.96.3.1', ports: [{ name: 'http', port: 80 }] }),
    httpSlice('alpha/a-1', 'a', [ep('10.244.1.1')]),
  ];
  const view = viewFor(objects, 'n1');
  assert.equal(findings(view.rejected), [{ object: 'Service beta/b', field: 'spec.clusterIPs' }]);
  assert.match(view.rejected[0].reason, /10\.96\.3\.1:80/);
  assert.equal(frontsOf(view, 'alpha/a'), { 'ClusterIP 10.96.3.1:80/TCP': fe(bes(['10.244.1.1', 8080])) });
  // b keeps what nobody else claims: another port, and the same port over UDP
  assert.equal(Object.keys(frontsOf(view, 'beta/b')).sort(), ['ClusterIP 10.96.3.1:80/UDP', 'ClusterIP 10.96.3.1:81/TCP']);
});

// ---- Frontend precedence (CVE-2020-8554) -----------------------------------------
// A ClusterIP, allocated by the API server, keeps its frontend against any
// externalIP or LoadBalancer IP that names it; otherwise the older Service
// (metadata.creationTimestamp), then the first by namespace/name. The loser is
// listed with the field its claim came from.

const born = (o: Json, creationTimestamp: string): Json => ({ ...o, metadata: { ...(o.metadata as Json), creationTimestamp } });
const kubernetes = born(svc('default/kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] }), '2024-03-01T10:00:00Z');
const apiSlice = slice('default/kubernetes', 'kubernetes', [{ name: 'https', port: 6443 }], [ep('192.168.1.10')]);

test('precedence: an externalIP naming the kubernetes ClusterIP loses, even from an older Service first by name', () => {
  const mitm = born(svc('aaa/mitm', { clusterIP: '10.96.7.7', externalIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, targetPort: 8443 }] }), '2020-01-01T00:00:00Z');
  const view = viewFor([kubernetes, apiSlice, mitm, slice('aaa/mitm-1', 'mitm', [{ name: 'https', port: 8443 }], [ep('10.244.1.66')])], 'n1');
  assert.equal(frontsOf(view, 'default/kubernetes'), { 'ClusterIP 10.96.0.1:443/TCP': fe(bes(['192.168.1.10', 6443])) });
  assert.equal(Object.keys(frontsOf(view, 'aaa/mitm')), ['ClusterIP 10.96.7.7:443/TCP'], 'mitm keeps its own ClusterIP only');
  assert.equal(findings(view.rejected), [{ object: 'Service aaa/mitm', field: 'spec.externalIPs' }]);
  assert.match(view.rejected[0].reason, /10\.96\.0\.1:443\/TCP.*default\/kubernetes/);
});

test('precedence: a LoadBalancer ingress IP naming a ClusterIP loses too', () => {
  const lb = born(svc('aaa/lb', { type: 'LoadBalancer', clusterIP: '10.96.7.8', ports: [{ name: 'https', port: 443, nodePort: 30443 }] }, lbStatus('10.96.0.1')),
    '2020-01-01T00:00:00Z');
  const view = viewFor([kubernetes, apiSlice, lb], 'n1');
  assert.equal(Object.keys(frontsOf(view, 'default/kubernetes')), ['ClusterIP 10.96.0.1:443/TCP']);
  assert.equal(frontsOf(view, 'default/kubernetes')['ClusterIP 10.96.0.1:443/TCP'].backends, bes(['192.168.1.10', 6443]));
  assert.equal(findings(view.rejected), [{ object: 'Service aaa/lb', field: 'status.loadBalancer.ingress' }]);
});

test('precedence: between externalIPs and LoadBalancer IPs the older Service wins, not the first by name', () => {
  const old = born(svc('zzz/old', { clusterIP: '10.96.7.1', externalIPs: ['198.51.100.5'], ports: [{ name: 'http', port: 80 }] }), '2023-05-01T00:00:00Z');
  const young = born(svc('aaa/young', { type: 'LoadBalancer', clusterIP: '10.96.7.2', ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
    lbStatus('198.51.100.5')), '2023-05-01T00:00:01Z');
  const other = born(svc('mmm/other', { clusterIP: '10.96.7.3', externalIPs: ['198.51.100.5'], ports: [{ name: 'http', port: 80 }] }), '2025-01-01T00:00:00Z');
  const view = viewFor([young, other, old], 'n1');
  assert.ok(frontsOf(view, 'zzz/old')['ExternalIP 198.51.100.5:80/TCP'], JSON.stringify(view.frontends));
  assert.equal(findings(view.rejected), [
    { object: 'Service aaa/young', field: 'status.loadBalancer.ingress' },
    { object: 'Service mmm/other', field: 'spec.externalIPs' },
  ]);
  for (const r of view.rejected) assert.match(r.reason, /zzz\/old/);
});

test('precedence: the same creationTimestamp (or none) falls back to the first by namespace/name', () => {
  const at = '2023-05-01T00:00:00Z';
  const a = born(svc('bbb/a', { clusterIP: '10.96.7.1', externalIPs: ['198.51.100.5'], ports: [{ name: 'http', port: 80 }] }), at);
  const b = born(svc('aaa/b', { clusterIP: '10.96.7.2', externalIPs: ['198.51.100.5'], ports: [{ name: 'http', port: 80 }] }), at);
  assert.equal(findings(viewFor([a, b], 'n1').rejected), [{ object: 'Service bbb/a', field: 'spec.externalIPs' }]);
  const c = svc('ccc/c', { clusterIP: '10.96.7.3', externalIPs: ['198.51.100.6'], ports: [{ name: 'http', port: 80 }] });
  const d = svc('ddd/d', { clusterIP: '10.96.7.4', externalIPs: ['198.51.100.6'], ports: [{ name: 'http', port: 80 }] });
  assert.equal(findings(viewFor([d, c], 'n1').rejected), [{ object: 'Service ddd/d', field: 'spec.externalIPs' }]);
});

test('precedence: an invalid creationTimestamp rejects the Service, naming the field', () => {
  const bad = born(svc('shop/bad', { clusterIP: '10.96.7.9', ports: [{ name: 'http', port: 80 }] }), 'yesterday');
  assert.equal(findings(viewFor([bad], 'n1').rejected), [{ object: 'Service shop/bad', field: 'metadata.creationTimestamp' }]);
});

test('a Service is never its own backend: an endpoint at its ClusterIP is left out, and reported on the slice', () => {
  const view = viewFor([
    svc('shop/loop', { clusterIP: '10.96.5.5', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    slice('shop/loop-1', 'loop', [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }],
      [ep('10.244.1.5'), ep('10.96.5.5'), ep('10.96.5.6')]), // .6 is another Service's ClusterIP: not this one's concern
  ], 'n1');
  assert.equal(frontsOf(view, 'shop/loop'), {
    'ClusterIP 10.96.5.5:80/TCP': fe(bes(['10.96.5.6', 8080], ['10.244.1.5', 8080])),
    'ClusterIP 10.96.5.5:53/UDP': fe(bes(['10.96.5.6', 53], ['10.244.1.5', 53])),
  });
  assert.equal(findings(view.rejected), [{ object: 'EndpointSlice shop/loop-1', field: 'endpoints[1].addresses[0]' }], 'once, not once per port');
  assert.match(view.rejected[0].reason, /10\.96\.5\.5.*Service shop\/loop/);
});

// ---- Determinism -------------------------------------------------------------------

test('the compiled view and maps do not depend on the order of the input objects', () => {
  const objects: object[] = [...NODES,
    nodePortSvc, nodePortSlice,
    everyKind('etp', '10.96.0.90', 30090, '198.51.100.90', '203.0.113.90', { externalTrafficPolicy: 'Local', loadBalancerSourceRanges: ['10.0.0.0/8'] }),
    httpSlice('shop/etp-1', 'etp', [ep('10.244.1.91', 'n1'), ep('10.244.2.92', 'n2', { ready: false, serving: true, terminating: true })]),
    httpSlice('shop/etp-2', 'etp', [ep('10.244.2.92', 'n2'), ep('10.244.1.93', 'n1')]),
    svc('shop/named', { clusterIP: '10.96.0.52', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: 'web' }] }),
    slice('shop/named-a', 'named', [{ name: 'http', port: 8080 }], [ep('10.244.1.52', 'n1')]),
    slice('shop/named-b', 'named', [{ name: 'http', port: 9090 }], [ep('10.244.2.52', 'n2')]),
    svc('beta/b', { clusterIP: '10.96.3.1', ports: [{ name: 'http', port: 80 }] }),
    svc('alpha/a', { clusterIP: '10.96.3.1', ports: [{ name: 'http', port: 80 }] }),
    svc('shop/bad', { clusterIP: '10.96.2.2', ports: [{ port: 80, protocol: 'QUIC' }] }),
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop' }, spec: { clusterIP: '10.96.2.3', ports: [{ port: 80 }] } },
    svc('shop/v6', { clusterIPs: ['10.96.0.21', 'fd00::21'], ports: [{ port: 80 }] }),
  ];
  const bytes = (objs: object[]) => compileObjects(objs, undefined).map((r) => ({
    view: JSON.stringify(r.view),
    maps: (['sl_svc', 'sl_be', 'sl_maglev', 'sl_srcrange', 'sl_svcname'] as const).map((m) =>
      r.store.entries(m).map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`).join(',')),
  }));
  const once = bytes(objects);
  assert.equal(once.map((r) => JSON.parse(r.view).node), ['n1', 'n2']);
  check(fc.property(fc.shuffledSubarray(objects, { minLength: objects.length, maxLength: objects.length }), (shuffled) => {
    assert.equal(bytes(shuffled), once);
  }), { numRuns: 30 });
});

test.run();
