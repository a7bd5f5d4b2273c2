// The pieces of RxJS the runtime uses, each from its own module. rxjs's index
// loads 223 of its modules where these need 54: the agent's modules loaded in
// 179-194 ms of CPU through the index and in 142-146 ms through these (warm
// compile cache, three runs each, interleaved), at every start. rxjs 7
// exports these paths ("./internal/*" in its package.json) and the version is
// pinned; a rename in an upgrade fails the type check here.
export { Observable } from 'rxjs/internal/Observable';
export type { Subscription } from 'rxjs/internal/Subscription';
export type { OperatorFunction, SchedulerLike } from 'rxjs/internal/types';
export { asapScheduler } from 'rxjs/internal/scheduler/asap';
export { asyncScheduler } from 'rxjs/internal/scheduler/async';
export { defer } from 'rxjs/internal/observable/defer';
export { from } from 'rxjs/internal/observable/from';
export { filter } from 'rxjs/internal/operators/filter';
export { map } from 'rxjs/internal/operators/map';
export { tap } from 'rxjs/internal/operators/tap';
