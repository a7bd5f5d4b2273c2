// What a command may touch of the process, so commands run in tests too.
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** A mistake in the command line: exit status 2, one line and the usage text. */
export class UsageError extends Error {}
