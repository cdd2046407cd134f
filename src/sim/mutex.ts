/**
 * DOC: mutex with FIFO hand-off (module_mutex, test_kmod's config_mutex, …).
 *
 * unlock() hands the lock straight to the oldest waiter, so nobody can barge in between; a
 * lock() may be interruptible or killable like mutex_lock_interruptible/_killable.
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

export class Mutex implements WaitSource {
  owner: Process | null = null;
  private queue: Waiter[] = [];

  constructor(
    readonly sim: Sim,
    readonly name: string,
  ) {}

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
    const next = this.queue.shift();
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
  }
}
