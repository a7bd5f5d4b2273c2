// The HTTP watch protocol (a chunked stream of JSON lines, one event each),
// as client-node's Watch speaks it: timers that abort a connect that takes
// too long and a watch silent too long with a TimeoutError, done called once
// (null when the server ends the stream, else the error), a line that does
// not parse skipped. Written out on node:http (apiGet.ts) rather than
// through that Watch, which reads the body as fetch's web stream, adapts it
// back to a Node stream and splits it with readline: those layers cost more
// of the agent's CPU per change than normalizing the object. Here each chunk
// is split where it arrives.
import { apiGet, timeoutError } from './apiGet.ts';
import type { ApiAccess } from './kubeConfig.ts';
import { http } from './nodeHttp.ts';

export type WatchEvent = (phase: string, obj: unknown) => void;

/** Watches path with query; resolves once the response has begun (or failed) with the controller that ends it. */
export async function watchStream(access: ApiAccess, path: string, query: { [k: string]: string }, timeouts: { connectMs: number; silenceMs: number },
  onEvent: WatchEvent, done: (err: unknown) => void): Promise<AbortController> {
  const controller = new AbortController();
  let timedOut = false, finished = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(timeoutError());
    }, ms);
    timer.unref();
  };
  const finish = (err: unknown) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    controller.abort();
    done(err && timedOut ? timeoutError() : err);
  };
  controller.signal.addEventListener('abort', () => finish(controller.signal.reason), { once: true });
  arm(timeouts.connectMs);
  try {
    const res = await apiGet(access, path, { ...query, watch: 'true' }, controller.signal);
    if (res.statusCode !== 200) {
      res.resume();
      finish(Object.assign(new Error(http.STATUS_CODES[res.statusCode!] ?? 'Internal Server Error'), { statusCode: res.statusCode }));
      return controller;
    }
    arm(timeouts.silenceMs); // the connect is over: from here on it times silence
    const lines = lineSplitter(onEvent);
    res.on('data', (chunk: Buffer) => {
      if (finished) return;
      timer!.refresh(); // the one timer re-armed: no new one per chunk
      lines.write(chunk);
    });
    res.on('end', () => {
      if (!finished) lines.end();
      finish(null);
    });
    res.on('error', finish);
  } catch (err) {
    finish(err);
  }
  return controller;
}

/** Bytes in, one event per complete line out (a character cut between chunks is joined first). */
function lineSplitter(onEvent: WatchEvent): { write(chunk: Uint8Array): void; end(): void } {
  const decoder = new TextDecoder();
  let rest = '';
  const line = (text: string) => {
    if (text.trim() === '') return;
    try {
      const e = JSON.parse(text) as { type: string; object: unknown };
      onEvent(e.type, e.object);
    } catch {
      // a line that is not an event is skipped, as client-node's Watch does
    }
  };
  return {
    write(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; from = nl + 1, nl = text.indexOf('\n', from)) {
        const whole = rest + text.slice(from, nl);
        rest = '';
        line(whole);
      }
      rest += text.slice(from);
    },
    end() {
      line(rest + decoder.decode());
      rest = '';
    },
  };
}
