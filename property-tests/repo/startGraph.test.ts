// What the agent loads before it lists: the run command's modules and the
// agent's, by their static imports. The other commands' code stays out: a
// run that imported `apply` for its flags loaded 78 of the repository's
// modules before the agent's own, where 16 do, and 60 ms more CPU at every
// start. The kernel's side loads by import() when the agent has no --dry-run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadedWith, loadsOf } from './importGraph.ts';

test('loadsOf finds static and side-effect imports, and neither type-only imports nor import()', () => {
  const text = `import { a, type A } from './a.ts';\nimport type {\n  B,\n} from '../b/b.ts';\nexport { c } from "./c.ts";\nimport './d.ts';\n` +
    `const e = await import('../e.ts');\nexport type { F } from './f.ts';\nimport koffi from 'koffi';\nexport * from './g.ts';`;
  assert.equal(loadsOf('runtime/x/f.ts', text), ['runtime/x/a.ts', 'runtime/x/c.ts', 'runtime/x/d.ts', 'runtime/x/g.ts']);
});

const START = ['runtime/cli/main.ts', 'runtime/cli/run.ts', 'runtime/agent/agent.ts'];

test('the agent\'s start loads no other command, no snapshot reader and not the kernel loader', () => {
  const loaded = loadedWith(START);
  assert.ok(loaded.has('runtime/cli/datapathFlags.ts') && loaded.has('runtime/sources/kube.ts'), 'the graph is the agent\'s');
  for (const f of ['runtime/cli/apply.ts', 'runtime/cli/compile.ts', 'runtime/cli/replay.ts', 'runtime/sources/snapshot.ts', 'runtime/bpf/loader.ts', 'runtime/dataplane/kernelDataplane.ts']) {
    assert.not.ok(loaded.has(f), `${f} is loaded at the agent's start`);
  }
});

test.run();
