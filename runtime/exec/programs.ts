// Every program sluice, its build, its tests and its benchmarks run, and the
// Debian package that provides it: the one list. tools/system-deps.sh (build,
// run, test) and bench/datapath/deps.sh (build, run, bench) install from it
// (tools/deps.ts reads it for them); runtime/exec/command.ts runs nothing
// else (its argv type is keyed by it); property-tests/repo/programs.test.ts
// checks that nothing spawns a program around that layer. A fresh Debian 12
// has the essential packages (coreutils, util-linux, mount, bash, dash,
// libc-bin); they are listed all the same, so the list is the whole truth.

/** Who needs it: the build (npm run build), sluice itself (apply, run, testbed), the tests, the benchmarks. */
export type Need = 'build' | 'run' | 'test' | 'bench';

export interface Dependency {
  /** The command, as found on PATH; or, for a package of files, a file it installs (starting with /). */
  readonly program: string;
  /** The Debian package; undefined for what npm provides. */
  readonly package: string | undefined;
  readonly need: readonly Need[];
  readonly why: string;
}

export const DEPENDENCIES = [
  { program: 'node', package: undefined, need: ['build', 'run', 'test', 'bench'], why: 'Node.js 24, the `node` devDependency (npm), not Debian\'s' },
  { program: 'clang', package: 'clang', need: ['build'], why: 'compiles bpf/*.bpf.c, the test fixtures and the benchmarks\' C tools' },
  { program: 'make', package: 'make', need: ['build'], why: 'npm run build:bpf (bpf/Makefile)' },
  { program: '/usr/include/bpf/bpf_helpers.h', package: 'libbpf-dev', need: ['build'], why: 'the BPF helper headers (and libbpf.so.1, which the loader opens)' },
  { program: 'bpftool', package: 'bpftool', need: ['build', 'test'], why: 'reads BTF from objects (tools/btf.ts: npm run gen, the layout tests)' },
  { program: 'uname', package: 'coreutils', need: ['build', 'bench'], why: 'the multiarch include path (bpf/Makefile); the machine in reports' },
  { program: 'mkdir', package: 'coreutils', need: ['build'], why: 'build/bpf (bpf/Makefile)' },
  { program: 'ip', package: 'iproute2', need: ['run', 'test', 'bench'], why: 'interfaces and routes (apply, the agent); namespaces, veths, routes (testbed)' },
  { program: 'tc', package: 'iproute2', need: ['run', 'test'], why: 'which filters are on a hook (detach)' },
  { program: 'ss', package: 'iproute2', need: ['bench'], why: 'waits for a server to listen' },
  { program: 'mount', package: 'mount', need: ['run', 'test'], why: 'bpffs and cgroup2 when a fresh machine has none; tmpfs in a test' },
  { program: 'umount', package: 'mount', need: ['test'], why: 'takes a test\'s tmpfs down' },
  { program: 'nsenter', package: 'util-linux', need: ['run', 'test', 'bench'], why: 'runs a command in a network namespace with the host\'s mounts (testbed)' },
  { program: 'unshare', package: 'util-linux', need: ['test'], why: 'a private mount namespace: the bpffs and cgroup2 mount tests; the checkout bound where another user can read it' },
  { program: 'setpriv', package: 'util-linux', need: ['test'], why: 'runs the CLI as another user' },
  { program: 'taskset', package: 'util-linux', need: ['bench'], why: 'pins servers and clients to a CPU' },
  { program: 'sysctl', package: 'procps', need: ['run', 'test', 'bench'], why: 'ip_forward and rp_filter inside testbed namespaces' },
  { program: 'sh', package: 'dash', need: ['test', 'bench'], why: 'small scripts inside a namespace; the Dockerfile\'s cache warm-up, run by a test' },
  { program: 'awk', package: 'mawk', need: ['test'], why: 'reads /proc/mounts in a mount namespace test\'s script' },
  { program: 'git', package: 'git', need: ['test'], why: 'the files mutation testing stages (npm run mutate)' },
  { program: 'bash', package: 'bash', need: ['bench'], why: 'the kube-proxy baseline script' },
  { program: 'timeout', package: 'coreutils', need: ['bench'], why: 'bounds every background server' },
  { program: 'getconf', package: 'libc-bin', need: ['bench'], why: 'CLK_TCK, for CPU time from /proc' },
  { program: 'nft', package: 'nftables', need: ['test', 'bench'], why: 'a router that drops what it must not see (DSR tests); kube-proxy\'s nftables mode' },
  { program: 'iptables-legacy-restore', package: 'iptables', need: ['bench'], why: 'kube-proxy\'s iptables mode, legacy backend' },
  { program: 'iptables-nft-restore', package: 'iptables', need: ['bench'], why: 'kube-proxy\'s iptables mode, nft backend' },
  { program: 'iperf3', package: 'iperf3', need: ['bench'], why: 'throughput (npm run bench -- datapath)' },
  { program: 'qperf', package: 'qperf', need: ['bench'], why: 'throughput and CPU per Gbit (npm run bench -- pod2pod)' },
] as const satisfies readonly Dependency[];

/** A program the exec layer may run (a file entry is a package's mark, not a command). */
export type Program = Exclude<(typeof DEPENDENCIES)[number]['program'], `/${string}`>;

/** The dependencies one of the needs brings (a program needed by several is listed once). */
export const dependenciesFor = (needs: readonly Need[]): Dependency[] =>
  DEPENDENCIES.filter((d) => d.need.some((n) => needs.includes(n)));
