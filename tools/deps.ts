// `node tools/deps.ts missing NEED...`: the Debian packages that provide what
// those needs (build, run, test, bench) require and this machine lacks, one
// line, space-separated; `list NEED...`: all of them. The install scripts
// (tools/system-deps.sh, bench/datapath/deps.sh) read runtime/exec/programs.ts
// through this, so the list of programs has one place.
import { existsSync } from 'node:fs';
import { has } from '../runtime/exec/command.ts';
import { dependenciesFor, type Need, type Program } from '../runtime/exec/programs.ts';

const NEEDS: readonly Need[] = ['build', 'run', 'test', 'bench'];
const [what, ...needs] = process.argv.slice(2);
if ((what !== 'missing' && what !== 'list') || needs.length === 0 || needs.some((n) => !NEEDS.includes(n as Need))) {
  console.error(`usage: node tools/deps.ts missing|list ${NEEDS.join('|')}...`);
  process.exit(2);
}
const present = (p: string) => (p.startsWith('/') ? existsSync(p) : has(p as Program));
const packages = dependenciesFor(needs as Need[])
  .filter((d) => d.package !== undefined && (what === 'list' || !present(d.program)))
  .map((d) => d.package!);
console.log([...new Set(packages)].sort().join(' '));
