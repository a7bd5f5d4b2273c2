// The NetworkPolicy datapath benchmark (issue 11), in one run, as root:
// - connect p50 from a client pod to server pods selected by 10,000 rules,
//   beside the same with no policy and the floor (no sluice);
// - one iperf3 stream to such a pod, beside no policy;
// - the check itself by BPF_PROG_TEST_RUN at 10 to 100,000 rules;
// - an API change (a pod, a policy, a namespace label) to the kernel
//   enforcing it, through `sluice run` and the fake API server.
// Namespaces sldp<pid>-*, pins under /sys/fs/bpf/sluice-bench/<pid>, scratch
// files: all removed at the end, signals included (--cleanup removes what a
// killed run left).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { run as runCommand } from '../runtime/exec/command.ts';
import { BenchRun } from './datapath/benchRun.ts';
import { PIN_BASE, removeLeftovers } from './datapath/leftovers.ts';
import { DEFAULT_QUIET } from './datapath/quiet.ts';
import { buildSluice, buildTools, ensureCommands, log, machine, requireRoot, ROOT, type Tool } from './datapath/setup.ts';
import { measureApiToEnforced, MIN_SYNC_MS, type EnforcedSample } from './policyDatapath/apiToEnforced.ts';
import { policyChart } from './policyDatapath/chart.ts';
import { measureCheck, type CheckSample } from './policyDatapath/checkCost.ts';
import { measureConnect, measureThroughput, openLanes, VARIANTS, type ConnectSample, type TputSample, type Variant } from './policyDatapath/lanes.ts';
import { median } from './stats.ts';

export const POLICY_DATAPATH_USAGE = `usage: npm run bench -- policy-datapath [flags]     (root)

NetworkPolicy in the datapath, side by side in one run: connect latency from
a client pod to server pods selected by 10,000 rules, beside no policy and
the floor (no sluice); one iperf3 stream to such a pod; the check itself by
BPF_PROG_TEST_RUN at 10 to 100,000 rules; an API change (a pod, a policy, a
namespace label) to the kernel enforcing it, through \`sluice run\`. Writes
<out>/policy-datapath.{jsonl,md,svg}.

  --reps N              connect samples per lane (default 16)
  --tput-reps N         throughput samples per lane (default 6)
  --api-reps N          times each API change is made and undone (default 5)
  --only P,P            only these parts: check, api, lanes (output then
                        defaults to build/bench/policy-datapath-part)
  --out DIR             where results go (default bench/results)
  --smoke               a small run: 2 reps, 1,000 rules at most
                        (--out build/bench/policy-datapath-smoke)
  --cleanup             only remove what killed runs left, then exit
`;

const LABEL: { [v in Variant]: string } = { floor: 'floor (no sluice)', none: 'sluice, no policy', rules: 'sluice, 10,000 rules' };

/** The datapath, the check object and the two C tools. */
function prepare(): { connlat: Tool; acceptd: Tool; check: Tool } {
  ensureCommands(['ip', 'nsenter', 'taskset', 'timeout', 'iperf3', 'ss']);
  buildSluice();
  mkdirSync(join(ROOT, 'build/bench'), { recursive: true }); // a fresh clone has no build/bench yet
  const check = join(ROOT, 'build/bench/policy-check.o') as Tool;
  runCommand(['clang', '-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '-Ibpf', '-Ibpf/include', '-c', 'bench/policyDatapath/check.bpf.c', '-o', check], { cwd: ROOT, output: 'inherit', timeoutMs: 600_000 });
  return { ...buildTools(['connlat', 'acceptd']), check };
}

const PARTS = ['check', 'api', 'lanes'] as const;
type Part = (typeof PARTS)[number];

interface Options {
  reps: number; connects: number; warmup: number; tputReps: number; tputSeconds: number; apiReps: number; rules: number; checkRules: number[]; repeat: number; out: string;
  parts: Part[];
}

function options(args: readonly string[]): Options | 'help' | 'cleanup' {
  const { values: v } = parseArgs({ args: [...args], options: {
    smoke: { type: 'boolean' }, reps: { type: 'string' }, 'tput-reps': { type: 'string' }, 'api-reps': { type: 'string' }, out: { type: 'string' },
    only: { type: 'string' }, cleanup: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } });
  if (v.help) return 'help';
  if (v.cleanup) return 'cleanup';
  const n = (flag: string, x: string | undefined, d: number) => {
    if (x === undefined) return d;
    if (!/^[1-9]\d*$/.test(x)) throw new Error(`--${flag} takes a positive whole number, not "${x}"`);
    return Number(x);
  };
  const parts = (v.only?.split(',') ?? [...PARTS]) as Part[];
  if (parts.some((p) => !PARTS.includes(p))) throw new Error(`--only takes ${PARTS.join(', ')}`);
  const partial = parts.length < PARTS.length;
  return v.smoke
    ? { reps: 2, connects: 300, warmup: 50, tputReps: 1, tputSeconds: 2, apiReps: 1, rules: 10_000, checkRules: [0, 10, 1000], repeat: 20_000, out: v.out ?? 'build/bench/policy-datapath-smoke', parts }
    : { reps: n('reps', v.reps, 16), connects: 2000, warmup: 200, tputReps: n('tput-reps', v['tput-reps'], 6), tputSeconds: 5, apiReps: n('api-reps', v['api-reps'], 5), rules: 10_000,
      checkRules: [0, 10, 100, 1000, 10_000, 100_000], repeat: 200_000, out: v.out ?? (partial ? 'build/bench/policy-datapath-part' : 'bench/results'), parts };
}

const stat = (xs: number[]) => ({ p50: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });

/** Each rep's 10,000-rules throughput over its no-policy throughput, for the reps that measured both. */
function pairedRatio(tput: readonly TputSample[]) {
  const of = (v: Variant, rep: number) => tput.find((s) => s.variant === v && s.rep === rep && s.gbps !== undefined)?.gbps;
  const reps = [...new Set(tput.map((s) => s.rep))];
  return stat(reps.flatMap((rep) => {
    const [rules, none] = [of('rules', rep), of('none', rep)];
    return rules !== undefined && none ? [rules / none] : [];
  }));
}

export async function benchPolicyDatapath(args: readonly string[]): Promise<void> {
  let o: Options | 'help' | 'cleanup';
  try {
    o = options(args);
  } catch (e) {
    console.error(`bench policy-datapath: ${(e as Error).message}\n${POLICY_DATAPATH_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o === 'help') return void console.log(POLICY_DATAPATH_USAGE);
  requireRoot('policy datapath');
  const t0 = Date.now(), load0 = loadavg()[0];
  for (const line of removeLeftovers()) log(`removed, left by a killed run: ${line}`);
  if (o === 'cleanup') return;
  const tools = prepare();
  const out = isAbsolute(o.out) ? o.out : join(ROOT, o.out);
  mkdirSync(out, { recursive: true });
  const run = new BenchRun(tools, t0 + 60 * 60_000);
  const stop = (sig: NodeJS.Signals) => {
    run.close();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, stop);
  const connect: ConnectSample[] = [], tput: TputSample[] = [], api: EnforcedSample[] = [];
  let check: CheckSample[] = [];
  const pins = join(PIN_BASE, String(process.pid));
  try {
    if (o.parts.includes('check')) {
      check = measureCheck({ rules: o.checkRules, repeat: o.repeat, rounds: 7, checkObject: tools.check, sluiceObject: join(ROOT, 'build/bpf/sluice.o'),
        pinBase: pins, netns: `${run.prefix}-check` }, log);
    }
    if (o.parts.includes('api')) {
      await measureApiToEnforced({ reps: o.apiReps, sluiceObject: join(ROOT, 'build/bpf/sluice.o'), scratch: run.scratch, pinRoot: join(pins, 'api'),
        netns: `${run.prefix}-api` }, (s) => {
        api.push(s);
        log(`  api: ${s.kind} (${s.direction}, ${s.spacing}): ${s.ms} ms; the agent's batch after ${s.batchMs ?? '?'} ms (compile ${s.compileMs ?? '?'}, apply ${s.applyMs ?? '?'} ms)`);
      }, log);
    }
    const lanes = o.parts.includes('lanes') ? await openLanes(run, o.rules, log) : [];
    await measureConnect(run, lanes, { reps: o.reps, connects: o.connects, warmup: o.warmup, quiet: DEFAULT_QUIET }, (s) => {
      connect.push(s);
      log(`  connect ${s.variant.padEnd(5)} rep ${s.rep}: ${s.error ? `error: ${s.error}` : `p50 ${s.p50} p99 ${s.p99} µs`} (busy ${s.bgBusy})`);
    }, log);
    await measureThroughput(run, lanes, { reps: o.tputReps, seconds: o.tputSeconds, quiet: DEFAULT_QUIET }, (s) => {
      tput.push(s);
      log(`  iperf3 ${s.variant.padEnd(5)} rep ${s.rep}: ${s.error ? `error: ${s.error}` : `${s.gbps} Gbit/s`} (busy ${s.bgBusy})`);
    }, log);
  } finally {
    const problems = run.close();
    if (problems.length) console.error(`bench policy-datapath: cleanup left: ${problems.join('; ')}`);
  }
  report(o, out, { connect, tput, check, api }, { minutes: (Date.now() - t0) / 60_000, load0, load1: loadavg()[0] });
}

function report(o: Options, out: string, r: { connect: ConnectSample[]; tput: TputSample[]; check: CheckSample[]; api: EnforcedSample[] },
  facts: { minutes: number; load0: number; load1: number }): void {
  const good = (v: Variant) => r.connect.filter((s) => s.variant === v && !s.error && s.p50 !== undefined);
  const c = Object.fromEntries(VARIANTS.map((v) => [v, stat(good(v).map((s) => s.p50!))])) as { [v in Variant]: ReturnType<typeof stat> };
  const p99 = (v: Variant) => median(good(v).map((s) => s.p99!));
  const t = Object.fromEntries(VARIANTS.map((v) => [v, stat(r.tput.filter((s) => s.variant === v && s.gbps !== undefined).map((s) => s.gbps!))])) as { [v in Variant]: ReturnType<typeof stat> };
  const at = (n: number) => r.check.find((x) => x.rules === n);
  const apiRows = (['pod', 'policy', 'namespace label'] as const).flatMap((kind) => (['quiet', 'busy'] as const).map((spacing) => {
    const xs = r.api.filter((s) => s.kind === kind && s.spacing === spacing);
    const batch = xs.filter((x) => x.batchMs !== undefined);
    return { kind, spacing, ...stat(xs.map((x) => x.ms)), batchP50: median(batch.map((x) => x.batchMs!)), work: median(batch.map((x) => x.compileMs! + x.applyMs!)) };
  }));
  const bound = 10 + MIN_SYNC_MS;
  type Goal = readonly [string, boolean, string];
  const goals: Goal[] = [];
  if (r.connect.length) {
    goals.push([`connect p50, 10,000 rules <= 1.05 x no policy`, c.rules.p50 / c.none.p50 <= 1.05, `${c.rules.p50.toFixed(1)} / ${c.none.p50.toFixed(1)} µs = ${(c.rules.p50 / c.none.p50).toFixed(2)}`],
      [`connect p50, 10,000 rules <= 1.2 x the floor`, c.rules.p50 / c.floor.p50 <= 1.2, `${c.rules.p50.toFixed(1)} / ${c.floor.p50.toFixed(1)} µs = ${(c.rules.p50 / c.floor.p50).toFixed(2)}`]);
  }
  const paired = pairedRatio(r.tput);
  if (r.tput.length) {
    goals.push([`one stream, 10,000 rules >= 98% of no policy (the median of each rep's ratio: reps run the lanes back to back, so a rep's ratio cancels the load that moves between reps)`,
      paired.p50 >= 0.98, `${(100 * paired.p50).toFixed(0)}% (reps ${(100 * paired.min).toFixed(0)}-${(100 * paired.max).toFixed(0)}%, n ${paired.n}); the lanes' medians: ` +
      `${t.rules.p50.toFixed(2)} / ${t.none.p50.toFixed(2)} Gbit/s = ${(100 * t.rules.p50 / t.none.p50).toFixed(0)}%`]);
  }

  const measured = r.check.filter((x) => x.rules > 0);
  if (measured.length) {
    const [small, big] = [measured[0], measured.at(-1)!];
    const n = big.rules.toLocaleString('en-US');
    goals.push([`the check at ${n} rules: allow <= 0.2 µs`, big.allowNs <= 200, `${big.allowNs} ns`],
      [`the check at ${n} rules: deny <= 0.5 µs`, big.denyNs <= 500, `${big.denyNs} ns`],
      [`flat: at ${n} rules <= 1.25 x at ${small.rules}`, big.allowNs <= 1.25 * small.allowNs && big.denyNs <= 1.25 * small.denyNs,
        `allow ${small.allowNs} -> ${big.allowNs}, deny ${small.denyNs} -> ${big.denyNs} ns`],
      [`one fixed program: sl_from_pod's instructions the same at every size`, new Set(r.check.map((x) => x.programInsns)).size === 1,
        `${[...new Set(r.check.map((x) => x.programInsns))].join(', ')} insns`]);
  }
  if (r.api.length) {
    for (const kind of ['pod', 'policy', 'namespace label'] as const) {
      const worst = Math.max(...apiRows.filter((x) => x.kind === kind).map((x) => x.max));
      const quiet = apiRows.find((x) => x.kind === kind && x.spacing === 'quiet')!;
      goals.push([`API -> enforced, ${kind}: <= 10 ms + --min-sync (${bound} ms), every change`, worst <= bound, `at most ${worst.toFixed(1)} ms`],
        [`API -> enforced, ${kind}, nothing to wait for (a quiet spell): p50 <= 10 ms`, quiet.p50 <= 10,
          `p50 ${quiet.p50.toFixed(1)} ms (max ${quiet.max.toFixed(1)}; the agent's compile + apply ${quiet.work.toFixed(2)} ms)`]);
    }
  }
  const md: string[] = [
    `### NetworkPolicy in the datapath: its cost`, '',
    `\`npm run bench -- policy-datapath\`, ${new Date().toISOString().slice(0, 10)}, ${machine()}, ` +
      `${facts.minutes.toFixed(1)} min; 1-minute load average ${facts.load0.toFixed(2)} before, ${facts.load1.toFixed(2)} after.`, '',
  ];
  if (r.connect.length) {
    md.push(`Connect latency, client pod to the five server pods' own addresses (connlat, ${o.connects} connects a rep, median over reps):`, '',
      '| lane | p50 µs | reps\' p50 range | p99 µs | reps |', '| --- | ---: | ---: | ---: | ---: |',
      ...VARIANTS.map((v) => `| ${LABEL[v]} | ${c[v].p50.toFixed(1)} | ${c[v].min.toFixed(1)}-${c[v].max.toFixed(1)} | ${p99(v).toFixed(1)} | ${c[v].n} |`), '');
  }
  if (r.tput.length) {
    md.push(`One iperf3 stream to a server pod (${o.tputSeconds} s, median over reps):`, '',
      '| lane | Gbit/s | range | reps |', '| --- | ---: | ---: | ---: |',
      ...VARIANTS.map((v) => `| ${LABEL[v]} | ${t[v].p50.toFixed(2)} | ${t[v].min.toFixed(2)}-${t[v].max.toFixed(2)} | ${t[v].n} |`), '');
  }
  if (r.check.length) {
    md.push(`The check itself (BPF_PROG_TEST_RUN, ${o.repeat.toLocaleString('en-US')} runs a call, median of 7 calls; check - baseline), and the whole sl_from_pod for a denied first packet:`, '',
      '| rules | sl_pol | sl_polcidr | allow ns | deny ns | sl_from_pod, denied first packet, ns | sl_from_pod, an established flow\'s packet, ns | sl_from_pod insns | compile ms |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.check.map((x) => `| ${x.rules.toLocaleString('en-US')} | ${x.entries.sl_pol} | ${x.entries.sl_polcidr} | ${x.rules ? x.allowNs : '-'} | ${x.rules ? x.denyNs : '-'} | ` +
        `${x.programDenyNs}${x.rules ? '' : ' (no policy: untracked)'} | ${x.programEstablishedNs}${x.rules ? '' : ' (untracked)'} | ${x.programInsns} | ${x.compileMs} |`), '');
    const none = at(0), most = r.check.filter((x) => x.rules > 0).at(-1);
    if (none && most) {
      md.push(`What policy adds to every packet of a long stream (the cost behind the throughput goal): ${most.programEstablishedNs} - ${none.programEstablishedNs} = ` +
        `${most.programEstablishedNs - none.programEstablishedNs} ns a packet in sl_from_pod at ${most.rules.toLocaleString('en-US')} rules, against none.`, '');
    }
  }
  if (r.api.length) {
    md.push(`API change to enforced (\`sluice run\`, --min-sync ${MIN_SYNC_MS / 1000}s, 10,000 pods, 1,000 policies; from the API server's write to a PROG_TEST_RUN verdict flip; each change made and undone ${o.apiReps} times; the agent's batch: its log line, p50, and its compile + apply):`, '',
      '| change | spacing | p50 ms | min | max | n | the agent\'s batch, p50 ms | compile + apply, p50 ms |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...apiRows.map((x) => `| ${x.kind} | ${x.spacing === 'quiet' ? 'after a quiet spell' : '150 ms after a batch'} | ${x.p50.toFixed(1)} | ${x.min.toFixed(1)} | ${x.max.toFixed(1)} | ${x.n} | ${x.batchP50.toFixed(0)} | ${x.work.toFixed(2)} |`), '');
  }
  md.push('Goals:', '', ...goals.map(([what, ok, detail]) => `- ${what}: ${detail} — **${ok ? 'met' : 'NOT met'}**`), '');
  const checkAt = at(o.rules) ?? r.check.at(-1);
  writeFileSync(join(out, 'policy-datapath.md'), md.join('\n'));
  writeFileSync(join(out, 'policy-datapath.svg'), policyChart(r.connect.length ? VARIANTS.map((v) => ({ label: LABEL[v], ...c[v] })) : [], r.check,
    `${machine()}, load ${facts.load0.toFixed(1)}${checkAt ? `; the check at ${checkAt.rules.toLocaleString('en-US')} rules: allow ${checkAt.allowNs} ns, deny ${checkAt.denyNs} ns` : ''}`));
  const jsonl = (xs: readonly object[]) => xs.map((x) => JSON.stringify(x) + '\n').join('');
  writeFileSync(join(out, 'policy-datapath.jsonl'), jsonl([...r.connect.map((s) => ({ what: 'connect', ...s })), ...r.tput.map((s) => ({ what: 'throughput', ...s })),
    ...r.check.map((s) => ({ what: 'check', ...s })), ...r.api.map((s) => ({ what: 'api', ...s }))]));
  console.log(`\n${md.join('\n')}`);
  log(`wrote ${out}/policy-datapath.md, .svg, .jsonl`);
}
