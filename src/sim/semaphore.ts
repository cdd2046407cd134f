/**
 * DOC: counting semaphore with FIFO hand-off and timeout (the v6.4 kmod limiter).
 *
 * down() takes a unit if one is free; otherwise it joins a FIFO list. up() gives the unit
 * directly to the oldest waiter (the count is not raised while anyone waits), so a newcomer can
 * never overtake a sleeper. down(timeout) returns 'timeout' when its budget runs out, like
 * down_timeout()'s -ETIME. Waits are uninterruptible by default, as in the kernel.
 */
import type { Cmd, Proc, Sim, WaitOptions, WaitSource, WaitStatus, Waiter } from './engine.js';
import { NO_OPTS, ParkOnceOp } from './ops.js';

/** down(): take a unit at once, or park and return the wake-up's status */
class DownOp extends ParkOnceOp<WaitStatus> {
  constructor(
    private readonly sem: Semaphore,
    private readonly opts: WaitOptions | undefined,
  ) {
    super();
  }

  protected start(): IteratorResult<Cmd, WaitStatus> {
    const sem = this.sem;
    if (sem.tryDown()) return this.finish('ok');
    const w = sem.sim.park(this.opts === undefined ? NO_OPTS : this.opts, sem);
    if (w === null) return this.finish('signal');
    sem.enqueue(w);
    return this.yieldCmd(w);
  }

  protected resumed(status: WaitStatus): WaitStatus {
    return status;
  }
}

export class Semaphore implements WaitSource {
  private queue: Waiter[] = [];

  constructor(
    readonly sim: Sim,
    readonly name: string,
    public count: number,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  tryDown(): boolean {
    if (this.count > 0 && this.queue.length === 0) {
      this.count--;
      return true;
    }
    return false;
  }

  down(opts?: WaitOptions): Proc<WaitStatus> {
    return new DownOp(this, opts);
  }

  /** @internal down() parks here */
  enqueue(w: Waiter): void {
    this.queue.push(w);
  }

  up(): void {
    const w = this.queue.shift();
    if (w === undefined) this.count++;
    else this.sim.wake(w);
  }

  cancelWait(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
