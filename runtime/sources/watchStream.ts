// The HTTP watch protocol (a chunked stream of JSON lines, one event each, or
// of length-prefixed protobuf frames where asked for and served), as
// client-node's Watch speaks it: timers that abort a connect that takes
// too long and a watch silent too long with a TimeoutError, done called once
// (null when the server ends the stream, else the error), a line that does
// not parse skipped (a frame that does not decode, too). Written out on
// node:http (apiGet.ts) rather than through that Watch, which reads the
// body as fetch's web stream, adapts it back to a Node stream and splits it
// with readline: those layers cost more of the agent's CPU per change than
// normalizing the object. Here each chunk is split where it arrives.
import { apiGet, timeoutError } from './apiGet.ts';
import type { ApiAccess } from './kubeConfig.ts';
import { http } from './nodeHttp.ts';
import { decodeWatchEvent } from './protoDecode.ts';
import { isProtobuf } from './protoSchema.ts';

export type WatchEvent = (phase: string, obj: unknown) => void;

export interface WatchOptions { connectMs: number; silenceMs: number; accept?: string }

/** Watches path with query; resolves once the response has begun (or failed) with the controller that ends it. */
export async function watchStream(access: ApiAccess, path: string, query: { [k: string]: string }, opts: WatchOptions,
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
  arm(opts.connectMs);
  try {
    const res = await apiGet(access, path, { ...query, watch: 'true' }, controller.signal, opts.accept);
    if (res.statusCode !== 200) {
      res.resume();
      finish(Object.assign(new Error(http.STATUS_CODES[res.statusCode!] ?? 'Internal Server Error'), { statusCode: res.statusCode }));
      return controller;
    }
    arm(opts.silenceMs); // the connect is over: from here on it times silence
    const lines = isProtobuf(res.headers['content-type']) ? frameSplitter(onEvent) : lineSplitter(onEvent);
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

/** Bytes in, one event per complete frame out: a 4-byte big-endian length, then a bare WatchEvent around an enveloped object (protoDecode.ts). */
function frameSplitter(onEvent: WatchEvent): { write(chunk: Uint8Array): void; end(): void } {
  let rest: Buffer = Buffer.alloc(0);
  const frame = (bytes: Uint8Array) => {
    let e: { type: string; object: unknown };
    try {
      e = decodeWatchEvent(bytes);
    } catch {
      return; // as a line that is not an event
    }
    onEvent(e.type, e.object);
  };
  return {
    write(chunk) {
      let buf = rest.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([rest, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const end = 4 + buf.readUInt32BE(0);
        frame(buf.subarray(4, end));
        buf = buf.subarray(end);
      }
      rest = buf;
    },
    end() {
      rest = Buffer.alloc(0); // a frame cut short by the end of the stream is not an event
    },
  };
}
