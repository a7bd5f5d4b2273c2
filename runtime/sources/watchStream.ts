// The HTTP watch protocol (a chunked stream of JSON lines, one event each),
// as client-node's Watch speaks it: an inactivity timer that aborts a quiet
// watch (and the connect) with a TimeoutError, done called once (null when
// the server ends the stream, else the error), a line that does not parse
// skipped. Written out on undici's dispatcher rather than through that Watch,
// which reads the body as fetch's web stream, adapts it back to a Node stream
// and splits it with readline: those layers cost more of the agent's CPU per
// change than normalizing the object. Here each chunk undici parses is split
// where it arrives.
import { STATUS_CODES } from 'node:http';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import type { ApiAccess } from './kubeConfig.ts';

export type WatchEvent = (phase: string, obj: unknown) => void;

/** Watches path with query; resolves once the response has begun (or failed) with the controller that ends it. */
export async function watchStream(access: ApiAccess, path: string, query: { [k: string]: string }, timeoutMs: number,
  onEvent: WatchEvent, done: (err: unknown) => void): Promise<AbortController> {
  const cluster = access.getCurrentCluster();
  if (!cluster) throw new Error('No currently active cluster');
  const url = new URL(cluster.server + path);
  url.searchParams.set('watch', 'true');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await access.applySecurityAuthentication(ctx);

  const controller = new AbortController();
  let timedOut = false, finished = false;
  let timer: NodeJS.Timeout | undefined;
  const resetTimer = () => {
    if (timer) return void timer.refresh(); // the one timer re-armed: no new one per chunk
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    timer.unref();
  };
  let begun!: () => void;
  const started = new Promise<void>((r) => (begun = r));
  const finish = (err: unknown) => {
    begun();
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    controller.abort();
    done(err && timedOut ? new DOMException('The operation was aborted due to timeout', 'TimeoutError') : err);
  };

  const lines = lineSplitter(onEvent);
  let request: Dispatcher.DispatchController | undefined;
  controller.signal.addEventListener('abort', () => {
    request?.abort(controller.signal.reason);
    finish(controller.signal.reason);
  }, { once: true });
  resetTimer();
  try {
    // No body timeout: a watch is quiet for long stretches by design, and while one
    // is armed undici wakes the process every 499 ms to age it. The timer above ends a quiet watch.
    (ctx.getDispatcher() ?? getGlobalDispatcher()).dispatch({
      origin: url.origin, path: url.pathname + url.search, method: 'GET', headers: ctx.getHeaders(), bodyTimeout: 0,
    }, {
      onRequestStart: (c) => {
        request = c;
        if (controller.signal.aborted) c.abort(controller.signal.reason);
      },
      onResponseStart: (_c, status) => {
        if (status !== 200) return finish(Object.assign(new Error(STATUS_CODES[status] ?? 'Internal Server Error'), { statusCode: status }));
        resetTimer(); // the connect is over: from here on it times inactivity
        begun();
      },
      onResponseData: (_c, chunk) => {
        if (finished) return;
        resetTimer();
        lines.write(chunk);
      },
      onResponseEnd: () => {
        if (!finished) lines.end();
        finish(null);
      },
      onResponseError: (_c, err) => finish(err),
    });
  } catch (err) {
    finish(err);
  }
  await started;
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
