// End to end, endpoint churn (fixtures/e2e-churn.yaml): a backend leaves the
// EndpointSlice (its pod stays up and would answer anything still sent to
// it), then comes back; sluice is applied on both nodes each time, at once,
// as agents would. New flows avoid the leaving backend; a TCP connection open to
// another backend carries data through the change; a UDP flow whose backend
// left moves to a live one without losing an answer.
import * as assert from 'uvu/assert';
import { answersFrom, e2eSuite, fixture, show, withoutEndpoint, type HoldReport } from './harness.ts';

const BASE = fixture('e2e-churn.yaml');
const { test, bed, run } = e2eSuite('e2e churn', 'c', BASE);

const IP: { [pod: string]: string } = { 'demo/app-1': '10.72.1.11', 'demo/app-2': '10.72.2.12', 'demo/app-3': '10.72.2.13' };
const APP = Object.keys(IP);
const VIP = '10.82.0.10', NODE1 = '172.30.9.11', CLIENT = 'demo/client-1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backendOf = (line: string) => line.slice(0, line.indexOf(' '));

/** Connections after a change: ClusterIP over TCP and UDP from the client pod, the NodePort from outside. */
const traffic = () => bed.serviceTraffic(CLIENT, VIP, 80, NODE1, 30080);

test('TCP: a backend leaves: no new connection reaches it, an open connection to another carries on; it comes back: it answers again', async () => {
  const hold = bed.hold(CLIENT, 'tcp', VIP, 80);
  const first = backendOf((await hold.line<{ answer: string }>(0)).answer);
  const leaving = APP.find((b) => b !== first)!;
  const staying = APP.filter((b) => b !== leaving);

  const { endedAt: changedAt } = await bed.applyAll(bed.variant('without', withoutEndpoint(IP[leaving])));
  const after = await traffic();
  const tcp = answersFrom(after.tcp, staying);
  assert.is(tcp.size, 2, `ClusterIP TCP after ${leaving} left: ${show(tcp)}`);
  answersFrom(after.udp, staying);
  answersFrom(after.nodePort, staying);
  await sleep(500);
  const r = await hold.stop();
  assert.is(r.failed, 0, `the open connection: ${JSON.stringify(r)}`);
  assert.equal(r.answers.map(([b]) => b), [first], 'it stays on its backend');
  assert.ok(r.lastAt > changedAt + 400, `no exchange after the change: ${JSON.stringify(r)}`);
  console.log(`# churn TCP: open connection to ${first}: ${r.answered} exchanges, 0 failed, ${leaving} left and came back`);

  await bed.applyAll(BASE);
  const back = await traffic();
  const all = answersFrom(back.tcp, APP);
  assert.is(all.size, 3, `ClusterIP TCP after ${leaving} came back: ${show(all)}`);
  answersFrom(back.udp, APP);
  answersFrom(back.nodePort, APP);
});

test('UDP: a flow whose backend leaves moves to a live backend and keeps getting answers', async () => {
  const hold = bed.hold(CLIENT, 'udp', VIP, 80);
  const first = backendOf((await hold.line<{ answer: string }>(0)).answer);
  await sleep(300);
  const { endedAt: changedAt } = await bed.applyAll(bed.variant('without-udp', withoutEndpoint(IP[first])));
  await sleep(600);
  const r: HoldReport = await hold.stop();
  await bed.applyAll(BASE);
  assert.is(r.failed, 0, `datagrams without an answer: ${JSON.stringify(r)}`);
  assert.is(r.answers.length, 2, `one move, from ${first} to a live backend: ${JSON.stringify(r.answers)}`);
  assert.is(r.answers[0][0], first);
  assert.ok(APP.includes(r.answers[1][0]) && r.answers[1][0] !== first, JSON.stringify(r.answers));
  assert.ok(r.lastAt > changedAt + 400, `no answer after the change: ${JSON.stringify(r)}`);
  console.log(`# churn UDP: ${r.answered} answers, 0 lost; moved ${r.answers.map(([b, n]) => `${b} x${n}`).join(' -> ')}`);
});

test('a pod goes with its endpoint (testbed apply): every connection reaches the others; back again, it answers', async () => {
  const gone = bed.variant('without-pod', (items) => withoutEndpoint(IP['demo/app-3'])(items).filter((i) => !(i.kind === 'Pod' && i.metadata.name === 'app-3')));
  assert.equal(bed.update(gone), { added: [], removed: ['demo/app-3'], restarted: [] });
  const after = await traffic();
  for (const lines of [after.tcp, after.udp, after.nodePort]) answersFrom(lines, ['demo/app-1', 'demo/app-2']);
  assert.equal(bed.update(BASE), { added: ['demo/app-3'], removed: [], restarted: [] });
  const back = await traffic();
  assert.is(answersFrom(back.tcp, APP).size, 3, 'app-3 answers again');
});

run();
