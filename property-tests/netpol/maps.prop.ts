// P1 and P5 of POLICY.md §3: the compiled maps, read the way the datapath
// will read them, give the reference evaluator's verdict for every flow of
// random clusters; and the metamorphic relations hold on the compiled maps.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { policyCluster, rule, type PolicyCluster } from '../arb/policyCluster.ts';
import type { Json } from '../model/netpol.ts';
import { check } from '../seed.ts';
import { mapAllowed, modelAllowed } from './verdicts.ts';
import { inSubnet, parseU32, textOf } from '../../runtime/encode/ipv4.ts';

const spec = (p: Json) => p.spec as Json;

test('P1: the compiled maps allow exactly what the reference evaluator allows', () => {
  let allowedSome = 0, deniedSome = 0;
  check(fc.property(policyCluster(), (c) => {
    const want = modelAllowed(c);
    assert.equal(mapAllowed(c), want);
    if (want.length > 0) allowedSome++;
    if (c.policies.length > 0 && want.length < 4 * (c.pods.length + 3) ** 2) deniedSome++;
  }), { numRuns: 300 });
  assert.ok(allowedSome > 100 && deniedSome > 50, `too few interesting clusters: ${allowedSome} allowing, ${deniedSome} denying`);
});

test('P5: adding an allow rule never removes reachability', () => {
  check(fc.property(policyCluster(), fc.nat(), fc.constantFrom('ingress', 'egress'), rule('from'), rule('to'), (c, which, dir, from, to) => {
    // Only to a policy whose types already cover the direction: a first egress
    // rule on a defaulted policy would make it an Egress policy, isolating.
    const targets = c.policies.filter((p) => ((spec(p).policyTypes as string[] | undefined) ?? []).includes(dir === 'ingress' ? 'Ingress' : 'Egress'));
    fc.pre(targets.length > 0);
    const target = targets[which % targets.length];
    const more: PolicyCluster = { ...c, policies: c.policies.map((p) => (p !== target ? p : {
      ...p, spec: { ...spec(p), [dir]: [...((spec(p)[dir] as Json[]) ?? []), dir === 'ingress' ? from : to] },
    })) };
    const before = new Set(mapAllowed(c));
    const after = new Set(mapAllowed(more));
    for (const f of before) assert.ok(after.has(f), `${f} no longer allowed`);
  }), { numRuns: 150 });
});

test('P5: deleting every policy allows everything', () => {
  check(fc.property(policyCluster(), (c) => {
    assert.is(mapAllowed({ ...c, policies: [] }).length, 4 * (c.pods.length + 3) ** 2);
  }), { numRuns: 50 });
});

test('P5: renaming policies changes no verdict', () => {
  check(fc.property(policyCluster(), (c) => {
    const renamed = { ...c, policies: c.policies.map((p, i) => ({ ...p, metadata: { ...(p.metadata as Json), name: `renamed-${c.policies.length - i}` } })) };
    assert.equal(mapAllowed(renamed), mapAllowed(c));
  }), { numRuns: 100 });
});

/** Each ipBlock of prefix under 32 as its two halves, excepts sent to the half holding them. */
function split(c: PolicyCluster): PolicyCluster {
  const half = (cidr: string, bit: number) => {
    const [a, l] = cidr.split('/');
    return `${textOf(parseU32(a) + bit * 2 ** (31 - Number(l)))}/${Number(l) + 1}`;
  };
  const within = (inner: string, outer: string) => {
    const [ia, il] = inner.split('/'), [oa, ol] = outer.split('/');
    return Number(il) >= Number(ol) && inSubnet(parseU32(ia), parseU32(oa), Number(ol));
  };
  const peers = (ps: Json[] | undefined) => ps?.flatMap((p) => {
    const b = p.ipBlock as { cidr: string; except?: string[] } | undefined;
    if (!b || b.cidr.endsWith('/32')) return [p];
    return [0, 1].map((bit) => {
      const h = half(b.cidr, bit);
      const except = (b.except ?? []).filter((e) => within(e, h) && e !== h);
      const covered = (b.except ?? []).some((e) => within(h, e));
      return covered ? null : { ipBlock: except.length ? { cidr: h, except } : { cidr: h } };
    }).filter((x) => x !== null) as Json[];
  });
  const rules = (rs: Json[] | undefined, key: string) => rs?.map((r) => {
    const ps = peers(r[key] as Json[] | undefined);
    // A block wholly excepted on both halves would leave no peer: an empty list means everyone.
    return ps && ps.length === 0 && (r[key] as Json[]).length > 0 ? { ...r, [key]: [{ ipBlock: { cidr: '0.0.0.0/1', except: ['0.0.0.0/1'] } }] } : { ...r, [key]: ps };
  });
  return { ...c, policies: c.policies.map((p) => ({ ...p, spec: { ...spec(p), ingress: rules(spec(p).ingress as Json[], 'from'), egress: rules(spec(p).egress as Json[], 'to') } })) };
}

test('P5: splitting a CIDR into its halves changes no verdict', () => {
  let splits = 0;
  check(fc.property(policyCluster(), (c) => {
    const s = split(c);
    if (JSON.stringify(s) !== JSON.stringify(c)) splits++;
    fc.pre(!JSON.stringify(s).includes('"except":["0.0.0.0/1"]'));
    assert.equal(mapAllowed(s), mapAllowed(c));
  }), { numRuns: 150 });
  assert.ok(splits > 20, `only ${splits} clusters had a block to split`);
});

test.run();
