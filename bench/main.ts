// `npm run bench [-- NAME...]`: runs the named benchmarks (default: all).
import { benchCompiler } from './compiler.ts';
import { benchEventLog } from './eventLog.ts';

const benches: Record<string, () => void> = { compiler: () => benchCompiler(), log: () => benchEventLog() };
const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(benches)) {
  const b = benches[name];
  if (!b) {
    console.error(`unknown benchmark ${name}; have: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`# ${name}`);
  b();
}
