/**
 * DOC: a pool of N CPUs.
 *
 * A process that computes for d ns holds one CPU for d ns; when all CPUs are busy it queues
 * (FIFO) until one is handed to it. Sleeping holds no CPU. This is what makes the same work take
 * longer on 2 CPUs than on 448, and what spreads a coldplug storm's loads out in time.
 */
import type { Proc, Sim, WaitSource, Waiter } from './engine.js';

export class CpuPool implements WaitSource {
  private queue: Waiter[] = [];
  free: number;
  /** total CPU time handed out, ns */
  busyNs = 0;

  constructor(
    readonly sim: Sim,
    readonly cpus: number,
  ) {
    if (!Number.isSafeInteger(cpus) || cpus < 1) throw new RangeError(`CPU count must be a positive integer, got ${cpus}`);
    this.free = cpus;
  }

  get queued(): number {
    return this.queue.length;
  }

  *compute(ns: number): Proc<void> {
    if (ns <= 0) return;
    if (this.free > 0) {
      this.free--;
    } else {
      const w = this.sim.park({ mode: 'uninterruptible' }, this)!;
      this.queue.push(w);
      yield w; // a CPU was handed to us
    }
    this.busyNs += ns;
    yield this.sim.delay(ns);
    const next = this.queue.shift();
    if (next === undefined) this.free++;
    else this.sim.wake(next);
  }

  cancelWait(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
