// The agent's log: one JSON object per line on stderr, as klog's JSON format
// and every log collector read them: {"level","msg","ts",...fields}. Fields
// come after the fixed keys, in the order given; a field that is undefined is
// left out. Nothing is buffered: a line is written whole, or not at all.

export type Level = 'info' | 'warn' | 'error';
export type Fields = { readonly [key: string]: unknown };

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** write gets one line, newline included; now gives the time stamped as "ts" (ISO 8601). */
export function jsonLogger(write: (line: string) => void, now: () => number = Date.now): Logger {
  const log = (level: Level) => (msg: string, fields: Fields = {}) =>
    write(`${JSON.stringify({ level, msg, ts: new Date(now()).toISOString(), ...fields })}\n`);
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

