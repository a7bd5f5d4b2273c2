#!/usr/bin/env node
// sluice: dispatches to one command per file; each returns its exit status.
import { APPLY_USAGE, applyCommand } from './apply.ts';
import { COMPILE_USAGE, compileCommand } from './compile.ts';
import { DETACH_USAGE, detachCommand } from './detach.ts';
import { EXPLAIN_USAGE, explainCommand } from './explain.ts';
import { UsageError, type Io } from './io.ts';
import { MAPS_USAGE, mapsCommand } from './maps.ts';
import { TESTBED_USAGE, testbedCommand } from './testbed.ts';
import { REPLAY_USAGE, replayCommand } from './replay.ts';
import { RUN_USAGE, runCommand } from './run.ts';

interface Command { run(args: readonly string[], io: Io): number; usage: string; summary: string }

const COMMANDS: { readonly [name: string]: Command } = {
  compile: { run: compileCommand, usage: COMPILE_USAGE, summary: 'compile a cluster snapshot into the maps each node would get' },
  explain: { run: explainCommand, usage: EXPLAIN_USAGE, summary: 'whether NetworkPolicy allows a flow in a snapshot, and by which rule' },
  replay: { run: replayCommand, usage: REPLAY_USAGE, summary: 'replay a recorded event log: the same diffs, batch by batch' },
  run: { run: runCommand, usage: RUN_USAGE, summary: 'the node agent: watch the cluster, keep this node\'s maps up to date (root)' },
  apply: { run: applyCommand, usage: APPLY_USAGE, summary: 'program this node\'s datapath from a cluster snapshot (root)' },
  maps: { run: mapsCommand, usage: MAPS_USAGE, summary: 'print the live pinned maps, counters and conntrack' },
  detach: { run: detachCommand, usage: DETACH_USAGE, summary: 'take the programs off their interfaces; --pins removes the maps' },
  testbed: { run: testbedCommand, usage: TESTBED_USAGE, summary: 'a cluster of network namespaces from a snapshot, to try sluice on (root)' },
};

const USAGE = `usage: sluice <command> [args]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

Run \`sluice <command> --help\` for a command's options.
`;

function main(argv: readonly string[], io: Io): number {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    io.err(`sluice: ${name === undefined ? 'no command given' : `unknown command "${name}"`}\n${USAGE}`);
    return 2;
  }
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
process.exitCode = main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
