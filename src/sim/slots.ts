/**
 * DOC: slot counter whose release wakes everyone (the v4.13–v6.3 kmod limiter).
 *
 * A counter of free slots (kmod_concurrent_max). acquire() is "decrement if positive"; if that
 * fails the caller sleeps on a wait queue and retries the decrement on every wake-up. release()
 * increments and wakes all sleepers, who race for the slot; a newcomer calling acquire() before
 * they run takes it first (barging), and the losers sleep again with the rest of their budget.
 */
import type { Proc, Sim, WaitOptions, WaitResult } from './engine.js';
import { WaitQueue } from './waitqueue.js';

export class SlotCounter {
  readonly wq: WaitQueue;

  constructor(
    readonly sim: Sim,
    readonly name: string,
    public free: number,
  ) {
    this.wq = new WaitQueue(sim, `${name}.wq`);
  }

  get waiting(): number {
    return this.wq.waiting;
  }

  /** atomic_dec_if_positive() >= 0 */
  tryTake(): boolean {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return false;
  }

  acquire(opts?: WaitOptions): Proc<WaitResult> {
    return this.wq.waitEvent(this.take, opts);
  }

  private readonly take = (): boolean => this.tryTake();

  release(): void {
    this.free++;
    this.wq.wakeUpAll();
  }
}
