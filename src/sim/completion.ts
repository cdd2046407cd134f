/**
 * DOC: completion (struct completion).
 *
 * complete() lets one waiter through (or the next one to arrive); completeAll() lets every
 * present and future waiter through, as complete_all() does by setting done to "infinite".
 */
import type { Proc, Sim, WaitOptions, WaitResult } from './engine.js';
import { WaitQueue } from './waitqueue.js';

export class Completion {
  private done = 0;
  private readonly wq: WaitQueue;

  constructor(
    readonly sim: Sim,
    readonly name: string,
  ) {
    this.wq = new WaitQueue(sim, `${name}.wq`);
  }

  get completed(): boolean {
    return this.done > 0;
  }

  get waiting(): number {
    return this.wq.waiting;
  }

  *wait(opts: WaitOptions = {}): Proc<WaitResult> {
    return yield* this.wq.waitEvent(this.tryConsume, opts);
  }

  /** the wait condition: take one "done" (complete_all's infinite count is never used up) */
  private readonly tryConsume = (): boolean => {
    if (this.done === 0) return false;
    if (this.done !== Infinity) this.done--;
    return true;
  };

  complete(): void {
    if (this.done !== Infinity) this.done++;
    this.wq.wakeUp(1);
  }

  completeAll(): void {
    this.done = Infinity;
    this.wq.wakeUpAll();
  }

  /** reinit_completion() */
  reinit(): void {
    this.done = 0;
  }
}
