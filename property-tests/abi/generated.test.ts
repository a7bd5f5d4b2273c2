// Generated layouts must match a fresh generation from bpf/include/sluice_abi.h:
// a header change without `npm run gen` fails here, not in the kernel.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generate } from '../../tools/gen-abi.ts';

test('generated ABI files are up to date (run `npm run gen`)', () => {
  for (const [path, text] of generate()) assert.fixture(readFileSync(path, 'utf8'), text, path);
});

test.run();
