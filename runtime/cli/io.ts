// What a command may touch of the process, so commands run in tests too.
import { closeSync, fstatSync, openSync } from 'node:fs';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** A mistake in the command line: exit status 2, one line and the usage text. */
export class UsageError extends Error {}

/** Input files must be there and readable: one that is not is a usage error, not an empty cluster. */
export function checkInputFiles(files: readonly string[]): void {
  for (const f of files) {
    try {
      const fd = openSync(f, 'r');
      const dir = fstatSync(fd).isDirectory();
      closeSync(fd);
      if (dir) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      throw new UsageError(`cannot read ${f}: ${why}`);
    }
  }
}
