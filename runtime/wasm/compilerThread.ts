// A Compiler on a thread of its own (compilerWorker.ts), for the agent: a
// batch is compiled there while this thread answers /healthz, reads the
// watches and serves metrics. batch() is asynchronous; rebuild(), problems()
// and collect() wait for the answer (Atomics.wait), as they are short or rare
// and their callers need the result at once (the event log's snapshot, a
// reconcile). The agent calls them only between batches, when the thread is
// idle. A failure there (a trap in the compiler) is thrown here, as
// Compiler's own would be. releaseFree() is asynchronous too: it waits its
// turn behind any batch under way, and gives the heap's free pages back.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { parseDiff, type MapDiff } from '../maps/mapDiff.ts';
import type { CompilerOptions, HeapRelease, Problem } from './host.ts';

export interface Call { id: number; op: 'batch' | 'rebuild' | 'problems' | 'collect' | 'release'; records?: Uint8Array }

interface State { problemsVersion: number; gc: { runs: number; ms: number }; memoryBytes: number }
export interface Reply { id: number; value?: unknown; error?: string; state: State }

/** How long a call may take before the thread is taken for dead (a waiting call throws; /livez fails on a batch). */
export const COMPILER_CALL_TIMEOUT_MS = 120_000;

export class CompilerThread {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
  private seq = 0;
  private state: State = { problemsVersion: 0, gc: { runs: 0, ms: 0 }, memoryBytes: 0 };
  private dead: Error | undefined;

  constructor(opts: CompilerOptions) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./compilerWorker.ts', import.meta.url), { workerData: { opts, port: port2, flag: this.flag }, transferList: [port2] });
    this.worker.on('message', (r: Reply) => {
      this.state = r.state;
      const p = this.pending.get(r.id)!;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.error !== undefined) p.reject(new Error(r.error));
      else p.resolve(r.value);
    });
    const die = (e: Error) => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`the compiler thread exited (${code})`)));
    this.worker.unref(); // an idle compiler keeps no process alive; a batch being compiled does
  }

  /** Compiles a batch of encoded records on the compiler's thread; the diff is this thread's to keep. */
  async batch(records: Uint8Array): Promise<MapDiff> {
    const own = records.byteOffset === 0 && records.byteLength === records.buffer.byteLength;
    const bytes = own ? records : records.slice();
    return parseDiff(await this.post('batch', bytes) as Uint8Array);
  }

  /** Collects and gives the heap's free pages back (Compiler.releaseFree), after any batch under way. */
  async releaseFree(): Promise<HeapRelease> {
    return await this.post('release') as HeapRelease;
  }

  rebuild(): MapDiff {
    return parseDiff(this.wait('rebuild') as Uint8Array);
  }

  problems(): Problem[] {
    return this.wait('problems') as Problem[];
  }

  collect(): void {
    this.wait('collect');
  }

  /** As of the last answer. */
  problemsVersion(): number {
    return this.state.problemsVersion >>> 0;
  }

  get gc(): { runs: number; ms: number } {
    return this.state.gc;
  }

  memoryBytes(): number {
    return this.state.memoryBytes;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private post(op: Call['op'], records?: Uint8Array): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, op, records } satisfies Call, records ? [records.buffer as ArrayBuffer] : []);
    });
  }

  private wait(op: Call['op']): unknown {
    if (this.dead) throw this.dead;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ id: ++this.seq, op } satisfies Call);
    if (Atomics.wait(this.flag, 0, 0, COMPILER_CALL_TIMEOUT_MS) === 'timed-out') throw new Error(`the compiler thread did not answer ${op} in ${COMPILER_CALL_TIMEOUT_MS / 1000} s`);
    const r = receiveMessageOnPort(this.port)!.message as Reply;
    this.state = r.state;
    if (r.error !== undefined) throw new Error(r.error);
    return r.value;
  }
}
