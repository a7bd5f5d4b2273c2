// A key file for signing event logs (--record-key) and checking them (--key):
// its bytes are the key, as they are, newline and all.
import { readFileSync } from 'node:fs';
import { UsageError } from './io.ts';

const MIN_BYTES = 16;

export function readKey(path: string, flag: string): Uint8Array {
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  if (key.length < MIN_BYTES) throw new UsageError(`${flag}: ${path} holds ${key.length} bytes; a key needs at least ${MIN_BYTES} (head -c 32 /dev/urandom > ${path})`);
  return key;
}
