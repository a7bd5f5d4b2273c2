// DSR end to end (root): a testbed of network namespaces (runtime/testbed)
// from fixtures/dsr-testbed.yaml, node-a's NodePort and externalIP with their
// only backend on node-b. First as `testbed up` programs it (no --dsr): node-a
// SNATs, the pod sees node-a. Then `sluice apply --dsr` on every node: the pod
// sees the external client's own address, and its answers reach the client
// from node-b's MAC with the frontend as their source (counted by nftables in
// the client's namespace), none from node-a's. The client's namespace keeps
// the testbed's strict rp_filter: it routes node IPs and service IPs out of
// the one interface the answers come in by, so they pass. Traffic stays
// between the namespaces this test makes; all of it is taken down in finally.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nsenter, run as runCommand, tryRunAsync, type Argv } from '../../runtime/exec/command.ts';
import { listNetns, netnsUnavailableReason } from '../../runtime/exec/namespaces.ts';
import { down } from '../../runtime/testbed/down.ts';
import { isTestbedNetns, pinBase } from '../../runtime/testbed/names.ts';
import type { TestbedState } from '../../runtime/testbed/state.ts';
import { up } from '../../runtime/testbed/testbed.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const PROBE = new URL('../../runtime/testbed/probe.ts', import.meta.url).pathname;
const SNAPSHOT = new URL('./fixtures/dsr-testbed.yaml', import.meta.url).pathname;
const OBJECT = new URL('../../build/bpf/sluice.o', import.meta.url).pathname;

const NODE_A = '192.168.60.10', NODE_B = '192.168.60.11', EXTERNAL_IP = '203.0.113.80';
const POD = 'default/web-b';

const reason = netnsUnavailableReason() ?? (!existsSync(OBJECT) ? `${OBJECT} not built (npm run build:bpf)` : null);
if (reason && process.env.CI) test('the DSR testbed can run (required in CI)', () => assert.unreachable(`cannot run: ${reason}`));
else if (reason) console.log(`# SKIP DSR testbed: ${reason}`);
const nsTest = reason ? test.skip : test;

/** The probe's answers from inside netns, one line per attempt. */
async function probe(netns: string, proto: 'tcp' | 'udp', ip: string, port: number, count = 1): Promise<string[]> {
  const r = await tryRunAsync(nsenter(netns, ['node', PROBE, proto, ip, String(port), '-n', String(count), '--timeout', '2000']), { timeoutMs: 30_000 });
  return r.stdout.trimEnd().split('\n');
}

/** Every line is the pod's answer, and it saw client as the source. */
function answered(lines: string[], client: string, what: string): void {
  assert.ok(lines.length > 0, what);
  for (const l of lines) assert.match(l, new RegExp(`^${POD} ${client.replace(/\./g, '\\.')}:\\d+$`), `${what}: "${l}"`);
}

function run(argv: Argv, what: string): string {
  try {
    return runCommand(argv, { timeoutMs: 120_000 });
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
  }
}

function macOf(netns: string): string {
  return JSON.parse(run(['ip', '-n', netns, '-j', 'link', 'show', 'eth0'], `eth0 of ${netns}`))[0].address;
}

/** Counters in the client's namespace: answers from the frontends, by the MAC they came from. */
function countAnswers(s: TestbedState, macA: string, macB: string): void {
  const rules = `table ip sldsr {
  counter from_b {}
  counter from_a {}
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    ip saddr { ${NODE_A}, ${EXTERNAL_IP} } ether saddr ${macB} counter name "from_b"
    ip saddr { ${NODE_A}, ${EXTERNAL_IP} } ether saddr ${macA} counter name "from_a"
  }
}
`;
  runCommand(nsenter(s.external.netns, ['nft', '-f', '-']), { input: rules });
}

function counted(s: TestbedState): { fromA: number; fromB: number } {
  const json = JSON.parse(run(nsenter(s.external.netns, ['nft', '-j', 'list', 'counters', 'table', 'ip', 'sldsr']), 'nft list'));
  const packets = (name: string) => json.nftables.find((x: { counter?: { name: string } }) => x.counter?.name === name).counter.packets as number;
  return { fromA: packets('from_a'), fromB: packets('from_b') };
}

/** `sluice maps --format json` of a node: its counters, by enum sl_stat name. */
function stats(pinRoot: string): { [name: string]: { packets: number } } {
  return JSON.parse(run(['node', MAIN, 'maps', '--pin-root', pinRoot, '--format', 'json'], `sluice maps ${pinRoot}`)).stats;
}

nsTest('DSR end to end: without --dsr the pod sees node-a; with --dsr on every node it sees the external client, whose connections work with answers straight from node-b', async () => {
  const prefix = `d${process.pid.toString(36)}`;
  let s: TestbedState | undefined;
  try {
    s = up({ files: [SNAPSHOT], prefix, sluice: true, ttl: 300, clientIps: [], rpFilter: 2, wiring: 'bridged' }, () => {});
    const ext = s.external.netns, client = s.external.ip;
    const [a, b] = ['node-a', 'node-b'].map((n) => s!.nodes.find((x) => x.name === n)!);

    // the default: SNAT to node-a for the remote backend; externalTrafficPolicy Local keeps the client
    answered(await probe(ext, 'tcp', NODE_A, 30080), NODE_A, 'NodePort on node-a, no --dsr: SNAT');
    answered(await probe(ext, 'tcp', NODE_B, 30090), client, 'externalTrafficPolicy Local on node-b');

    for (const n of [a, b]) run(nsenter(n.netns, ['node', MAIN, 'apply', SNAPSHOT, '--node', n.name, '--pin-root', n.pinRoot, '--dsr']), `apply --dsr on ${n.name}`);
    countAnswers(s, macOf(a.netns), macOf(b.netns));
    const [tcp, udp, externalIp] = [await probe(ext, 'tcp', NODE_A, 30080, 3), await probe(ext, 'udp', NODE_A, 30053, 3), await probe(ext, 'tcp', EXTERNAL_IP, 80, 2)];
    answered(tcp, client, 'NodePort TCP on node-a with --dsr');
    answered(udp, client, 'NodePort UDP on node-a with --dsr (the probe takes answers from the frontend only)');
    answered(externalIp, client, 'externalIP with --dsr');
    const c = counted(s);
    assert.is(c.fromA, 0, 'no answer came by node-a');
    assert.ok(c.fromB >= 3 * 2 + 3 + 2 * 2, `answers from node-b with the frontend as source: ${c.fromB}`);
    const [sa, sb] = [stats(a.pinRoot), stats(b.pinRoot)];
    assert.ok(sa.SL_STAT_DSR_SENT.packets >= 3 + 3 + 2, `node-a sent the option: ${JSON.stringify(sa.SL_STAT_DSR_SENT)}`);
    assert.ok(sb.SL_STAT_DSR_RECEIVED.packets >= 3 + 3 + 2, `node-b took it off: ${JSON.stringify(sb.SL_STAT_DSR_RECEIVED)}`);
    assert.is(sa.SL_STAT_DSR_NO_ROOM.packets, 0);
  } finally {
    down(prefix, () => {});
  }
  assert.equal(listNetns().filter((n) => isTestbedNetns(prefix, n)), [], 'namespaces left');
  assert.not.ok(existsSync(pinBase(prefix)), 'pins left');
});

test.run();
