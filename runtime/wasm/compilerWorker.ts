// The compiler's own thread (compilerThread.ts starts it): one Compiler,
// driven by messages, so that a long compile (a Service of 65,535 ports takes
// about a second) leaves the agent's event loop free for /healthz, the
// watches and the metrics. Calls come on two ports: the worker's own, answered
// as messages (batch), and a second one whose caller waits on a shared flag
// (the others, which are short or rare).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Compiler, type CompilerOptions } from './host.ts';
import { dropPages, pageBytes } from './dropPages.ts';
import type { Call, Reply } from './compilerThread.ts';

function run(compiler: Compiler, call: Call): Reply {
  const state = () => ({ problemsVersion: compiler.problemsVersion(), gc: { ...compiler.gc }, memoryBytes: compiler.memoryBytes() });
  try {
    let value: unknown = null;
    // A diff's bytes are the host's own: moved, not cloned.
    if (call.op === 'batch') value = compiler.batch(call.records!).bytes;
    else if (call.op === 'rebuild') value = compiler.rebuild().bytes;
    else if (call.op === 'problems') value = compiler.problems();
    else if (call.op === 'release') value = compiler.releaseFree(dropPages, pageBytes);
    else compiler.collect();
    return { id: call.id, value, state: state() };
  } catch (e) {
    return { id: call.id, error: (e as Error).message, state: state() };
  }
}

const transfer = (r: Reply) => (r.value instanceof Uint8Array ? [r.value.buffer as ArrayBuffer] : []);

function serve(parent: MessagePort): void {
  const { opts, port, flag } = workerData as { opts: CompilerOptions; port: MessagePort; flag: Int32Array };
  const compiler = new Compiler(opts);
  parent.on('message', (call: Call) => {
    const r = run(compiler, call);
    parent.postMessage(r, transfer(r));
  });
  port.on('message', (call: Call) => {
    const r = run(compiler, call);
    port.postMessage(r, transfer(r));
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
}

// Imported on the main thread (to fill the compile cache when an image is built) it does nothing.
if (parentPort) serve(parentPort);
