// Runs the given uvu test files in one process, in the given order, and
// stops at the first failure: a mutant needs one failing test to be killed.
//   node tools/mutate/bail.ts FILE...
import { resolve } from 'node:path';
import { run } from 'uvu/run';

await run(process.argv.slice(2).map((f) => ({ name: f, file: resolve(f) })), { bail: true });
