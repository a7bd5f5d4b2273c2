// Gives the memory a full sync took back to the system. The sync parses the
// whole cluster (tens of MB of JSON), and V8 grows its heap to hold it: the
// young generation to its largest (128 MiB committed), the old one to the
// sync's peak. Neither shrinks by itself, since the memory reducer that
// would do it is off (run.ts: its collections came amid the changes), so the
// agent would hold twice its live heap for good. One last-resort collection
// (what V8 does under memory pressure: a full, compacting collection that
// shrinks the young generation) right after the sync gives it back, once,
// for about 0.1 s of CPU. The response bodies the sync read were malloc'd
// outside V8's heap: freed, glibc keeps their pages (60 MiB after a sync of
// 10,000 Pods) until malloc_trim hands them back.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { libc } from '../bpf/native.ts';

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export function releaseHeap(): void {
  setFlagsFromString('--expose-gc'); // only a fresh context gets the gc function; this one stays as it was
  const gc = runInNewContext('gc') as Gc;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  libc.mallocTrim(0);
}
