/**
 * DOC: mutex with FIFO hand-off (module_mutex, test_kmod's config_mutex, …).
 *
 * unlock() hands the lock straight to the oldest waiter, so nobody can barge in between; a
 * lock() may be interruptible or killable like mutex_lock_interruptible/_killable.
 */
import type { Proc, Process, Sim, WaitMode, WaitSource, WaitStatus, Waiter } from './engine.js';

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
  *lock(mode: WaitMode = 'uninterruptible'): Proc<WaitStatus> {
    const me = this.sim.current;
    if (me === null) throw new Error(`${this.name}: lock() outside a process`);
    if (this.owner === me) throw new Error(`${this.name}: recursive lock by ${me.name}`);
    if (this.owner === null) {
      this.owner = me;
      return 'ok';
    }
    const w = this.sim.park({ mode }, this);
    if (w === null) return 'signal';
    this.queue.push(w);
    return (yield w) as WaitStatus;
  }

  unlock(): void {
    if (this.owner === null) throw new Error(`${this.name}: unlock of an unlocked mutex`);
    const next = this.queue.shift();
    if (next === undefined) {
      this.owner = null;
      return;
    }
    this.owner = next.proc;
    this.sim.wake(next);
  }

  cancelWait(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
