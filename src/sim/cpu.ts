/**
 * DOC: a pool of N CPUs.
 *
 * A process that computes for d ns holds one CPU for d ns of CPU time; when all CPUs are busy it
 * queues (FIFO) until one is handed to it. Sleeping holds no CPU. This is what makes the same
 * work take longer on 2 CPUs than on 448, and what spreads a coldplug storm's loads out in time.
 *
 * With a time slice (`sliceNs`), the pool is round-robin like the kernel's fair scheduler: when
 * someone is queued, the burst that has run longest is preempted once it has had a full slice
 * and goes to the back of the queue. So a 2 ms kthread creation is not stuck behind fifty 50 ms
 * bursts, as it would be with run-to-completion (the default, `sliceNs` = Infinity). A burst
 * costs no extra events unless it is actually preempted.
 *
 * Which of several queued processes gets a freed CPU is FIFO unless a CpuPlacement (the
 * explorer's chooser) picks: the CPUs are interchangeable here, so the order in which runnable
 * processes get CPUs is the whole of "which CPU runs what".
 */
import type { Proc, Process, Sim, WaitSource, WaitStatus, Waiter } from './engine.js';

/** picks which of the n queued processes (FIFO order, 0 = first) gets the CPU just freed */
export interface CpuPlacement {
  place(n: number, who: (i: number) => Process): number;
}

export interface CpuPoolOptions {
  /** round-robin time slice in ns (default Infinity: every burst runs to completion) */
  sliceNs?: number;
  /** who gets a freed CPU when two or more wait (default FIFO) */
  placement?: CpuPlacement;
}

/** a burst on a CPU: parked with a timeout of its remaining work, woken early to preempt it */
interface Running {
  w: Waiter;
  start: number;
}

/** running bursts are woken only by preemption; their timeout is the burst's end */
const RUNNING: WaitSource = { cancelWait: () => {} };

export class CpuPool implements WaitSource {
  private queue: Waiter[] = [];
  private running: Running[] = [];
  /** time of the pending preemption check, if one is scheduled */
  private preemptAt = Infinity;
  free: number;
  /** total CPU time handed out, ns */
  busyNs = 0;
  /** bursts preempted so far */
  preemptions = 0;
  readonly sliceNs: number;
  private readonly placement: CpuPlacement | null;

  constructor(
    readonly sim: Sim,
    readonly cpus: number,
    opts: CpuPoolOptions = {},
  ) {
    if (!Number.isSafeInteger(cpus) || cpus < 1) throw new RangeError(`CPU count must be a positive integer, got ${cpus}`);
    this.free = cpus;
    this.sliceNs = opts.sliceNs ?? Infinity;
    this.placement = opts.placement ?? null;
    if (!(this.sliceNs > 0)) throw new RangeError(`time slice must be positive, got ${this.sliceNs}`);
  }

  get queued(): number {
    return this.queue.length;
  }

  *compute(ns: number): Proc<void> {
    let left = Math.round(ns);
    while (left > 0) {
      if (this.free > 0 && this.queue.length === 0) {
        this.free--;
      } else {
        const w = this.sim.park({ mode: 'uninterruptible' }, this)!;
        this.queue.push(w);
        this.schedulePreemption();
        yield w; // a CPU was handed to us
      }
      const start = this.sim.now;
      const w = this.sim.park({ mode: 'uninterruptible', timeoutNs: left }, RUNNING)!;
      const run: Running = { w, start };
      this.running.push(run);
      if (this.queue.length > 0) this.schedulePreemption();
      const status = (yield w) as WaitStatus;
      this.running.splice(this.running.indexOf(run), 1);
      const ran = this.sim.now - start;
      this.busyNs += ran;
      left = status === 'timeout' ? 0 : left - ran;
      const next = this.placement === null || this.queue.length < 2 ? this.queue.shift() : this.takePlaced(this.placement);
      if (next === undefined) this.free++;
      else this.sim.wake(next);
      // preempted: loop and queue again behind whoever was waiting
    }
  }

  /** the queued waiter the placement picks, out of the queue */
  private takePlaced(pl: CpuPlacement): Waiter {
    const q = this.queue;
    const k = pl.place(q.length, (i) => q[i]!.proc as Process);
    if (!Number.isSafeInteger(k) || k < 0 || k >= q.length) throw new RangeError(`CPU placement chose ${k} of ${q.length}`);
    return q.splice(k, 1)[0]!;
  }

  /** preempt the longest-running burst once it has had its slice, while anyone is queued */
  private schedulePreemption(): void {
    if (this.sliceNs === Infinity || this.queue.length === 0 || this.running.length === 0) return;
    let oldest = this.running[0]!;
    for (const r of this.running) if (r.start < oldest.start) oldest = r;
    const due = oldest.start + this.sliceNs;
    if (due <= this.sim.now) {
      this.preemptions++;
      this.sim.wake(oldest.w);
      return;
    }
    if (due >= this.preemptAt) return;
    this.preemptAt = due;
    this.sim.at(due, () => {
      if (this.preemptAt !== due) return;
      this.preemptAt = Infinity;
      this.schedulePreemption();
    });
  }

  cancelWait(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
