/**
 * DOC: mutex (module_mutex, test_kmod's config_mutex, …), with FIFO hand-off or stealable.
 *
 * By default unlock() hands the lock straight to the oldest waiter, so nobody can barge in
 * between. With `wakeToRun` it follows the kernel's mutex since 4.10 instead: unlock() leaves
 * the lock free and wakes the first waiter, which needs wakeToRun() to run before it can take it; a
 * task that calls lock() in that window takes the free lock first (the kernel's optimistic
 * spinners and newcomers). A first waiter that ran and found the lock taken sets the hand-off
 * flag (MUTEX_FLAG_HANDOFF), and the next unlock() gives the lock to it directly: so each waiter
 * is overtaken by at most one newcomer once it is first in line. A lock() may be interruptible
 * or killable like mutex_lock_interruptible/_killable.
 */
import type { Cmd, Proc, Process, Sim, WaitMode, WaitSource, WaitStatus, Waiter } from './engine.js';
import { ParkOnceOp } from './ops.js';

/** lock(): take a free lock at once, or park until unlock() hands it over */
class LockOp extends ParkOnceOp<WaitStatus> {
  constructor(
    private readonly m: Mutex,
    private readonly mode: WaitMode,
  ) {
    super();
  }

  protected start(): IteratorResult<Cmd, WaitStatus> {
    const m = this.m;
    const me = m.sim.current;
    if (me === null) throw new Error(`${m.name}: lock() outside a process`);
    if (m.owner === me) throw new Error(`${m.name}: recursive lock by ${me.name}`);
    if (m.owner === null) {
      m.owner = me;
      return this.finish('ok');
    }
    const w = m.sim.park({ mode: this.mode }, m);
    if (w === null) return this.finish('signal');
    m.enqueue(w);
    return this.yieldCmd(w);
  }

  protected resumed(status: WaitStatus): WaitStatus {
    return status;
  }
}

export interface MutexOptions {
  /** a woken first waiter's wake→run time, ns, drawn per wake; makes the lock stealable (see DOC) */
  wakeToRun?: () => number;
}

export class Mutex implements WaitSource {
  owner: Process | null = null;
  private queue: Waiter[] = [];
  private readonly wakeToRun: (() => number) | null;
  /** MUTEX_FLAG_HANDOFF: the first waiter found the lock stolen; the next unlock() is its */
  private handoff = false;
  /** the first waiter has been woken and has not run yet */
  private wakePending = false;

  constructor(
    readonly sim: Sim,
    readonly name: string,
    opts: MutexOptions = {},
  ) {
    this.wakeToRun = opts.wakeToRun ?? null;
  }

  get locked(): boolean {
    return this.owner !== null;
  }

  get waiting(): number {
    return this.queue.length;
  }

  tryLock(): boolean {
    if (this.owner !== null) return false;
    this.owner = this.sim.current;
    return true;
  }

  /** 'ok' once the caller owns the lock; 'signal' if an interruptible/killable lock was interrupted */
  lock(mode: WaitMode = 'uninterruptible'): Proc<WaitStatus> {
    return new LockOp(this, mode);
  }

  /** @internal lock() parks here */
  enqueue(w: Waiter): void {
    this.queue.push(w);
  }

  unlock(): void {
    if (this.owner === null) throw new Error(`${this.name}: unlock of an unlocked mutex`);
    if (this.wakeToRun === null || this.handoff) {
      this.handoff = false;
      this.handTo(this.queue.shift());
      return;
    }
    this.owner = null;
    if (this.queue.length === 0 || this.wakePending) return;
    this.wakePending = true;
    this.sim.at(this.sim.now + this.wakeToRun(), this.firstRuns);
  }

  /** the woken first waiter runs: it takes the lock if still free, else asks for the hand-off */
  private readonly firstRuns = (): void => {
    this.wakePending = false;
    if (this.queue.length === 0) return;
    if (this.owner === null) this.handTo(this.queue.shift());
    else this.handoff = true;
  };

  private handTo(next: Waiter | undefined): void {
    if (next === undefined) {
      this.owner = null;
      return;
    }
    this.owner = next.proc as Process; // every Waiter parks one of the engine's processes
    this.sim.wake(next);
  }

  cancelWait(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.queue.length === 0) this.handoff = false;
  }
}
