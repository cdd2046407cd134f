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
 * Speed (compute is the innermost step of nearly every event of a storm): `compute()` is a
 * hand-written generator (ComputeOp) rather than a generator function, and it is a wait op the
 * engine drives itself (ops.ts): a CPU handed over, or a preempted burst queueing again, does not
 * resume the caller's chain of `yield*` frames; only the end of the work does. The bursts on the
 * CPUs are a list in start order (a burst is added when it starts, at the current time), so the
 * longest-running one is its head and a burst leaves it in O(1). A preemption by the timer when
 * nothing else is due at that instant runs the preempted burst's step and the step of the one
 * it hands the CPU to inside the timer's event (switchNow), in the order their two wake-up events
 * would have run them: one event per time slice instead of three, the same schedule (not under
 * the explorer's TieBreak or CpuPlacement, which see those events as choices); in the usual case
 * (the preempted burst's end-of-burst timeout was only reserved) those two steps are written out
 * (rotate), a few field writes per slice. Two more events
 * per slice are gone the same way: a burst that starts with someone queued and has more than a
 * slice of work only reserves its end-of-burst timeout's place in the event order (it is armed
 * there if the chain of preemptions breaks, checkChain; else the preemption comes first and the
 * timeout would have died unfired), and the timer whose work arms the next timer runs that one
 * in place when it would be the very next event (onTimer, Sim.advanceTo).
 *
 * Slices are still taken one at a time, not whole rounds at once by arithmetic: between two
 * events that are not the pool's, the selftest's pool (2 CPUs, ~50 bursts) runs ~4 slices on
 * average, under 7% of them in stretches of a whole round or more; and a jump across such an
 * event would have to give the end-of-burst timeouts reserved at the slices it skips their places
 * among the events pushed meanwhile, which only the engine knows.
 *
 * Which of several queued processes gets a freed CPU is FIFO unless a CpuPlacement (the
 * explorer's chooser) picks: the CPUs are interchangeable here, so the order in which runnable
 * processes get CPUs is the whole of "which CPU runs what".
 */
import type { Cmd, Proc, Process, Sim, WaitSource, WaitStatus, Waiter } from './engine.js';

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

/** running bursts are woken only by preemption; their timeout is the burst's end */
const RUNNING: WaitSource = { cancelWait: () => {} };

/** what every finished compute returns (it returns nothing; never written to) */
const DONE: IteratorResult<Cmd, void> = Object.freeze({ done: true, value: undefined }) as IteratorResult<Cmd, void>;

const S_START = 0;
/** queued for a CPU, or running a burst: the engine hands the wake-up to recheck() */
const S_QUEUED = 1;
const S_RUNNING = 2;
/** the work is done (or the body threw, kept in err): next() hands out the end */
const S_RESULT = 3;
const S_CLOSED = 4;

const NO_ERR = Symbol('no error');

/**
 * One `compute(ns)`: the same steps, in the same order, at the same moments, as the generator
 *
 *   left = round(ns)
 *   while (left > 0) {
 *     if (a CPU is free and nobody queues) take it
 *     else { queue; schedulePreemption(); yield w }        // a CPU was handed to us
 *     start = now; park with timeout left; join the running bursts; if anyone queues, schedulePreemption()
 *     status = yield w                                      // timeout = done, ok = preempted
 *     leave the running bursts; busyNs += ran; left = timeout ? 0 : left - ran
 *     hand the CPU to the first queued, or free it
 *   }
 */
class ComputeOp {
  /** @internal the result object of every yield (one per op, reused: the engine checks it came through yield*) */
  declare lastYield: IteratorResult<Cmd, void> | null;
  /** @internal S_START .. S_CLOSED */
  declare state: number;
  /** @internal the running burst's start and waiter, and its neighbours in the pool's running list */
  declare start: number;
  /** @internal what is left of the work (ns) */
  declare left: number;
  /** @internal when the running burst ends unless preempted */
  declare endAt: number;
  /** @internal the sequence number reserved for the running burst's end-of-burst timeout (armed only if needed), or -1 */
  declare timerSeq: number;
  /** @internal next() is called by a wrapper, not through the engine: the engine pushes what the waiter it sees asks */
  declare byHand: boolean;
  /** @internal the Waiter it parks on: in the pool's queue (S_QUEUED) or the running burst's (S_RUNNING) */
  declare w: Waiter | null;
  /**
   * @internal a Waiter of this op whose sleep is over and that nothing refers to any more (a
   * queue waiter handed a CPU, a preempted burst's whose timeout was only reserved): the next
   * park re-arms it instead of allocating one (a slice of round-robin is a queue and a burst)
   */
  declare spare: Waiter | null;
  declare runPrev: ComputeOp | null;
  declare runNext: ComputeOp | null;
  declare private err: unknown;
  declare private readonly pool: CpuPool;
  declare private readonly ns: number;

  constructor(pool: CpuPool, ns: number) {
    this.lastYield = null;
    this.state = S_START;
    this.left = 0;
    this.start = 0;
    this.endAt = 0;
    this.timerSeq = -1;
    this.byHand = false;
    this.w = null;
    this.spare = null;
    this.runPrev = null;
    this.runNext = null;
    this.err = NO_ERR;
    this.pool = pool;
    this.ns = ns;
  }

  next(v?: unknown): IteratorResult<Cmd, void> {
    switch (this.state) {
      case S_START: {
        this.state = S_CLOSED; // until it parks: a throwing body closes it, as it would a generator
        this.left = Math.round(this.ns);
        const w = this.acquire();
        return w === null ? DONE : this.yieldCmd(w);
      }
      case S_QUEUED:
      case S_RUNNING: {
        // driven by hand (not through the engine's fast path): the same steps, inline
        this.byHand = true;
        const w = this.recheck(v as WaitStatus);
        if (w !== null) return this.yieldCmd(w);
        return this.end();
      }
      case S_RESULT:
        return this.end();
      default:
        return DONE;
    }
  }

  /** as for a generator with no finally blocks: close it */
  return(value: void): IteratorResult<Cmd, void> {
    this.state = S_CLOSED;
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<Cmd, void> {
    this.state = S_CLOSED;
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }

  private yieldCmd(w: Waiter): IteratorResult<Cmd, void> {
    let r = this.lastYield;
    if (r === null) this.lastYield = r = { done: false, value: w };
    else r.value = w;
    return r;
  }

  private end(): IteratorResult<Cmd, void> {
    this.state = S_CLOSED;
    const e = this.err;
    if (e !== NO_ERR) {
      this.err = NO_ERR;
      throw e;
    }
    return DONE;
  }

  /** the top of the loop: take a free CPU and start a burst, or queue; null once no work is left */
  private acquire(): Waiter | null {
    if (!(this.left > 0)) return null;
    const pool = this.pool;
    if (pool.free > 0 && pool.queued === 0) {
      pool.free--;
      return this.burst();
    }
    const sim = pool.sim;
    if (sim.current === null) throw new Error('park() outside a process');
    const w = this.park(Infinity, pool);
    this.w = w;
    pool.enqueue(w);
    pool.schedulePreemption();
    this.state = S_QUEUED;
    return w;
  }

  /** a CPU is ours: run for what is left of the work, until its end or a preemption */
  private burst(): Waiter {
    const pool = this.pool;
    const sim = pool.sim;
    const left = this.left;
    if (sim.current === null) throw new Error('park() outside a process');
    if (!Number.isSafeInteger(left) || left < 0) throw new RangeError(`timeout must be a non-negative integer ns, got ${left}`);
    this.start = sim.now;
    this.endAt = sim.now + left;
    pool.runAdd(this);
    let seq = -1;
    if (pool.queued > 0) {
      pool.schedulePreemption();
      // with someone queued, a burst longer than a slice is preempted before its end unless the
      // chain of preemptions breaks (CpuPool.checkChain): its end-of-burst timeout is only reserved
      if (left > pool.sliceNs && pool.switchInline && !this.byHand) seq = sim.reserveSeq(this.endAt);
    }
    // the engine pushes the timeout of a waiter with a deadline; a reserved one the pool arms
    const w = this.park(seq >= 0 ? Infinity : this.endAt, RUNNING);
    this.w = w;
    this.timerSeq = seq;
    if (seq >= 0) pool.deferred++;
    this.state = S_RUNNING;
    return w;
  }

  /** a Waiter for the current process's next sleep in this op: the spare one, or a new one */
  private park(deadline: number, source: WaitSource): Waiter {
    const sim = this.pool.sim;
    const w = this.spare;
    if (w !== null) {
      this.spare = null;
      if (w.proc === sim.current) {
        w.rearm(deadline, source);
        return w;
      }
    }
    const n = sim.parkUntil('uninterruptible', deadline, source)!;
    n.op = this;
    return n;
  }

  /**
   * @internal The process woke with `status` (a CPU handed over, the burst's end or its
   * preemption): the next steps. Returns the Waiter it parks on next, or null once the work is
   * done (an exception of the body is kept for next() to throw, where the generator threw it).
   */
  recheck(status: WaitStatus): Waiter | null {
    try {
      const was = this.w;
      this.w = null;
      if (this.state === S_QUEUED) {
        // handed a CPU: out of the queue, and it never had a timeout
        if (was !== null && !was.active) this.spare = was;
        return this.burst();
      }
      const pool = this.pool;
      pool.runRemove(this);
      if (this.timerSeq >= 0) {
        // preempted before its end: the reserved timeout is never needed (so no event refers to w)
        this.timerSeq = -1;
        pool.deferred--;
        if (was !== null && !was.active) this.spare = was;
      }
      // a preemption's wake-up (switchNow runs the step without one, and checks the chain itself)
      const woken = status === 'ok' && !pool.switching;
      const ran = pool.sim.now - this.start;
      pool.busyNs += ran;
      this.left = status === 'timeout' ? 0 : this.left - ran;
      pool.handOver();
      // preempted: loop and queue again behind whoever was waiting
      const w = this.acquire();
      if (woken) {
        pool.pendingPreempt--;
        pool.checkChain();
      }
      if (w !== null) return w;
    } catch (e) {
      this.err = e;
    }
    this.state = S_RESULT;
    return null;
  }
}

export class CpuPool implements WaitSource {
  /**
   * the queue of waiters for a CPU: queue[qHead..qTail) (FIFO; the consumed front is dropped now
   * and then). The slots past qTail are kept: a queue that empties and fills again (every slice
   * of round-robin) then reuses its array instead of allocating one each time.
   */
  private queue: Waiter[] = [];
  private qHead = 0;
  private qTail = 0;
  /** the running bursts, in start order (oldest first) */
  private runHead: ComputeOp | null = null;
  private runTail: ComputeOp | null = null;
  /** time of the pending preemption check, if one is scheduled */
  private preemptAt = Infinity;
  /** the preemption timer may run the switch's steps itself (no explorer choosing orders or CPUs) */
  readonly switchInline: boolean;
  /** @internal running bursts whose end-of-burst timeout is only reserved (ComputeOp.timerSeq) */
  deferred = 0;
  /** @internal preempted bursts woken whose step has not run yet */
  pendingPreempt = 0;
  /** set while the timer runs a preempted burst's steps: handOver() hands the CPU to `handed` without a wake-up */
  private deferHand = false;
  /** @internal set while the timer runs a preempted burst's steps (switchNow) */
  switching = false;
  /** set while the timer's work runs: the next timer it arms is held back (heldDue, heldSeq) */
  private inTimer = false;
  private heldDue = Infinity;
  private heldSeq = -1;
  private handed: Waiter | null = null;
  /** set while onTimer's work runs at the instant advanceTo moved time on to (no event due now) */
  private nothingDue = false;
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
    this.switchInline = this.placement === null && !sim.choosesTies;
  }

  get queued(): number {
    return this.qTail - this.qHead;
  }

  compute(ns: number): Proc<void> {
    return new ComputeOp(this, ns);
  }

  /** @internal queue for a CPU */
  enqueue(w: Waiter): void {
    const q = this.queue;
    const t = this.qTail++;
    if (t === q.length) q.push(w);
    else q[t] = w;
  }

  /** @internal a burst ended: the CPU goes to the first queued waiter, or back to the free ones */
  handOver(): void {
    const q = this.queue;
    const h = this.qHead;
    if (h === this.qTail) {
      this.free++;
      return;
    }
    if (this.placement !== null && this.qTail - h >= 2) {
      const n = this.qTail - h;
      const k = this.placement.place(n, (i) => q[h + i]!.proc as Process);
      if (!Number.isSafeInteger(k) || k < 0 || k >= n) throw new RangeError(`CPU placement chose ${k} of ${n}`);
      if (k > 0) {
        this.qTail--;
        this.sim.wake(q.splice(h + k, 1)[0]!);
        return;
      }
    }
    const next = this.shift();
    if (this.deferHand) {
      // the preemption timer runs next's step itself, right after the preempted one's: what
      // wake() does, without the event
      this.deferHand = false;
      next.active = false;
      if (next.proc.waiter === next) next.proc.waiter = null;
      this.handed = next;
      return;
    }
    this.sim.wake(next);
  }

  /** the first queued waiter, out of the queue (which is not empty) */
  private shift(): Waiter {
    const q = this.queue;
    const h = this.qHead;
    const next = q[h]!;
    q[h] = undefined as unknown as Waiter;
    if (h + 1 === this.qTail) {
      this.qHead = 0;
      this.qTail = 0;
    } else if (h >= 1024 && 2 * h >= this.qTail) {
      q.splice(0, h + 1);
      this.qTail -= h + 1;
      this.qHead = 0;
    } else {
      this.qHead = h + 1;
    }
    return next;
  }

  /** @internal a burst starts (now: the list stays in start order) */
  runAdd(op: ComputeOp): void {
    const t = this.runTail;
    op.runPrev = t;
    op.runNext = null;
    if (t === null) this.runHead = op;
    else t.runNext = op;
    this.runTail = op;
  }

  /** @internal a burst ends */
  runRemove(op: ComputeOp): void {
    const a = op.runPrev;
    const b = op.runNext;
    if (a === null) this.runHead = b;
    else a.runNext = b;
    if (b === null) this.runTail = a;
    else b.runPrev = a;
    op.runPrev = null;
    op.runNext = null;
  }

  /** @internal preempt the longest-running burst once it has had its slice, while anyone is queued */
  schedulePreemption(fromTimer = false): void {
    const oldest = this.runHead;
    if (this.sliceNs === Infinity || this.queued === 0 || oldest === null) return;
    const due = oldest.start + this.sliceNs;
    if (due <= this.sim.now) {
      this.preemptions++;
      if (fromTimer && this.switchInline && this.switchNow(oldest)) return;
      if (this.sim.wake(oldest.w!)) this.pendingPreempt++;
      return;
    }
    if (due >= this.preemptAt) return;
    this.preemptAt = due;
    if (this.inTimer && this.heldDue === Infinity) {
      // the timer's own work arms the next one: hold it back, it may be run in place (onTimer)
      const seq = this.sim.reserveSeq(due);
      if (seq >= 0) {
        this.heldDue = due;
        this.heldSeq = seq;
        return;
      }
    }
    this.sim.at(due, this.onTimer);
  }

  /**
   * @internal The chain of preemptions broke (no timer armed, no preempted burst about to step):
   * the bursts run on, so the timeouts they only reserved are armed now, in their reserved
   * places. Until now each of them was sure to be preempted before its end: it was longer than a
   * slice and started with someone queued, and while the timer is armed or a preemption is
   * under way, the pool preempts every burst when its slice is over, the oldest first; the chain
   * breaks only where a timer or a preempted burst's step finds nobody to hand over to, which
   * calls this. So now is at most a slice after each one's start: before its end.
   */
  checkChain(): void {
    if (this.deferred === 0 || this.preemptAt !== Infinity || this.pendingPreempt > 0) return;
    const sim = this.sim;
    for (let op = this.runHead; op !== null; op = op.runNext) {
      if (op.timerSeq < 0) continue;
      const w = op.w!;
      if (w.active) sim.armTimeout(w, op.endAt, op.timerSeq);
      op.timerSeq = -1;
    }
    this.deferred = 0;
  }

  /**
   * The preemption timer, one function for all (no closure per time slice): it runs at its due
   * time, so `now` is the `due` it was set for; one superseded by an earlier check does nothing.
   * The next timer its work arms is held back (its place in the event order reserved): when
   * that timer would be the very next event, the engine moves time on to it (advanceTo) and its
   * work runs here in turn — round-robin slices while nothing else happens cost no events;
   * otherwise it is pushed in its reserved place.
   */
  private readonly onTimer = (): void => {
    const sim = this.sim;
    if (this.preemptAt !== sim.now) return;
    // (a timer's work that threw has not left it set)
    this.nothingDue = false;
    for (;;) {
      this.preemptAt = Infinity;
      this.inTimer = this.switchInline;
      this.schedulePreemption(true);
      this.inTimer = false;
      this.nothingDue = false;
      this.checkChain();
      const due = this.heldDue;
      if (due === Infinity) return;
      this.heldDue = Infinity;
      if (this.preemptAt === due && sim.advanceTo(due)) {
        // nothing else is due at the new instant (nor pushed until switchNow asks)
        this.nothingDue = true;
        continue;
      }
      sim.atReserved(due, this.heldSeq, this.onTimer);
      return;
    }
  };

  /**
   * The preemption timer preempts `a`: when nothing else is due at this instant, the wake-up of
   * `a` would be the next event and the one of the first queued process, which `a`'s step hands
   * the CPU to, the one after it; so run both steps here, in that order, exactly as those two
   * events would (the same pushes in the same order: the run is the same, two events shorter).
   * False (nothing done) when an event is due now, or a process is not one the engine's fast
   * path drives (its compute is not yielded straight through yield*): then the wake-ups happen.
   */
  private switchNow(a: ComputeOp): boolean {
    const sim = this.sim;
    const now = sim.now;
    if (!this.nothingDue && sim.nextEventTime() <= now) return false;
    const wa = a.w!;
    const pa = wa.proc as Process;
    // the burst's end is later (so its step queues it again rather than resuming its code)
    if (!wa.active || pa.waitOp !== a || pa.waiter !== wa || !(a.endAt > now)) return false;
    const wb = this.queue[this.qHead]!;
    const b = wb.op as ComputeOp | null;
    const pb = wb.proc as Process;
    // b's step starts a burst of what it has left (which it must be able to)
    if (b === null || !(b instanceof ComputeOp) || b.state !== S_QUEUED || pb.waitOp !== b || pb.waiter !== wb) return false;
    if (!Number.isSafeInteger(b.left) || b.left < 0) return false;
    if (a.timerSeq >= 0 && this.free === 0) {
      this.rotate(a, wa, pa, b, wb, pb);
      return true;
    }
    const prev = sim.current;
    this.switching = true;
    // a's wake-up and step
    wa.active = false;
    pa.waiter = null;
    pa.waitOp = null;
    sim.current = pa;
    this.deferHand = true;
    const wa2 = a.recheck('ok');
    this.deferHand = false;
    this.switching = false;
    sim.current = prev;
    if (wa2 === null) throw new Error('CPU pool: a preempted burst ended at its preemption');
    sim.parkOp(pa, a, wa2);
    const handed = this.handed;
    this.handed = null;
    if (handed !== wb) throw new Error('CPU pool: a preempted burst handed its CPU to another than the first queued');
    // the step of the one the CPU went to (wb, by FIFO)
    pb.waitOp = null;
    sim.current = pb;
    const wb2 = b.recheck('ok');
    sim.current = prev;
    if (wb2 === null) throw new Error('CPU pool: a burst handed a CPU did not start');
    sim.parkOp(pb, b, wb2);
    return true;
  }

  /**
   * switchNow's usual case, a round-robin slice: `a` (its end-of-burst timeout only reserved, so
   * no event refers to its Waiter) goes to the back of the queue on that same Waiter and `b`, the
   * first queued, starts a burst on its own. These are the steps a.recheck('ok') and
   * b.recheck('ok') take there (the same fields set, the same sequence numbers reserved and
   * events pushed, in the same order), written out without what only their other cases need:
   * a slice costs a few field writes rather than two re-checks.
   */
  private rotate(a: ComputeOp, wa: Waiter, pa: Process, b: ComputeOp, wb: Waiter, pb: Process): void {
    const sim = this.sim;
    const now = sim.now;
    // a's step: off its CPU (it is the oldest burst, the running list's head), its reserved
    // timeout never needed
    this.runRemove(a);
    a.timerSeq = -1;
    this.deferred--;
    const ran = now - a.start;
    this.busyNs += ran;
    a.left -= ran;
    // the CPU goes to b, the first queued (handOver, with the preemption timer running b's step)
    this.shift();
    wb.active = false;
    pb.waiter = null;
    // a queues again (acquire: the CPU it had is b's, so none is free), on its own Waiter
    wa.rearm(Infinity, this);
    this.enqueue(wa);
    this.schedulePreemption();
    a.state = S_QUEUED;
    pa.waitOp = a;
    pa.waiter = wa;
    // b's step: a burst of what it has left (burst(), on the Waiter it queued on)
    const left = b.left;
    const endAt = now + left;
    b.start = now;
    b.endAt = endAt;
    this.runAdd(b);
    this.schedulePreemption();
    const seq = left > this.sliceNs && !b.byHand ? sim.reserveSeq(endAt) : -1;
    wb.rearm(seq >= 0 ? Infinity : endAt, RUNNING);
    b.timerSeq = seq;
    if (seq >= 0) this.deferred++;
    b.state = S_RUNNING;
    sim.parkOp(pb, b, wb);
  }

  cancelWait(w: Waiter): void {
    const q = this.queue;
    const i = q.indexOf(w, this.qHead);
    if (i < 0) return;
    if (i === this.qHead) {
      q[i] = undefined as unknown as Waiter;
      if (i + 1 === this.qTail) {
        this.qHead = 0;
        this.qTail = 0;
      } else this.qHead = i + 1;
    } else {
      q.splice(i, 1);
      this.qTail--;
    }
  }
}
