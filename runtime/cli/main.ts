#!/usr/bin/env node
// sluice: dispatches to one command per file; each returns its exit status.
//
// Node's compile cache goes on before any other module loads (in
// NODE_COMPILE_CACHE, else the temporary directory; a directory it cannot
// write leaves it off), and each command's modules load only when it runs:
// the agent starts on every node at every restart, and compiling and
// type-stripping its modules afresh each time was a third of its start.
import { enableCompileCache } from 'node:module';

enableCompileCache();

type Loaded = { run(args: readonly string[], io: Io): number; usage: string };
type Io = import('./io.ts').Io;

const COMMANDS: { readonly [name: string]: { load(): Promise<Loaded>; summary: string } } = {
  compile: { load: async () => { const m = await import('./compile.ts'); return { run: m.compileCommand, usage: m.COMPILE_USAGE }; }, summary: 'compile a cluster snapshot into the maps each node would get' },
  explain: { load: async () => { const m = await import('./explain.ts'); return { run: m.explainCommand, usage: m.EXPLAIN_USAGE }; }, summary: 'whether NetworkPolicy allows a flow in a snapshot, and by which rule' },
  replay: { load: async () => { const m = await import('./replay.ts'); return { run: m.replayCommand, usage: m.REPLAY_USAGE }; }, summary: 'replay a recorded event log: the same diffs, batch by batch' },
  run: { load: async () => { const m = await import('./run.ts'); return { run: m.runCommand, usage: m.RUN_USAGE }; }, summary: 'the node agent: watch the cluster, keep this node\'s maps up to date (root)' },
  apply: { load: async () => { const m = await import('./apply.ts'); return { run: m.applyCommand, usage: m.APPLY_USAGE }; }, summary: 'program this node\'s datapath from a cluster snapshot (root)' },
  maps: { load: async () => { const m = await import('./maps.ts'); return { run: m.mapsCommand, usage: m.MAPS_USAGE }; }, summary: 'print the live pinned maps, counters and conntrack' },
  detach: { load: async () => { const m = await import('./detach.ts'); return { run: m.detachCommand, usage: m.DETACH_USAGE }; }, summary: 'take the programs off their interfaces; --pins removes the maps' },
  testbed: { load: async () => { const m = await import('./testbed.ts'); return { run: m.testbedCommand, usage: m.TESTBED_USAGE }; }, summary: 'a cluster of network namespaces from a snapshot, to try sluice on (root)' },
};

const USAGE = `usage: sluice <command> [args]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

Run \`sluice <command> --help\` for a command's options.
`;

async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (!entry) {
    io.err(`sluice: ${name === undefined ? 'no command given' : `unknown command "${name}"`}\n${USAGE}`);
    return 2;
  }
  const [command, { UsageError }] = await Promise.all([entry.load(), import('./io.ts')]);
  try {
    return command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`sluice ${name}: ${e.message}\n${command.usage}`);
      return 2;
    }
    io.err(`sluice ${name}: ${(e as Error).message}\n`);
    return 3; // not the input's fault: the build, the machine or a bug
  }
}

// exitCode rather than exit(): a large output piped to a slow reader still drains.
process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
