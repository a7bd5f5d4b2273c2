// The HTTP watch protocol (a chunked stream of JSON lines, one event each),
// as client-node's Watch speaks it: an inactivity timer that aborts a quiet
// watch (and the connect) with a TimeoutError, done called once (null when
// the server ends the stream, else the error), a line that does not parse
// skipped. Written out on undici's request rather than through that Watch,
// which reads the body as fetch's web stream, adapts it back to a Node stream
// and splits it with readline: those layers were a quarter of the CPU the
// agent spends on a change.
import { STATUS_CODES } from 'node:http';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { request } from 'undici';
import type { ApiAccess } from './kubeConfig.ts';

export type WatchEvent = (phase: string, obj: unknown) => void;

/** Watches path with query; returns the controller that ends it (done is then called with the abort's error). */
export async function watchStream(access: ApiAccess, path: string, query: { [k: string]: string }, timeoutMs: number,
  onEvent: WatchEvent, done: (err: unknown) => void): Promise<AbortController> {
  const cluster = access.getCurrentCluster();
  if (!cluster) throw new Error('No currently active cluster');
  const url = new URL(cluster.server + path);
  url.searchParams.set('watch', 'true');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const controller = new AbortController();
  let timedOut = false, finished = false;
  let timer: NodeJS.Timeout | undefined;
  const resetTimer = () => {
    // refresh() re-arms the one timer: a change costs no new timer object.
    if (timer) return void timer.refresh();
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    timer.unref();
  };
  const finish = (err: unknown) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    controller.abort();
    done(err && timedOut ? new DOMException('The operation was aborted due to timeout', 'TimeoutError') : err);
  };
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await access.applySecurityAuthentication(ctx);
  try {
    resetTimer();
    // No body timeout: a watch is quiet for long stretches by design, and while one
    // is armed undici wakes the process every 499 ms to age it. The timer above ends a quiet watch.
    const res = await request(url, { method: 'GET', headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher(), signal: controller.signal, bodyTimeout: 0 });
    if (res.statusCode !== 200) {
      res.body.resume();
      throw Object.assign(new Error(STATUS_CODES[res.statusCode] ?? 'Internal Server Error'), { statusCode: res.statusCode });
    }
    resetTimer(); // the connect is over: from here on it times inactivity
    let rest = '';
    const line = (text: string) => {
      try {
        const e = JSON.parse(text) as { type: string; object: unknown };
        onEvent(e.type, e.object);
      } catch {
        // a line that is not an event is skipped, as client-node's Watch does
      }
    };
    res.body.setEncoding('utf8');
    res.body.on('data', (chunk: string) => {
      resetTimer();
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; from = nl + 1, nl = chunk.indexOf('\n', from)) {
        const text = rest + chunk.slice(from, nl);
        rest = '';
        if (text.trim() !== '') line(text);
      }
      rest += chunk.slice(from);
    });
    res.body.on('end', () => {
      if (rest.trim() !== '') line(rest);
      rest = '';
    });
    res.body.on('error', finish);
    res.body.on('close', () => finish(null));
  } catch (err) {
    finish(err);
  }
  return controller;
}
