// deploy/: the manifests against the Kubernetes API schemas, twice over:
//  - kubernetes-models (validators generated from the Kubernetes OpenAPI
//    spec): required fields, types, formats and enums;
//  - @kubernetes/client-node's generated models (attributeTypeMap per
//    model): no field the API does not know, a JSON type that fits each one.
// Then what the issue asks of them: RBAC exactly get/list/watch on the six
// kinds, and the DaemonSet's shape. And the Dockerfile copies what exists,
// and all the agent imports (no engine here builds the image).
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import yaml from 'js-yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NODE_FLAGS } from '../../runtime/cli/run.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };
const docs = ['deploy/rbac.yaml', 'deploy/daemonset.yaml'].flatMap((f) => yaml.loadAll(read(f)).map((d) => d as Doc));
const only = (kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  assert.is(found.length, 1, kind);
  return found[0];
};

const SCHEMAS: { [kind: string]: { apiVersion: string; validator: new (d: any) => { validate(): void }; model: string } } = {
  DaemonSet: { apiVersion: 'apps/v1', validator: DaemonSet, model: 'V1DaemonSet' },
  ServiceAccount: { apiVersion: 'v1', validator: ServiceAccount, model: 'V1ServiceAccount' },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', validator: ClusterRole, model: 'V1ClusterRole' },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', validator: ClusterRoleBinding, model: 'V1ClusterRoleBinding' },
};

type Attr = { baseName: string; type: string };
const MODELS = models as unknown as { [name: string]: { getAttributeTypeMap?(): Attr[] } | undefined };

/** Fields the model does not know and values of the wrong JSON type, by path. */
function strayFields(type: string, value: unknown, path: string): string[] {
  if (value === null || value === undefined) return [];
  const fail = (what: string) => [`${path}: ${what}, not ${JSON.stringify(value)}`];
  const array = /^Array<(.+)>$/.exec(type), dict = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => strayFields(array[1], v, `${path}[${i}]`)) : fail(type);
  const isObject = typeof value === 'object' && !Array.isArray(value);
  if (dict) return isObject ? Object.entries(value).flatMap(([k, v]) => strayFields(dict[1], v, `${path}.${k}`)) : fail(type);
  switch (type) {
    case 'string': case 'Date': return typeof value === 'string' ? [] : fail(type);
    case 'number': return typeof value === 'number' ? [] : fail(type);
    case 'boolean': return typeof value === 'boolean' ? [] : fail(type);
    case 'IntOrString': return typeof value === 'string' || Number.isInteger(value) ? [] : fail(type);
    case 'any': case 'object': return [];
  }
  const attrs = MODELS[type]?.getAttributeTypeMap?.();
  if (!attrs) return [`${path}: no model ${type} in @kubernetes/client-node`];
  if (!isObject) return fail(type);
  return Object.entries(value).flatMap(([k, v]) => {
    const a = attrs.find((x) => x.baseName === k);
    return a ? strayFields(a.type, v, `${path}.${k}`) : [`${path}.${k}: unknown field of ${type}`];
  });
}

/** Every problem either schema finds in a document. */
function problems(d: Doc): string[] {
  const s = SCHEMAS[d.kind];
  if (!s) return [`${d.kind}: no schema to check it against`];
  if (d.apiVersion !== s.apiVersion) return [`${d.kind}: apiVersion ${d.apiVersion}, not ${s.apiVersion}`];
  const out = strayFields(s.model, d, d.kind);
  try {
    new s.validator(d).validate();
  } catch (e) {
    out.push(`${d.kind}: ${(e as Error).message}`);
  }
  return out;
}

test('every manifest fits the Kubernetes schemas', () => {
  assert.equal(docs.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'ServiceAccount']);
  for (const d of docs) assert.equal(problems(d), [], `${d.kind} ${d.metadata.name}`);
});

test('the checks catch a misspelt field, a wrong type and a missing required field', () => {
  const mutants: [(d: Doc) => void, RegExp][] = [
    [(d) => (d.spec.template.spec.containers[0].securityContext.capabilitys = { add: ['BPF'] }), /containers\[0\]\.securityContext\.capabilitys: unknown field/],
    [(d) => (d.spec.template.spec.hostNetwork = 'true'), /spec\.hostNetwork: boolean, not "true"/],
    [(d) => (d.spec.updateStrategy.rollingUpdate.maxUnavailable = [1]), /maxUnavailable: IntOrString/],
    [(d) => delete d.spec.template.spec.containers[0].name, /containers\/0 must have required property name/],
    [(d) => (d.spec.template.spec.containers[0].resources.limits.memory = 'lots'), /limits\/memory must match format "quantity"/],
  ];
  for (const [mutate, expected] of mutants) {
    const d = structuredClone(only('DaemonSet'));
    mutate(d);
    assert.match(problems(d).join('\n'), expected, String(mutate));
  }
});

test('RBAC: exactly get, list and watch on the six kinds, bound to the agent', () => {
  const role = only('ClusterRole');
  const granted = role.rules.flatMap((r: any) => {
    assert.equal(Object.keys(r).sort(), ['apiGroups', 'resources', 'verbs'], 'no resourceNames, no nonResourceURLs');
    return r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g || 'core'} ${res} ${v}`)));
  });
  const kinds = ['core services', 'discovery.k8s.io endpointslices', 'core pods', 'core namespaces', 'networking.k8s.io networkpolicies', 'core nodes'];
  assert.equal(granted.sort(), kinds.flatMap((k) => ['get', 'list', 'watch'].map((v) => `${k} ${v}`)).sort());
  const binding = only('ClusterRoleBinding'), sa = only('ServiceAccount'), ds = only('DaemonSet');
  assert.equal(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  assert.equal([ds.spec.template.spec.serviceAccountName, ds.metadata.namespace], [sa.metadata.name, sa.metadata.namespace]);
});

test('the DaemonSet: sluice run for its node, host network, bpffs, /sys and the host cgroup root, capabilities, probes, rolling update', () => {
  const ds = only('DaemonSet'), pod = ds.spec.template.spec;
  const [agent] = pod.containers, [init] = pod.initContainers;
  assert.is(pod.containers.length, 1);
  assert.equal(agent.args.slice(0, 2), ['run', '--node=$(NODE_NAME)']);
  assert.equal(agent.env.find((e: any) => e.name === 'NODE_NAME').valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
  assert.is(pod.hostNetwork, true);
  assert.is(pod.hostPID, undefined);
  const arg = (flag: string) => agent.args.find((a: string) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
  assert.equal([arg('healthz-bind-address'), arg('metrics-bind-address'), arg('listen')], ['0.0.0.0:10256', '127.0.0.1:10249', undefined],
    'health for load balancers and the kubelet on every interface, metrics on loopback, as kube-proxy');
  const port = agent.ports.find((p: any) => p.name === agent.livenessProbe.httpGet.port).containerPort;
  const probes = [agent.startupProbe, agent.livenessProbe, agent.readinessProbe];
  assert.equal([String(port), ...probes.map((p: any) => p.httpGet.path)], ['10256', '/livez', '/livez', '/readyz'],
    'liveness: not stuck (never the sync or a full map); readiness: programmed');
  assert.ok(probes.every((p: any) => p.httpGet.port === agent.livenessProbe.httpGet.port));
  assert.equal(agent.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  assert.match(init.command.join(' '), 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf', 'bpffs 0700, as systemd mounts it');
  const sc = agent.securityContext;
  assert.equal([sc.privileged, sc.capabilities], [false, { drop: ['ALL'], add: ['BPF', 'NET_ADMIN', 'PERFMON'] }]);
  const volume = (name: string) => pod.volumes.find((v: any) => v.name === name).hostPath.path;
  const mount = (c: any, path: string) => c.volumeMounts.find((m: any) => m.mountPath === path);
  assert.equal([volume(mount(agent, '/sys/fs/bpf').name), mount(agent, '/sys/fs/bpf').mountPropagation], ['/sys/fs/bpf', 'HostToContainer']);
  assert.equal([volume(mount(agent, '/sys').name), mount(agent, '/sys').readOnly], ['/sys', true]);
  const cgroupRoot = agent.args.find((a: string) => a.startsWith('--cgroup-root=')).slice('--cgroup-root='.length);
  assert.equal([volume(mount(agent, cgroupRoot).name), mount(agent, cgroupRoot).readOnly], ['/sys/fs/cgroup', true], 'host services attach to the host\'s cgroup root');
  // Bidirectional propagation is for privileged containers only: the init container that mounts bpffs.
  assert.equal([mount(init, '/sys/fs/bpf').mountPropagation, init.securityContext.privileged], ['Bidirectional', true]);
  assert.ok(agent.resources.requests.cpu && agent.resources.requests.memory && agent.resources.limits.memory);
  assert.equal(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds.spec.selector.matchLabels, Object.fromEntries(Object.entries(ds.spec.template.metadata.labels).filter(([k]) => k in ds.spec.selector.matchLabels)));
});

test('Dockerfile: a build stage and a Node 24 runtime stage, copying only what exists or is built', () => {
  const lines = read('deploy/Dockerfile').replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  assert.equal(lines.filter((l) => l.startsWith('FROM ')), ['FROM node:24-bookworm AS build', 'FROM node:24-bookworm-slim']);
  const runtime = lines.slice(lines.findIndex((l) => l === 'FROM node:24-bookworm-slim'));
  assert.match(runtime.join('\n'), /apt-get install -y --no-install-recommends libbpf1 iproute2/);
  const scripts = JSON.parse(read('package.json')).scripts;
  for (const [, script] of lines.join('\n').matchAll(/npm run ([\w:-]+)/g)) assert.ok(scripts[script], `npm run ${script}`);
  for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from'))) {
    for (const src of l.split(/\s+/).slice(1, -1)) assert.ok(existsSync(new URL(src, root)), src);
  }
  for (const l of runtime.filter((x) => x.startsWith('COPY --from=build '))) {
    const src = l.split(/\s+/)[2].replace('/src/', '');
    const made = src === 'build' || src === 'node_modules'; // npm ci and the build scripts make these
    assert.ok(made || existsSync(new URL(src, root)), src);
  }
  const warmed = /for \(const m of (\[[^\]]*\])\) await import\('\/opt\/sluice\/runtime\/' \+ m\)/.exec(lines.join('\n'));
  assert.ok(warmed, 'the compile cache is filled at build time');
  for (const m of JSON.parse(warmed[1].replaceAll("'", '"')) as string[]) assert.ok(existsSync(new URL(`runtime/${m}`, root)), `the compile cache warms runtime/${m}, which does not exist`);
  const entry = JSON.parse(lines.find((l) => l.startsWith('ENTRYPOINT '))!.slice('ENTRYPOINT '.length));
  assert.equal(entry, ['node', ...NODE_FLAGS, '/opt/sluice/runtime/cli/main.ts']);
  // the cache is filled under the flags the agent starts with: V8 rejects code compiled under others
  for (const l of lines.filter((x) => x.startsWith('RUN ') && x.includes('/opt/sluice/runtime/'))) {
    for (const run of l.split('&&').filter((c) => /\bnode\b/.test(c))) assert.ok(run.trim().replace(/^RUN /, '').startsWith(['node', ...NODE_FLAGS].join(' ')), run);
  }
});

test("Dockerfile: the runtime stage holds every module the CLI imports, and npm prune keeps its packages", () => {
  const lines = read('deploy/Dockerfile').split('\n');
  const copied = lines.filter((l) => l.startsWith('COPY --from=build /src/')).map((l) => l.split(/\s+/)[2].replace('/src/', ''));
  assert.ok(lines.some((l) => l.includes('npm prune --omit=dev')), 'the image drops dev dependencies');
  const deps = Object.keys(JSON.parse(read('package.json')).dependencies);
  const seen = new Set<string>(), packages = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    assert.ok(copied.some((c) => file === c || file.startsWith(`${c}/`)), `${file} is imported but not copied into the image`);
    for (const [, stat, dyn] of read(file).matchAll(/^(?:import|export)\b[^;]*?\bfrom '([^']+)'|\bimport\('([^']+)'\)/gm)) {
      const spec = stat ?? dyn;
      if (spec.startsWith('.')) walk(new URL(spec, new URL(file, root)).pathname.slice(new URL(root).pathname.length));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  };
  walk('runtime/cli/main.ts');
  assert.ok(seen.has('runtime/agent/agent.ts') && seen.has('compiler/abi/records.ts'), 'the walk reaches the agent and the record ABI');
  for (const p of packages) assert.ok(deps.includes(p), `${p} is imported at run time but is not a production dependency`);
  assert.equal([...packages].sort(), [...deps].sort());
});

test.run();
