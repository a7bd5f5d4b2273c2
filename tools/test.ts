// Runs every test file under property-tests/ (*.test.ts, *.prop.ts) with uvu
// and ends with the line CI reads: "N passed, N failed". A file that crashes
// before uvu can count it fails the run too. Properties run at the fixed
// seed and at one drawn for this run (property-tests/seed.ts), printed first
// with the command that replays it; SEED_MOVING=n replays, 0 leaves it out.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';

const pattern = process.argv[2] ?? '';
const moving = process.env.SEED_MOVING ?? String(randomInt(1, 2 ** 31 - 1));
if (moving !== '0') console.log(`# moving seed ${moving}: replay with SEED_MOVING=${moving} node tools/test.ts ${pattern}`.trimEnd());
// A pattern that names a test file (compiler/kubeproxy.prop.ts) runs that file alone.
const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const files = /\.(test|prop)\.ts$/.test(pattern) ? `${escaped}$` : `${escaped}.*\\.(test|prop)\\.ts$`;
const args = ['node_modules/uvu/bin.js', '--no-color', 'property-tests', files];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SEED_MOVING: moving } });
let out = '';
child.stdout.on('data', (b: Buffer) => {
  process.stdout.write(b);
  out += b.toString();
});
child.on('close', (code) => {
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1] ?? NaN);
  const total = num('Total'), passed = num('Passed'), skipped = num('Skipped');
  if (Number.isNaN(total)) {
    console.log(`test run crashed (exit ${code}) before uvu reported totals`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  // uvu's Total leaves skipped tests out
  const failed = total - passed + (code !== 0 && total === passed ? 1 : 0);
  if (failed > 0 && moving !== '0') console.log(`# this run's moving seed was ${moving}: SEED_MOVING=${moving} node tools/test.ts ${pattern}`.trimEnd());
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
