#!/usr/bin/env node
// sluice: dispatches to one command per file; each returns its exit status.
import { COMPILE_USAGE, compileCommand } from './compile.ts';
import { UsageError, type Io } from './io.ts';

interface Command { run(args: readonly string[], io: Io): number; usage: string; summary: string }

const COMMANDS: { readonly [name: string]: Command } = {
  compile: { run: compileCommand, usage: COMPILE_USAGE, summary: 'compile a cluster snapshot into the maps each node would get' },
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
