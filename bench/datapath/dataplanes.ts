// The dataplanes side by side: what each loads into a lane's node namespace
// for n services, and where its probe connects. The kube-proxy modes are
// loaded the way the baselines load them (one plain restore or nft -f into a
// fresh namespace: the state kube-proxy leaves, without its slow --noflush
// path); sluice by `sluice apply` of a kubectl-style snapshot, through the
// real compiler, loader, PinnedStore and tc attach.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsenter, runAsync, type Argv } from '../../runtime/exec/command.ts';
import type { Program } from '../../runtime/exec/programs.ts';
import { iptablesRules, nftRules } from './kubeProxyRules.ts';
import { BACKEND_IFACES, BACKEND_IPS, CLIENT_IFACE, type Lane } from './lane.ts';
import { benchServices, type Probe } from './services.ts';
import { BENCH_NODE, snapshotOf } from './snapshot.ts';

export const DATAPLANES = ['floor', 'sluice', 'nft', 'legacy', 'iptnft'] as const;
export type Dataplane = (typeof DATAPLANES)[number];

export const LABELS: { readonly [d in Dataplane]: string } = {
  floor: 'floor (pod IPs, no rules)',
  sluice: 'sluice',
  nft: 'kube-proxy nftables',
  legacy: 'kube-proxy iptables (legacy)',
  iptnft: 'kube-proxy iptables (nft backend)',
};

/** The commands each dataplane needs, besides ip(8) and nsenter(1). */
export const COMMANDS: { readonly [d in Dataplane]: Program[] } = {
  floor: [], sluice: [], nft: ['nft'], legacy: ['iptables-legacy-restore'], iptnft: ['iptables-nft-restore'],
};

const SLUICE_MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;

/**
 * Upper bounds of one load. nftables needs about 3 minutes at 10,000 services
 * (the kernel scans every map for each rule added); iptables-nft about 8 s,
 * with the flushing restore used here (kube-proxy's --noflush one would need
 * over 15 minutes). A load over its bound fails its lane, and the report says so.
 */
const LOAD_TIMEOUT_MS = { sluice: 120_000, legacy: 120_000, iptnft: 300_000, nft: 480_000 };

/** Rule files and snapshots, written once per (size, probe) into dir. */
export class InputFiles {
  private readonly made = new Map<string, string>();
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  path(kind: 'ipt' | 'nft' | 'sluice', n: number, probe: Probe): string {
    const name = `${kind}-${n}-${probe}.${kind === 'sluice' ? 'json' : 'rules'}`;
    let p = this.made.get(name);
    if (!p) {
      p = join(this.dir, name);
      const services = benchServices(n, probe);
      writeFileSync(p, kind === 'ipt' ? iptablesRules(services) : kind === 'nft' ? nftRules(services) : JSON.stringify(snapshotOf(services)));
      this.made.set(name, p);
    }
    return p;
  }
}

/** ip: one address, or for connlat several, comma-separated, connected to in turn. */
export interface Target { ip: string; port: number }
export interface Loaded { seconds: number; target: Target }

/**
 * The probe's address: the last service's ClusterIP. For the floor, the pod
 * IPs of the service's endpoints, in turn (so that it spreads over the same
 * five backends), or for iperf3 the one pod it has.
 */
export function targetOf(dp: Dataplane, n: number, probe: Probe): Target {
  if (probe === 'iperf') return { ip: dp === 'floor' ? BACKEND_IPS[0] : benchServices(n, probe)[n - 1].vip, port: 5201 };
  return { ip: dp === 'floor' ? BACKEND_IPS.join(',') : benchServices(n, probe)[n - 1].vip, port: 80 };
}

/** Loads dp for n services into the lane; pinRoot is sluice's, for this lane alone. */
export async function loadDataplane(dp: Dataplane, lane: Lane, n: number, probe: Probe, files: InputFiles, pinRoot: string): Promise<Loaded> {
  const target = targetOf(dp, n, probe);
  switch (dp) {
    case 'floor':
      return { seconds: 0, target };
    case 'sluice': {
      const argv: Argv = ['node', SLUICE_MAIN, 'apply', files.path('sluice', n, probe), '--node', BENCH_NODE,
        '--pin-root', pinRoot, '--netns', lane.node, '--pod-ifaces', [CLIENT_IFACE, ...BACKEND_IFACES].join(',')];
      return { seconds: (await runAsync(argv, { timeoutMs: LOAD_TIMEOUT_MS.sluice })).seconds, target };
    }
    case 'legacy':
    case 'iptnft': {
      const restore = dp === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore';
      const r = await runAsync(nsenter(lane.node, [restore]), { timeoutMs: LOAD_TIMEOUT_MS[dp], stdinFile: files.path('ipt', n, probe) });
      return { seconds: r.seconds, target };
    }
    case 'nft': {
      const r = await runAsync(nsenter(lane.node, ['nft', '-f', files.path('nft', n, probe)]), { timeoutMs: LOAD_TIMEOUT_MS.nft });
      return { seconds: r.seconds, target };
    }
  }
}
