/**
 * DOC: completion (struct completion).
 *
 * complete() lets one waiter through (or the next one to arrive); completeAll() lets every
 * present and future waiter through, as complete_all() does by setting done to "infinite".
 *
 * A completion is a wait queue plus a count: wait() is wait_event(take one "done"), complete() an
 * exclusive wake-up of the first sleeper, completeAll() a wake-up of all. The sleepers are kept
 * here rather than in a separate WaitQueue (same list, same order, one object less per completion).
 */
import type { Proc, Sim, WaitOptions, WaitResult, WaitSource, Waiter } from './engine.js';
import { WaitEventOp } from './ops.js';

export class Completion implements WaitSource {
  private done = 0;
  /**
   * The sleepers in FIFO order: the oldest in `first`, the others in `rest` (most completions
   * have one sleeper at most, which then costs no array operations). first === null ⇒ rest empty.
   */
  private first: Waiter | null = null;
  private rest: Waiter[] | null = null;

  constructor(
    readonly sim: Sim,
    readonly name: string,
  ) {}

  get completed(): boolean {
    return this.done > 0;
  }

  get waiting(): number {
    if (this.first === null) return 0;
    return this.rest === null ? 1 : 1 + this.rest.length;
  }

  wait(opts?: WaitOptions): Proc<WaitResult> {
    return new WaitEventOp(this, null, opts); // condition: tryConsume()
  }

  /** @internal the wait condition: take one "done" (complete_all's infinite count is never used up) */
  tryConsume(): boolean {
    if (this.done === 0) return false;
    if (this.done !== Infinity) this.done--;
    return true;
  }

  /** @internal a waiter parks here */
  enqueue(w: Waiter): void {
    if (this.first === null) this.first = w;
    else (this.rest ??= []).push(w);
  }

  /** remove and return the oldest sleeper */
  private shiftSleeper(): Waiter | null {
    const w = this.first;
    const rest = this.rest;
    this.first = rest !== null && rest.length > 0 ? rest.shift()! : null;
    return w;
  }

  /** @internal a waiter timed out or was signalled */
  cancelWait(w: Waiter): void {
    if (this.first === w) {
      this.shiftSleeper();
      return;
    }
    const rest = this.rest;
    if (rest === null) return;
    const i = rest.indexOf(w);
    if (i >= 0) rest.splice(i, 1);
  }

  complete(): void {
    if (this.done !== Infinity) this.done++;
    // wake the first sleeper that is still asleep (exclusive wake-up)
    while (this.first !== null) {
      if (this.sim.wake(this.shiftSleeper()!)) break;
    }
  }

  completeAll(): void {
    this.done = Infinity;
    const first = this.first;
    if (first === null) return;
    const rest = this.rest;
    this.first = null;
    this.rest = null;
    this.sim.wake(first);
    if (rest !== null) for (const w of rest) this.sim.wake(w);
  }

  /** reinit_completion() */
  reinit(): void {
    this.done = 0;
  }
}
