/**
 * DOC: wait queue with the kernel's wait_event semantics.
 *
 * A sleeper waits for a condition. `wakeUpAll()` makes every sleeper runnable; each re-checks
 * its own condition when it runs and goes back to sleep (with what is left of its timeout) if
 * the condition is still false — this is how module_wq and kmod_wq behave, and why a woken
 * waiter can lose a race to a newcomer. As in ___wait_event, the condition is checked before a
 * pending signal or an expired timeout ends the wait, so a true condition always wins.
 */
import type { Proc, Sim, WaitOptions, WaitResult, WaitSource, Waiter } from './engine.js';
import { WaitEventOp } from './ops.js';

export class WaitQueue implements WaitSource {
  private sleepers: Waiter[] = [];

  constructor(
    readonly sim: Sim,
    readonly name: string,
  ) {}

  /** number of processes asleep on the queue */
  get waiting(): number {
    return this.sleepers.length;
  }

  /**
   * Sleep until `cond()` is true. `cond` may have side effects (atomic_dec_if_positive): it is
   * evaluated exactly when the kernel would evaluate it — once before sleeping and once after
   * every wake-up.
   */
  waitEvent(cond: () => boolean, opts?: WaitOptions): Proc<WaitResult> {
    return new WaitEventOp(this, cond, opts);
  }

  /** @internal a wait_event parks here */
  enqueue(w: Waiter): void {
    this.sleepers.push(w);
  }

  /** wake every sleeper (wake_up_all); returns how many were woken */
  wakeUpAll(): number {
    const ws = this.sleepers;
    if (ws.length === 0) return 0;
    this.sleepers = [];
    let n = 0;
    for (const w of ws) if (this.sim.wake(w)) n++;
    return n;
  }

  /** wake the first `n` sleepers in FIFO order (exclusive wake-up) */
  wakeUp(n = 1): number {
    let woken = 0;
    while (woken < n && this.sleepers.length > 0) {
      const w = this.sleepers.shift()!;
      if (this.sim.wake(w)) woken++;
    }
    return woken;
  }

  cancelWait(w: Waiter): void {
    const i = this.sleepers.indexOf(w);
    if (i >= 0) this.sleepers.splice(i, 1);
  }
}
