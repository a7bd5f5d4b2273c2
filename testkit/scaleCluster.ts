// The cluster of issue 12, raw as the API server serves it: 500 Namespaces
// of 20 Pods each (10,000), 10 ClusterIP Services per Namespace (5,000), each
// with one EndpointSlice of 5 of its Namespace's Pods, 2 NetworkPolicies per
// Namespace (1,000), on 100 Nodes. Pods are as large as real ones (a
// Deployment's pod: probes, resources, env, volumes, status conditions,
// managedFields), since what the agent parses is what it pays for.
// Everything derives from the index: every run serves the same bytes.
import type { KubeObject } from '../runtime/sources/events.ts';
import { textOf } from '../runtime/encode/ipv4.ts';
import type { Resource } from './fakeApiServer.ts';
import { uid } from './syntheticCluster.ts';

export interface ClusterSize { namespaces: number; podsPerNamespace: number; servicesPerNamespace: number; endpoints: number; policiesPerNamespace: number; nodes: number }

export const ISSUE_12: ClusterSize = { namespaces: 500, podsPerNamespace: 20, servicesPerNamespace: 10, endpoints: 5, policiesPerNamespace: 2, nodes: 100 };

const APPS = 10, TEAMS = 50;
const ns = (i: number) => `ns-${i}`;
const time = '2026-01-15T09:00:00Z';
const managed = (manager: string, fields: object) => [{ manager, operation: 'Update', apiVersion: 'v1', time, fieldsType: 'FieldsV1', fieldsV1: fields }];

/** Pod n (of all), its IP 10.(1 + n>>16).(n>>8).(n & 255) inside its node's podCIDR-free range; g: a later incarnation. */
export const podIp = (n: number) => textOf(0x0a010000 + n);
export const nodeOfPod = (n: number, nodes: number) => (Math.imul(n, 2654435761) >>> 0) % nodes;

export function namespace(i: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: ns(i), uid: uid(1, i), resourceVersion: '1', creationTimestamp: time, labels: { 'kubernetes.io/metadata.name': ns(i), team: `t${i % TEAMS}` } },
    spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
  };
}

export function pod(n: number, s: ClusterSize, relabel = 0): KubeObject {
  const i = Math.floor(n / s.podsPerNamespace), app = `app-${n % APPS}`;
  const node = `node-${nodeOfPod(n, s.nodes)}`, name = `${app}-7c5d9f8b6-${n.toString(36).padStart(5, '0')}`;
  const labels = { app, tier: ['web', 'db', 'cache'][(n + relabel) % 3], release: 'stable', 'pod-template-hash': '7c5d9f8b6' };
  const probe = (path: string) => ({ httpGet: { path, port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: time });
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, generateName: `${app}-7c5d9f8b6-`, namespace: ns(i), uid: uid(2, n), resourceVersion: '1', creationTimestamp: time, labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7c5d9f8b6`, uid: uid(3, i * APPS + (n % APPS)), controller: true, blockOwnerDeletion: true }],
      managedFields: managed('kube-controller-manager', { 'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:ports': {} } } } }),
    },
    spec: {
      volumes: [{ name: 'kube-api-access-x7k2p', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }], defaultMode: 420 } }],
      containers: [{
        name: 'app', image: `registry.example.com/team-${i % TEAMS}/${app}:1.4.2`,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
        env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
        resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        volumeMounts: [{ name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        livenessProbe: probe('/livez'), readinessProbe: probe('/readyz'),
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
      }],
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', serviceAccount: 'default',
      nodeName: node, securityContext: {}, schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running', conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(cond),
      hostIP: `192.168.${nodeOfPod(n, s.nodes) >> 8}.${nodeOfPod(n, s.nodes) & 255}`, podIP: podIp(n), podIPs: [{ ip: podIp(n) }], startTime: time,
      containerStatuses: [{ name: 'app', state: { running: { startedAt: time } }, lastState: {}, ready: true, restartCount: 0, image: `registry.example.com/team-${i % TEAMS}/${app}:1.4.2`, imageID: `registry.example.com/team-${i % TEAMS}/${app}@sha256:${'0123456789abcdef'.repeat(4)}`, containerID: `containerd://${n.toString(16).padStart(64, '0')}`, started: true }],
      qosClass: 'Burstable',
    },
  };
}

const svcIp = (k: number) => textOf(0x0a600000 + k);

/** Service j of namespace i; its ClusterIP 10.96.0.0 + its index. */
export function service(i: number, j: number, s: ClusterSize): KubeObject {
  const k = i * s.servicesPerNamespace + j, name = `svc-${j}`;
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: ns(i), uid: uid(4, k), resourceVersion: '1', creationTimestamp: time, labels: { app: name }, managedFields: managed('kubectl', { 'f:spec': { 'f:ports': {}, 'f:selector': {} } }) },
    spec: {
      type: 'ClusterIP', clusterIP: svcIp(k), clusterIPs: [svcIp(k)], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { svc: name },
    },
    status: { loadBalancer: {} },
  };
}

/** The slice of service j of namespace i: 5 of its namespace's pods, from pod j (g shifts them, as a rollout would). */
export function slice(i: number, j: number, s: ClusterSize, g = 0): KubeObject {
  const name = `svc-${j}`;
  const pods = Array.from({ length: s.endpoints }, (_, e) => i * s.podsPerNamespace + ((j + e + g) % s.podsPerNamespace));
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${name}-abcde`, generateName: `${name}-`, namespace: ns(i), uid: uid(5, i * s.servicesPerNamespace + j), resourceVersion: '1', creationTimestamp: time,
      labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: uid(4, i * s.servicesPerNamespace + j), controller: true, blockOwnerDeletion: true }],
      managedFields: managed('kube-controller-manager', { 'f:addressType': {}, 'f:endpoints': {}, 'f:ports': {} }),
    },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({
      addresses: [podIp(p)], conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${nodeOfPod(p, s.nodes)}`, targetRef: { kind: 'Pod', namespace: ns(i), name: pod(p, s).metadata.name, uid: uid(2, p) },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** Policy j of namespace i: 'web' (ingress by pods, by namespace and pods, on a named port) or 'egress' (DNS of the next namespace, a block with an except). */
export function networkPolicy(i: number, j: number, s: ClusterSize, port = 53): KubeObject {
  const meta = (name: string) => ({ name, namespace: ns(i), uid: uid(6, i * s.policiesPerNamespace + j), resourceVersion: '1', generation: 1, creationTimestamp: time });
  if (j % 2 === 0) {
    return {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(j === 0 ? 'web' : `web-${j}`),
      spec: {
        podSelector: { matchLabels: { app: `app-${(i + j) % APPS}` } }, policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'http', protocol: 'TCP' }] },
          { from: [{ namespaceSelector: { matchLabels: { team: `t${i % TEAMS}` } }, podSelector: { matchLabels: { app: `app-${(i + 1) % APPS}` } } }] },
        ],
      },
    };
  }
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(j === 1 ? 'egress' : `egress-${j}`),
    spec: {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] }, policyTypes: ['Egress'],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns((i + 1) % s.namespaces) } } }], ports: [{ port, protocol: 'UDP' }, { port, protocol: 'TCP' }] },
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 8000, endPort: 8100, protocol: 'TCP' }] },
      ],
    },
  };
}

/** node-k: its InternalIP 192.168.(k>>8).(k&255), no podCIDR (pods' addresses come from an IPAM pool, as Calico's). */
export function node(k: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: `node-${k}`, uid: uid(7, k), resourceVersion: '1', creationTimestamp: time, labels: { 'kubernetes.io/hostname': `node-${k}`, 'kubernetes.io/os': 'linux' } },
    spec: {}, status: { addresses: [{ type: 'InternalIP', address: `192.168.${k >> 8}.${k & 255}` }, { type: 'Hostname', address: `node-${k}` }] },
  };
}

/** Every object of the cluster, with the collection it belongs to. */
export function* scaleCluster(s: ClusterSize = ISSUE_12): Generator<[Resource, KubeObject]> {
  for (let k = 0; k < s.nodes; k++) yield ['nodes', node(k)];
  for (let i = 0; i < s.namespaces; i++) {
    yield ['namespaces', namespace(i)];
    for (let j = 0; j < s.policiesPerNamespace; j++) yield ['networkpolicies', networkPolicy(i, j, s)];
    for (let j = 0; j < s.servicesPerNamespace; j++) {
      yield ['services', service(i, j, s)];
      yield ['endpointslices', slice(i, j, s)];
    }
    for (let p = 0; p < s.podsPerNamespace; p++) yield ['pods', pod(i * s.podsPerNamespace + p, s)];
  }
}
