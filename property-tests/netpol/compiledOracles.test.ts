// The oracles again, through the compiler: each case compiled for every node
// that runs one of its pods, the maps read the way the datapath will
// (model/policyMaps.ts), every probe given the verdict upstream expects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainFlow, loadObjects } from '../../runtime/cli/explain.ts';
import { Evaluator, type Cluster, type Json } from '../model/netpol.ts';
import { mapVerdict } from '../model/policyMaps.ts';
import { nodeMaps } from './verdicts.ts';
import { cyclonusGeneratedCases, knpCases, policyAssistantCases, upstreamCases, type OracleCase, type ProbeFlow } from '../oracles/oracles.ts';

/** Each probe's verdict read from the maps of the nodes of its two ends. */
function mapReader(cluster: Cluster): (p: ProbeFlow) => { egress: boolean; ingress: boolean } {
  const maps = nodeMaps(cluster);
  const nodeOf = new Map<string, string>();
  for (const p of cluster.pods) {
    for (const ip of ((p.status as Json).podIPs as { ip: string }[])) nodeOf.set(ip.ip, (p.spec as Json).nodeName as string);
  }
  return (p) => mapVerdict({ src: p.srcIp, dst: p.dstIp, protocol: p.protocol, port: p.port },
    maps.get(nodeOf.get(p.srcIp) ?? ''), maps.get(nodeOf.get(p.dstIp) ?? ''));
}

function check(cases: OracleCase[]): number {
  const wrong: string[] = [];
  let probes = 0;
  for (const c of cases) {
    c.steps.forEach((s, i) => {
      const read = mapReader(s.cluster);
      for (const p of s.probes) {
        probes++;
        const v = read(p);
        const want = c.disagrees ? !p.allow : p.allow;
        if ((v.egress && v.ingress) !== want) {
          wrong.push(`${c.name} step ${i + 1}: ${p.src} -> ${p.dst} ${p.port}/${p.protocol}: expected ${want} (egress ${v.egress}, ingress ${v.ingress})`);
        }
      }
    });
  }
  assert.equal(wrong, []);
  return probes;
}

test('upstream e2e through the compiled maps: 48 tests, 506 probes', () => {
  assert.is(check(upstreamCases()), 506);
});

test('kube-network-policies through the compiled maps: 47 rows', () => {
  assert.is(check(knpCases()), 47);
});

test('policy-assistant stored verdicts through the compiled maps: 16 cases, 711 probes', () => {
  assert.is(check(policyAssistantCases()), 711);
});

/** The same probes through `sluice explain`: its verdict, and its rules, agree with the map lookups it replays. */
function checkExplain(cases: OracleCase[]): number {
  const wrong: string[] = [];
  let probes = 0;
  for (const c of cases) {
    c.steps.forEach((s, i) => {
      const cluster = loadObjects([...s.cluster.namespaces, ...s.cluster.pods, ...s.cluster.policies, ...s.cluster.nodes]);
      for (const p of s.probes) {
        probes++;
        const e = explainFlow(cluster, p.srcIp, p.dstIp, p.protocol, p.port);
        const want = c.disagrees ? !p.allow : p.allow;
        if ((e.verdict === 'allow') !== want) wrong.push(`${c.name} step ${i + 1}: ${p.src} -> ${p.dst} ${p.port}/${p.protocol}: explain says ${e.verdict}`);
        for (const side of [e.egress, e.ingress]) {
          if (side.checked && side.isolated && side.allowed !== (side.allowedBy ?? []).length > 0) wrong.push(`${c.name}: rules and lookups disagree: ${JSON.stringify(side)}`);
        }
      }
    });
  }
  assert.equal(wrong, []);
  return probes;
}

test('upstream e2e through sluice explain: 506 probes', () => {
  assert.is(checkExplain(upstreamCases()), 506);
});

test('kube-network-policies through sluice explain: 47 rows', () => {
  assert.is(checkExplain(knpCases()), 47);
});

test('policy-assistant stored verdicts through sluice explain: 711 probes', () => {
  assert.is(checkExplain(policyAssistantCases()), 711);
});

/**
 * The cyclonus generator's cases have no stored verdicts: the reference
 * evaluator, the compiled maps and `sluice explain` must give every probe the
 * same one (a differential check, not an oracle).
 */
test('cyclonus generated cases, differential (evaluator = maps = explain): 230 cases, 255 steps, 109,524 probes', () => {
  const wrong: string[] = [];
  let steps = 0, probes = 0, allowed = 0;
  const cases = cyclonusGeneratedCases();
  for (const c of cases) {
    c.steps.forEach((s, i) => {
      steps++;
      const ev = new Evaluator(s.cluster);
      const read = mapReader(s.cluster);
      const loaded = loadObjects([...s.cluster.namespaces, ...s.cluster.pods, ...s.cluster.policies, ...s.cluster.nodes]);
      for (const p of s.probes) {
        probes++;
        const model = ev.evaluate({ src: p.srcIp, dst: p.dstIp, protocol: p.protocol, port: p.port }).allowed;
        const v = read(p);
        const e = explainFlow(loaded, p.srcIp, p.dstIp, p.protocol, p.port);
        if (model) allowed++;
        if ((v.egress && v.ingress) !== model || (e.verdict === 'allow') !== model) {
          wrong.push(`${c.name} step ${i + 1}: ${p.src} -> ${p.dst} ${p.port}/${p.protocol}: evaluator ${model}, maps ${v.egress && v.ingress}, explain ${e.verdict}`);
        }
      }
    });
  }
  assert.equal(wrong.slice(0, 20), []);
  assert.is(cases.length, 230, 'cases');
  assert.is(steps, 255, 'steps');
  assert.is(probes, 109524, 'probes');
  assert.ok(allowed > probes / 2 && allowed < probes, `both verdicts occur: ${allowed} of ${probes} allowed`);
});

test.run();
