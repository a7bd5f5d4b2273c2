// normalize() on NetworkPolicies: API-server defaults, peers, ports, selectors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { normalize } from '../../runtime/encode/records.ts';
import type { PolicyBody } from '../../runtime/encode/schema.ts';

const ip4 = (a: number, b: number, c: number, d: number) => ({ family: 4, bytes: Uint8Array.of(a, b, c, d) });
const OBJECT = 'NetworkPolicy shop/allow';
const EMPTY = { matchLabels: [], matchExpressions: [] };

function policy(spec: object): object {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow', namespace: 'shop' }, spec };
}

function body(spec: object): PolicyBody {
  const n = normalize(policy(spec));
  assert.equal(n.rejected, []);
  return n.record!.body as PolicyBody;
}

function rejects(spec: object, field: string, reason: string) {
  const n = normalize(policy(spec));
  assert.equal(n.rejected, [{ object: OBJECT, field, reason }]);
  assert.is(n.record, undefined);
}

test('policyTypes default as the API server defaults them', () => {
  assert.is(body({ podSelector: {} }).policyTypes, R.POLICY_INGRESS, 'no rules: Ingress only (deny all ingress)');
  assert.is(body({ ingress: [{}] }).policyTypes, R.POLICY_INGRESS);
  assert.is(body({ egress: [{}] }).policyTypes, R.POLICY_INGRESS | R.POLICY_EGRESS, 'egress rules: both');
  assert.is(body({ egress: [] }).policyTypes, R.POLICY_INGRESS, 'an empty egress list is no egress rules');
  assert.is(body({ policyTypes: ['Egress'] }).policyTypes, R.POLICY_EGRESS, 'explicit types win');
  assert.is(body({ policyTypes: ['Ingress', 'Egress'], ingress: [] }).policyTypes, R.POLICY_INGRESS | R.POLICY_EGRESS);
});

test('rules with every kind of peer and port', () => {
  const b = body({
    podSelector: { matchLabels: { tier: 'db', app: 'web' } },
    ingress: [{
      from: [
        { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['ingress', 'gateway'] }, { key: 'canary', operator: 'DoesNotExist' }] } },
        { namespaceSelector: { matchLabels: { team: 'edge' } }, podSelector: {} },
        { ipBlock: { cidr: '192.168.50.0/24', except: ['192.168.50.128/25'] } },
      ],
      ports: [{ port: 'http' }, { protocol: 'UDP', port: 53 }, { port: 30000, endPort: 32767 }, {}],
    }],
    egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }, { key: 'x', operator: 'Exists', values: [] }] } }] }],
  });
  assert.equal(b, {
    podSelector: { matchLabels: [['app', 'web'], ['tier', 'db']], matchExpressions: [] },
    policyTypes: R.POLICY_INGRESS | R.POLICY_EGRESS,
    ingress: [{
      peers: [
        { pods: { matchLabels: [], matchExpressions: [{ key: 'app', op: R.SEL_IN, values: ['ingress', 'gateway'] }, { key: 'canary', op: R.SEL_DOES_NOT_EXIST, values: [] }] } },
        { pods: EMPTY, namespaces: { matchLabels: [['team', 'edge']], matchExpressions: [] } },
        { ipBlock: { cidr: { ip: ip4(192, 168, 50, 0), prefix: 24 }, except: [{ ip: ip4(192, 168, 50, 128), prefix: 25 }] } },
      ],
      ports: [
        { proto: R.PROTO_TCP, port: 0, endPort: 0, portName: 'http' },
        { proto: R.PROTO_UDP, port: 53, endPort: 0, portName: '' },
        { proto: R.PROTO_TCP, port: 30000, endPort: 32767, portName: '' },
        { proto: R.PROTO_TCP, port: 0, endPort: 0, portName: '' },
      ],
    }],
    egress: [{
      peers: [{ namespaces: { matchLabels: [], matchExpressions: [{ key: 'env', op: R.SEL_NOT_IN, values: ['prod'] }, { key: 'x', op: R.SEL_EXISTS, values: [] }] } }],
      ports: [],
    }],
  });
});

test('rejection rules', () => {
  rejects({ policyTypes: ['Both'] }, 'spec.policyTypes[0]', '"Both" is not one of Ingress, Egress');
  rejects({ ingress: [{ from: [{}] }] }, 'spec.ingress[0].from[0]', 'needs podSelector, namespaceSelector or ipBlock');
  rejects({ ingress: [{ from: [{ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }] }] }, 'spec.ingress[0].from[0].ipBlock', 'cannot be combined with podSelector or namespaceSelector');
  rejects({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] }] }, 'spec.egress[0].to[0].ipBlock.except[0]', '11.0.0.0/16 is not inside 10.0.0.0/8');
  rejects({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] }, 'spec.egress[0].to[0].ipBlock.except[0]', '10.0.0.0/8 is not inside 10.0.0.0/8');
  rejects({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.1/33' } }] }] }, 'spec.egress[0].to[0].ipBlock.cidr', '"10.0.0.1/33" is not a CIDR');
  rejects({ egress: [{ to: [{ ipBlock: {} }] }] }, 'spec.egress[0].to[0].ipBlock.cidr', 'missing');
  rejects({ ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort', '80 is less than port 90');
  rejects({ ingress: [{ ports: [{ port: 'http', endPort: 80 }] }] }, 'spec.ingress[0].ports[0].endPort', 'needs a numeric port');
  rejects({ ingress: [{ ports: [{ port: 65536 }] }] }, 'spec.ingress[0].ports[0].port', '65536 is out of range 1-65535');
  rejects({ ingress: [{ ports: [{ port: 80, protocol: 'ICMP' }] }] }, 'spec.ingress[0].ports[0].protocol', '"ICMP" is not one of TCP, UDP, SCTP');
  const expr = (e: object) => ({ podSelector: { matchExpressions: [e] } });
  rejects(expr({ key: 'a', operator: 'Has' }), 'spec.podSelector.matchExpressions[0].operator', '"Has" is not one of In, NotIn, Exists, DoesNotExist');
  rejects(expr({ key: 'a' }), 'spec.podSelector.matchExpressions[0].operator', 'missing');
  rejects(expr({ key: 'a', operator: 'In', values: [] }), 'spec.podSelector.matchExpressions[0].values', 'In needs at least one value');
  rejects(expr({ key: 'a', operator: 'Exists', values: ['x'] }), 'spec.podSelector.matchExpressions[0].values', 'Exists takes no values');
  rejects(expr({ operator: 'Exists' }), 'spec.podSelector.matchExpressions[0].key', 'missing');
  rejects({ podSelector: { matchLabels: { app: true } } }, 'spec.podSelector.matchLabels["app"]', 'true is not a string');
});

test('endPort equal to port is a range of one port, accepted (normalizeNetworkPolicy.ts: the bound is endPort < port, not <=)', () => {
  // The API server accepts endPort >= port; a mutant that rejected endPort == port survived the suite (issue 15).
  assert.equal(body({ ingress: [{ ports: [{ port: 8080, endPort: 8080 }] }] }).ingress[0].ports,
    [{ proto: R.PROTO_TCP, port: 8080, endPort: 8080, portName: '' }]);
  assert.equal(body({ egress: [{ ports: [{ protocol: 'UDP', port: 1, endPort: 2 }] }] }).egress[0].ports,
    [{ proto: R.PROTO_UDP, port: 1, endPort: 2, portName: '' }], 'one past it too');
  rejects({ ingress: [{ ports: [{ port: 8080, endPort: 8079 }] }] }, 'spec.ingress[0].ports[0].endPort', '8079 is less than port 8080');
});

test('IPv6 blocks are skipped; a rule left with no peers is dropped, not widened to everyone', () => {
  const n = normalize(policy({
    ingress: [
      { from: [{ ipBlock: { cidr: '2001:db8::/32' } }, { podSelector: {} }] },
      { from: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }], ports: [{ port: 22 }] },
    ],
  }));
  assert.equal(n.rejected, []);
  assert.equal((n.record!.body as PolicyBody).ingress, [{ peers: [{ pods: EMPTY }], ports: [] }]);
  assert.equal(n.notes, [
    { object: OBJECT, field: 'spec.ingress[0].from[0].ipBlock.cidr', note: 'IPv6 is not supported yet; 2001:db8::/32 skipped' },
    { object: OBJECT, field: 'spec.ingress[1].from[0].ipBlock.cidr', note: 'IPv6 is not supported yet; 2001:db8::/32 skipped' },
    { object: OBJECT, field: 'spec.ingress[1].from', note: 'every peer is an IPv6 block; rule skipped' },
  ]);
});

test('an ipBlock with host bits set is read as its network, noted, as the API server accepts it (policy-assistant policy_tests.go, KEP-4858)', () => {
  // policy-assistant's matcher test allows 192.168.242.249 through ipBlock
  // 192.168.242.213/24; the API server (net.ParseCIDR) stores such a block and
  // every implementation reads it as 192.168.242.0/24. Rejecting it dropped
  // a policy the cluster enforces.
  const n = normalize(policy({
    egress: [{ to: [{ ipBlock: { cidr: '192.168.242.213/24', except: ['192.168.242.129/25'] } }] }],
  }));
  assert.equal(n.rejected, []);
  assert.equal((n.record!.body as PolicyBody).egress[0].peers, [{ ipBlock: { cidr: { ip: ip4(192, 168, 242, 0), prefix: 24 }, except: [{ ip: ip4(192, 168, 242, 128), prefix: 25 }] } }]);
  assert.equal(n.notes, [
    { object: OBJECT, field: 'spec.egress[0].to[0].ipBlock.cidr', note: '"192.168.242.213/24" has host bits set; read as the network 192.168.242.0/24' },
    { object: OBJECT, field: 'spec.egress[0].to[0].ipBlock.except[0]', note: '"192.168.242.129/25" has host bits set; read as the network 192.168.242.128/25' },
  ]);
});

test.run();
