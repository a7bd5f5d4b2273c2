// The reference evaluator against test suites no one here wrote: every probe
// of every translated case must get the verdict upstream expects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Evaluator } from '../model/netpol.ts';
import { knpCases, policyAssistantCases, upstreamCases, type OracleCase } from '../oracles/oracles.ts';

/** A case that disagrees with the API reference must get the opposite verdict on every probe. */
function check(cases: OracleCase[], cases0: number, probes0: number): void {
  let probes = 0;
  const wrong: string[] = [];
  for (const c of cases) {
    c.steps.forEach((s, i) => {
      const ev = new Evaluator(s.cluster);
      for (const p of s.probes) {
        probes++;
        const v = ev.evaluate({ src: p.srcIp, dst: p.dstIp, protocol: p.protocol, port: p.port });
        const want = c.disagrees ? !p.allow : p.allow;
        if (v.allowed !== want) wrong.push(`${c.name} step ${i + 1}: ${p.src} -> ${p.dst} ${p.port}/${p.protocol}: expected ${want}`);
      }
    });
  }
  assert.equal(wrong, []);
  assert.is(cases.length, cases0, 'cases');
  assert.is(probes, probes0, 'probes');
}

test('upstream e2e (kubernetes/kubernetes test/e2e/network/netpol): 48 tests', () => {
  const cases = upstreamCases();
  assert.is(cases.filter((c) => c.name.startsWith('UDP:')).length, 3);
  assert.is(cases.filter((c) => c.name.startsWith('SCTP:')).length, 3);
  check(cases, 48, 506);
});

test('kube-network-policies table tests: 47 rows, 1 contradicting the API reference', () => {
  const cases = knpCases();
  assert.equal(cases.filter((c) => c.disagrees).map((c) => c.name), ['allow all override deny ingress']);
  check(cases, 47, 47);
});

test('policy-assistant (cyclonus) stored verdicts: 16 cases, 711 probes, 1 contradicting the API reference', () => {
  const cases = policyAssistantCases();
  assert.is(cases.filter((c) => c.name === 'simple ipblock').length, 1, 'the generator\'s case with its printed table');
  assert.equal(cases.filter((c) => c.disagrees).map((c) => c.name), ['analyze --mode query-traffic: default to itself']);
  check(cases, 16, 711);
});

test.run();
