// The NetworkPolicy check's own cost, by BPF_PROG_TEST_RUN, against the
// number of rules selecting the server: the servers' policy maps filled by
// the real compiler from clusterOf(rules) and pinned; then the kernel runs
// check.bpf.c's `check` (pol_verdict, the datapath's code) and `baseline`
// (the same packet read, no check) `repeat` times per call on an allowed
// and a denied packet, and reports the mean per run; check - baseline is the
// check. Also the whole sl_from_pod for a denied first packet (which is
// never tracked, so every run is a first packet), and its instructions:
// the same at every size; and the whole sl_from_pod for a packet of a flow
// it already tracks (an allowed SYN first, then its ACKs), which is what
// every packet of a long stream pays: policy's share of that is the
// throughput it can cost. The kernel runs the programs in a scratch
// namespace of the run's, so their route lookups see nothing of the host's.
import { join } from 'node:path';
import { ensurePinRoot, removePinRoot } from '../../runtime/bpf/bpffs.ts';
import { STATE_MAPS } from '../../runtime/abi/layouts.generated.ts';
import { DEFAULT_TIMEOUTS, encodeConfig } from '../../runtime/bpf/config.ts';
import { BpfObject } from '../../runtime/bpf/libbpf.ts';
import { PinnedStore } from '../../runtime/bpf/maps.ts';
import { inNetns } from '../../runtime/bpf/netns.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf } from '../../runtime/streams/recordsOf.ts';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { addNetns, deleteNetns } from '../../runtime/exec/namespaces.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { buildFrame, ipBytes, TCP_FLAGS } from '../../testkit/packet.ts';
import { BACKEND_IPS, CLIENT_IP } from '../datapath/lane.ts';
import { median } from '../stats.ts';
import { clusterOf, NODE, NODE_IP, OTHER_IP } from './cluster.ts';

export interface CheckSample {
  rules: number;
  entries: { sl_pol: number; sl_polcidr: number; sl_ipid: number };
  compileMs: number;
  allowNs: number; // check - baseline, allowed packet
  denyNs: number;
  baselineNs: number;
  programDenyNs: number; // sl_from_pod, a denied first packet
  programEstablishedNs: number; // sl_from_pod, a packet of a tracked, allowed flow
  programInsns: number; // sl_from_pod's translated instructions
}

/** Room for 100,000 rules' entries (sl_polcidr holds 16,384 by default) and small state maps. */
const SIZES: { [map: string]: number } = { sl_pol: 262_144, sl_polcidr: 131_072, sl_polname: 131_072, sl_ct: 4096, sl_affinity: 1024, sl_frag: 1024 };

/** The datapath's settings as `sluice apply` gives them by default: conntrack lifetimes above all (left
 * at zero, every entry would be expired when made, and each packet of a flow would be its first). */
const SLUICE_CONFIG = encodeConfig({ netnsCookie: 0n, nodeIp: ipBytes(NODE_IP), hairpinIp: ipBytes('169.254.42.1'), flags: 0, ...DEFAULT_TIMEOUTS });

function load(object: string, pinRoot: string, config?: Uint8Array): BpfObject {
  const obj = new BpfObject(object, pinRoot);
  for (const [m, n] of Object.entries(SIZES)) obj.setMaxEntries(m, n);
  if (config) obj.setInitialBytes('.rodata', 0, config);
  obj.load();
  return obj;
}

/** A segment of one client's flow to the first server: a SYN by default. */
const segment = (src: string, flags: number = TCP_FLAGS.SYN) =>
  buildFrame({ ip: { src, dst: BACKEND_IPS[0], l4: { proto: 'tcp', sport: 40000, dport: 80, seq: 2, ack: 2, flags } } });
const CT_KEY_SIZE = STATE_MAPS.find((m) => m.name === 'sl_ct')!.key.size;

/** sl_from_pod's mean ns on an allowed flow's ACK after its SYN, which made the
 * flow tracked where policy selects the server (checked: plain pod-to-pod
 * traffic is not tracked, so without policy every packet is alike). */
function establishedNs(podFd: number, ctFd: number, policy: boolean, o: CheckOptions): number {
  const key = new Uint8Array(CT_KEY_SIZE);
  const tracked = () => S.mapNextKey(ctFd, null, key);
  if (tracked()) throw new Error('sl_ct is not empty before the SYN');
  S.progTestRun(podFd, segment(CLIENT_IP));
  if (tracked() !== policy) throw new Error(`sl_from_pod ${policy ? 'tracked no flow' : 'tracked a flow'} for an allowed SYN ${policy ? 'with' : 'without'} policy`);
  return perRun(podFd, segment(CLIENT_IP, TCP_FLAGS.ACK), o);
}

export interface CheckOptions { rules: number[]; repeat: number; rounds: number; checkObject: string; sluiceObject: string; pinBase: string; netns: string }

/** Mean ns per run of prog on frame: the median over rounds of the kernel's mean over repeat runs. */
function perRun(fd: number, frame: Uint8Array, o: CheckOptions): number {
  const ns = Array.from({ length: o.rounds }, () => S.progTestRun(fd, frame, { repeat: o.repeat }).durationNs);
  return median(ns);
}

export function measureCheck(o: CheckOptions, log: (line: string) => void): CheckSample[] {
  const out: CheckSample[] = [];
  addNetns(o.netns);
  try {
    for (const rules of o.rules) {
      const pinRoot = join(o.pinBase, `check-${rules}`);
      ensurePinRoot(pinRoot);
      const objs: BpfObject[] = [];
      try {
        const check = load(o.checkObject, pinRoot);
        objs.push(check);
        const t0 = performance.now();
        const compiler = new Compiler({ node: NODE });
        const diff = compiler.batch(encodeRecords(recordsOf(snapshotEvents(clusterOf(rules))).records));
        const compileMs = performance.now() - t0;
        const store = PinnedStore.open(pinRoot);
        const entries = { sl_pol: 0, sl_polcidr: 0, sl_ipid: 0 };
        try {
          store.apply(diff);
          for (const m of Object.keys(entries) as (keyof typeof entries)[]) entries[m] = store.count(m);
        } finally {
          store.close();
        }
        const sluice = load(o.sluiceObject, pinRoot, SLUICE_CONFIG);
        objs.push(sluice);
        const [checkFd, baseFd, podFd] = [check.programFd('check'), check.programFd('baseline'), sluice.programFd('sl_from_pod')];
        const allow = segment(CLIENT_IP), deny = segment(OTHER_IP);
        const s = inNetns(o.netns, () => {
          const verdicts = [S.progTestRun(checkFd, allow).retval, S.progTestRun(checkFd, deny).retval];
          if (rules > 0 && (verdicts[0] !== 0 || verdicts[1] !== 2)) throw new Error(`the check says ${verdicts} for allow, deny; want 0, 2`);
          const baselineNs = perRun(baseFd, allow, o);
          return {
            baselineNs, allowNs: perRun(checkFd, allow, o) - baselineNs, denyNs: perRun(checkFd, deny, o) - baselineNs,
            programDenyNs: perRun(podFd, rules > 0 ? deny : allow, o),
            programEstablishedNs: establishedNs(podFd, sluice.mapFd('sl_ct'), rules > 0, o),
          };
        });
        const sample = { rules, entries, compileMs: Math.round(compileMs), ...s, programInsns: S.progInfo(podFd).xlatedBytes / 8 };
        out.push(sample);
        log(`check: ${rules} rules (sl_pol ${entries.sl_pol}, sl_polcidr ${entries.sl_polcidr}): allow ${sample.allowNs} ns, deny ${sample.denyNs} ns` +
          ` (baseline ${sample.baselineNs} ns); sl_from_pod ${rules > 0 ? 'denied' : 'untracked'} first packet ${sample.programDenyNs} ns,` +
          ` an established flow's packet ${sample.programEstablishedNs} ns, ${sample.programInsns} insns`);
      } finally {
        for (const obj of objs) obj.close();
        removePinRoot(pinRoot);
      }
    }
  } finally {
    deleteNetns(o.netns);
  }
  return out;
}
