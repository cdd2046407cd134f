/**
 * DOC: the discrete-event engine (SimPy-style), which knows nothing about Linux.
 *
 * Virtual time is an integer count of nanoseconds. Processes are generator functions; they
 * `yield sim.delay(ns)` to let time pass and `yield*` the wait helpers of the primitives
 * (wait queue, mutex, semaphore, slot counter, completion, CPU pool, join) to block; a call that
 * takes many steps can be `yield* frame(g)`, which the engine then resumes directly rather than
 * through the caller's chain of `yield*` (frame.ts). A blocked
 * process is parked on a Waiter that records how it may be woken: by its primitive ("ok"), by its
 * timeout ("timeout"), or by a signal ("signal") — plain (uninterruptible) waits ignore signals,
 * interruptible waits end on any signal, killable waits only on a fatal one. This mirrors the
 * kernel's TASK_UNINTERRUPTIBLE / TASK_INTERRUPTIBLE / TASK_KILLABLE sleeps.
 *
 * Everything is ordered by a (time, sequence) key, so a run is a pure function of its inputs and
 * seed. Events due now wait in a FIFO; later ones in a timing wheel (the next 1024 ns) backed by
 * the event heap (queue.ts); both keep exactly that order.
 *
 * Speed notes (what the engine benchmark taught): the primitives' wait helpers are hand-written
 * generators and the engine runs wait_event's re-check loop itself (ops.ts); generator objects are
 * resumed through %GeneratorPrototype%.next rather than a megamorphic `gen.next` lookup; nothing
 * per process is allocated that most processes never use (signal Set, joiner list).
 */
import { FrameOp, GEN_NEXT } from './frame.js';
import { FutureQueue } from './queue.js';
import { EventLog } from './log.js';
import { RngStreams } from './rng.js';
import { Delay, Waiter, type Cmd, type ParkedOp, type Proc, type Signal, type WaitMode, type WaitOptions, type WaitSource, type WaitStatus } from './wait.js';

export { waitResult } from './ops.js';
export * from './wait.js';
export { frame } from './frame.js';

const EV_RESUME = 0;
const EV_TIMEOUT = 1;
const EV_SIGNAL = 2;
const EV_CALL = 3;

export class Process<R = unknown> implements WaitSource {
  // Fields are assigned in the constructor, those every step() reads first: a storm or a
  // benchmark steps thousands of processes in turn, and the fields one step reads then share
  // one or two cache lines instead of spanning the whole object.
  /** @internal the innermost frame the engine runs (frame.ts), or null: the process's own generator */
  declare top: FrameOp | null;
  /** @internal the wait op (wait_event, compute) this process sleeps in, when the engine runs its steps */
  declare waitOp: ParkedOp | null;
  declare done: boolean;
  declare readonly gen: Proc<R>;
  /**
   * @internal `gen` is a plain generator object (its `next` was the builtin when the process was
   * created): the engine resumes it through GEN_NEXT
   */
  declare readonly nativeGen: boolean;
  /**
   * @internal the Waiter of this process's latest sleep, or null: it is the wait the process is
   * parked on while it is active. A wake-up only marks the Waiter inactive and queues the event:
   * it need not touch the process (in a storm or a benchmark, a cache line that its step, thousands
   * of events later, reads again anyway).
   */
  declare parked: Waiter | null;
  declare result: R | undefined;
  declare readonly sim: Sim;
  declare readonly pid: number;
  declare readonly name: string;
  /** pending signals; the Set is created on first use (most processes never get one) */
  declare private sigs: Set<Signal> | null;
  declare private joiners: Waiter[] | null;
  /** @internal neighbours in the engine's list of live processes */
  declare livePrev: Process | null;
  /** @internal */
  declare liveNext: Process | null;

  constructor(sim: Sim, pid: number, name: string, gen: Proc<R>) {
    this.done = false;
    this.waitOp = null;
    this.parked = null;
    this.top = null;
    this.gen = gen;
    this.nativeGen = gen.next === GEN_NEXT;
    // read by every park (is a signal pending?)
    this.sigs = null;
    this.result = undefined;
    this.sim = sim;
    this.pid = pid;
    this.name = name;
    this.joiners = null;
    this.livePrev = null;
    this.liveNext = null;
  }

  /** the wait this process is parked on, if any */
  get waiter(): Waiter | null {
    const w = this.parked;
    return w !== null && w.active ? w : null;
  }

  set waiter(w: Waiter | null) {
    this.parked = w;
  }

  get pendingSignals(): Set<Signal> {
    return (this.sigs ??= new Set<Signal>());
  }

  set pendingSignals(s: Set<Signal>) {
    this.sigs = s;
  }

  signalPending(): boolean {
    const s = this.sigs;
    return s !== null && s.size > 0;
  }

  fatalSignalPending(): boolean {
    const s = this.sigs;
    return s !== null && s.has('SIGKILL');
  }

  /** drop pending signals (kernel threads flush them; a new syscall in our model starts clean) */
  flushSignals(): void {
    if (this.sigs !== null) this.sigs.clear();
  }

  /** would a wait in `mode` end right now because of a pending signal? */
  interruptedIn(mode: WaitMode): boolean {
    if (this.sigs === null) return false;
    if (mode === 'interruptible') return this.signalPending();
    if (mode === 'killable') return this.fatalSignalPending();
    return false;
  }

  /** wait for this process to end; returns its result */
  *join(opts: WaitOptions = {}): Proc<R | undefined> {
    if (this.done) return this.result;
    const w = this.sim.park(opts, this);
    if (w === null) return undefined;
    (this.joiners ??= []).push(w);
    yield w;
    return this.result;
  }

  cancelWait(w: Waiter): void {
    const js = this.joiners;
    if (js === null) return;
    const i = js.indexOf(w);
    if (i >= 0) js.splice(i, 1);
  }

  /** @internal */
  finish(result: R): void {
    this.done = true;
    this.result = result;
    const js = this.joiners;
    if (js === null) return;
    this.joiners = null;
    for (const w of js) this.sim.wake(w);
  }
}

export interface SimOptions {
  seed?: number;
  /** keep the typed event log (off for speed) */
  log?: boolean;
  /** who decides the order of events due at the same instant (default: FIFO, (time, sequence)) */
  tieBreak?: TieBreak;
}

/**
 * The order of events at equal virtual time is what the kernel leaves to chance (which of two
 * woken tasks runs first). By default the engine runs them in (time, sequence) order; a TieBreak
 * (the explorer's) picks instead. It is asked only when two or more events are due now, with
 * the count and a way to see which process each one is about (null for plain callbacks); it
 * returns an index in [0, n): 0 is the event FIFO order would run.
 */
export interface TieBreak {
  choose(n: number, who: (i: number) => Process | null): number;
}

/** Thrown out of run() when a process throws: names the process and the virtual time. */
export class ProcessError extends Error {
  constructor(
    readonly procName: string,
    readonly t: number,
    override readonly cause: unknown,
  ) {
    super(`process ${procName} failed at t=${t}ns: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ProcessError';
  }
}

export class Sim {
  /** virtual time, integer ns */
  now = 0;
  /** the process whose code is running (valid only inside a process step) */
  current: Process | null = null;
  readonly log: EventLog;
  readonly rng: RngStreams;
  readonly seed: number;
  /** events due later than now (timing wheel + heap, in (time, sequence) order) */
  private future = new FutureQueue<Process>();
  /**
   * Events due at the current instant (wake-ups, spawns): a FIFO beside the future queue. All
   * its entries were pushed at t = now, so after every event of the future queue due now (those
   * were pushed earlier, with lower sequence numbers); time only moves on once it is empty.
   */
  private nowKind: number[] = [];
  private nowProc: (Process | null)[] = [];
  private nowVal: unknown[] = [];
  /** the FIFO is nowHead..nowTail-1; the arrays keep their capacity when it empties */
  private nowHead = 0;
  /** a time at which the future queue is known to hold no more events due (see runWhile) */
  private futureDrainedAt = -1;
  private nowTail = 0;
  private seq = 0;
  private nextPid = 1;
  /** live processes in spawn order: an intrusive doubly-linked list (no Set to grow and rehash) */
  private liveHead: Process | null = null;
  private liveTail: Process | null = null;
  /** events handled so far */
  eventCount = 0;
  /** the explorer's chooser, or null (FIFO: the fast path) */
  private readonly tieBreak: TieBreak | null;
  /** the running loop's time limit and condition (advanceTo) */
  private runLimit = -Infinity;
  private runDone: (() => boolean) | null = null;
  /** advanceTo asked the condition, which said stop: the loop stops before its next event */
  private halted = false;

  constructor(opts: SimOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.tieBreak = opts.tieBreak ?? null;
    this.rng = new RngStreams(this.seed);
    this.log = new EventLog(this, opts.log ?? false);
  }

  /** start a process at the current time (after the already-scheduled events of this instant) */
  spawn<R>(name: string, gen: Proc<R>): Process<R> {
    const p = new Process<R>(this, this.nextPid++, name, gen);
    this.liveAdd(p as Process);
    this.push(this.now, EV_RESUME, p as Process, undefined);
    if (this.log.wants('spawn')) this.log.emit('spawn', { pid: p.pid }, p as Process);
    return p;
  }

  /**
   * The command for `yield sim.delay(ns)`. One shared object: the engine reads it the moment it
   * is yielded, so a delay allocates nothing.
   */
  delay(ns: number): Delay {
    if (!Number.isSafeInteger(ns) || ns < 0) throw new RangeError(`delay must be a non-negative integer ns, got ${ns}`);
    this.delayCmd.ns = ns;
    return this.delayCmd;
  }
  private readonly delayCmd = new Delay(0);

  /** run a plain callback at an absolute virtual time (timers, deferred work) */
  at(t: number, fn: () => void): void {
    if (!Number.isSafeInteger(t) || t < this.now) throw new RangeError(`at(): time ${t} is in the past or not an integer`);
    this.push(t, EV_CALL, null, fn);
  }

  /** send a signal to a process at absolute virtual time `t` (default: now) */
  signal(p: Process, sig: Signal, t = this.now): void {
    if (t < this.now) throw new RangeError('signal(): time is in the past');
    this.push(t, EV_SIGNAL, p, sig);
  }

  /** processes that have started and not finished */
  liveProcesses(): Process[] {
    const out: Process[] = [];
    for (let p = this.liveHead; p !== null; p = p.liveNext) out.push(p);
    return out;
  }

  private liveAdd(p: Process): void {
    const t = this.liveTail;
    p.livePrev = t;
    if (t === null) this.liveHead = p;
    else t.liveNext = p;
    this.liveTail = p;
  }

  private liveRemove(p: Process): void {
    const a = p.livePrev;
    const b = p.liveNext;
    if (a === null) this.liveHead = b;
    else a.liveNext = b;
    if (b === null) this.liveTail = a;
    else b.livePrev = a;
    p.livePrev = null;
    p.liveNext = null;
  }

  /**
   * Create a Waiter for the current process, or return null if a pending signal already ends a
   * wait in this mode (the kernel checks signal_pending_state before sleeping). Timeouts of 0
   * still park: the timeout fires at once, after a final condition check by the caller.
   */
  park(opts: WaitOptions, source: WaitSource): Waiter | null {
    const p = this.current;
    if (p === null) throw new Error('park() outside a process');
    const mode = opts.mode ?? 'uninterruptible';
    if (p.interruptedIn(mode)) return null;
    const t = opts.timeoutNs;
    if (t !== undefined && (!Number.isSafeInteger(t) || t < 0)) throw new RangeError(`timeout must be a non-negative integer ns, got ${t}`);
    const deadline = t === undefined ? Infinity : this.now + t;
    return new Waiter(p, mode, deadline, source);
  }

  /** like park() but with an absolute deadline (re-parking after a wake keeps the first budget) */
  parkUntil(mode: WaitMode, deadline: number, source: WaitSource): Waiter | null {
    const p = this.current;
    if (p === null) throw new Error('parkUntil() outside a process');
    if (p.interruptedIn(mode)) return null;
    return new Waiter(p, mode, deadline, source);
  }

  /** @internal parkUntil() for a Waiter made beforehand (ParkingSim.parkOn) */
  parkOn(w: Waiter, deadline: number, source: WaitSource): boolean {
    const p = this.current;
    if (p === null) throw new Error('parkOn() outside a process');
    if (p.interruptedIn(w.mode)) return false;
    w.proc = p;
    w.rearm(deadline, source);
    return true;
  }

  /** @internal a TieBreak orders the events due together (the explorer's): no event may be skipped */
  get choosesTies(): boolean {
    return this.tieBreak !== null;
  }

  /**
   * @internal Park `p` on `w`, the Waiter its wait op `op` parks on next: what step() does when an
   * op's recheck returns a Waiter, and what a CPU pool's preemption timer does for the processes
   * whose steps it runs itself.
   */
  parkOp(p: Process, op: ParkedOp, w: Waiter): void {
    p.waitOp = op;
    p.parked = w;
    if (w.deadline !== Infinity) this.push(Math.max(w.deadline, this.now), EV_TIMEOUT, null, w);
  }

  /**
   * @internal Reserve the place in the event order of an event at `t` pushed later (armTimeout,
   * atReserved), or never: the sequence number a push now would get, or -1 when such an event
   * cannot be pushed later in the same order (it would not go to the heap).
   */
  reserveSeq(t: number): number {
    if (!(t > this.now) || !this.future.goesToHeap(this.now, t)) return -1;
    return this.seq++;
  }

  /** @internal push the timeout of `w` at `t` with the sequence number reserveSeq gave */
  armTimeout(w: Waiter, t: number, seq: number): void {
    if (!(t > this.now)) throw new Error(`engine: a reserved event pushed too late (t=${t}, now=${this.now})`);
    this.future.pushHeap(t, seq, EV_TIMEOUT, null, w);
  }

  /** @internal at(t, fn) with the sequence number reserveSeq gave */
  atReserved(t: number, seq: number, fn: () => void): void {
    if (!(t > this.now)) throw new Error(`engine: a reserved event pushed too late (t=${t}, now=${this.now})`);
    this.future.pushHeap(t, seq, EV_CALL, null, fn);
  }

  /**
   * @internal Inside a plain callback (an at() event): move virtual time on to `t` when the
   * event loop's next event would be the caller's own at `t` (reserved, not pushed) — nothing
   * else is due until then, the run goes on past `t`, and its condition, asked now as the loop
   * would ask it before that event, says go on. The caller then runs that event's work in place.
   * False (nothing changed) otherwise; under a TieBreak always (every event is a choice there).
   */
  advanceTo(t: number): boolean {
    if (this.tieBreak !== null || !(t > this.now) || !(t <= this.runLimit) || this.nextEventTime() <= t) return false;
    const done = this.runDone;
    if (done !== null && done()) {
      // the loop stops before the caller's event, without asking again
      this.halted = true;
      return false;
    }
    this.now = t;
    return true;
  }

  /** wake a parked waiter with status "ok" (resumes at the current time, in schedule order) */
  wake(w: Waiter): boolean {
    if (!w.active) return false;
    w.active = false;
    this.push(this.now, EV_RESUME, w.proc as Process, 'ok');
    return true;
  }

  /** run until no event is left, or until virtual time would pass `untilNs` */
  run(untilNs = Infinity): void {
    this.runWhile(null, untilNs);
  }

  /** run until `done()` is true (checked after every event); false if the events ran out first */
  runUntil(done: () => boolean, untilNs = Infinity): boolean {
    if (done()) return true;
    this.runWhile(done, untilNs);
    return done();
  }

  /** true if nothing is scheduled any more (every remaining process is blocked for good) */
  idle(): boolean {
    return this.future.size === 0 && this.nowHead === this.nowTail;
  }

  /** time of the next event, or Infinity */
  nextEventTime(): number {
    if (this.nowHead < this.nowTail) return this.now;
    return this.future.topT(this.now);
  }

  /** the event loop; `done` (null = never) is checked before every event: true stops it */
  private runWhile(done: (() => boolean) | null, untilNs: number): void {
    if (this.tieBreak !== null) {
      this.runChosen(this.tieBreak, done, untilNs);
      return;
    }
    const future = this.future;
    const nowKind = this.nowKind;
    const nowProc = this.nowProc;
    const nowVal = this.nowVal;
    this.runLimit = untilNs;
    this.runDone = done;
    for (;;) {
      if (done !== null && (this.halted || done())) {
        this.halted = false;
        break;
      }
      let kind: number;
      let proc: Process | null;
      let val: unknown;
      const h = this.nowHead;
      if (h < this.nowTail) {
        // future-queue events due now were pushed before the now-queue's: they go first (once
        // there is none left, none can come: an event pushed for now joins the now-queue)
        if (this.futureDrainedAt !== this.now && future.topT(this.now) === this.now) {
          future.popTop();
          kind = future.outKind;
          proc = future.outTarget;
          val = future.outVal;
        } else {
          this.futureDrainedAt = this.now;
          kind = nowKind[h]!;
          proc = nowProc[h]!;
          val = nowVal[h];
          nowProc[h] = null;
          nowVal[h] = undefined;
          if (h + 1 === this.nowTail) {
            this.nowHead = 0;
            this.nowTail = 0;
          } else {
            this.nowHead = h + 1;
          }
        }
      } else {
        const t = future.topT(this.now);
        if (t > untilNs || (t === Infinity && future.size === 0)) break;
        future.popTop();
        this.now = t;
        kind = future.outKind;
        proc = future.outTarget;
        val = future.outVal;
      }
      this.eventCount++;
      if (kind === EV_RESUME) {
        this.step(proc!, val);
      } else if (kind === EV_TIMEOUT) {
        const w = val as Waiter;
        if (w.active) this.endWait(w, 'timeout');
      } else if (kind === EV_SIGNAL) {
        this.deliver(proc!, val as Signal);
      } else {
        (val as () => void)();
      }
    }
    if (untilNs !== Infinity && this.now < untilNs && this.nextEventTime() > untilNs && (done === null || !done())) this.now = untilNs;
  }

  /**
   * The event loop with a TieBreak. When time moves on, every event of the future queue due at
   * the new instant joins the now-queue in (time, sequence) order, so the now-queue holds every
   * event due now, in the order the FIFO loop would run them; the chooser picks one of them, the
   * others keep their order. A chooser that always answers 0 runs exactly what runWhile runs.
   */
  private runChosen(tb: TieBreak, done: (() => boolean) | null, untilNs: number): void {
    const future = this.future;
    const nowKind = this.nowKind;
    const nowProc = this.nowProc;
    const nowVal = this.nowVal;
    const who = (i: number): Process | null => {
      const j = this.nowHead + i;
      if (nowKind[j] === EV_TIMEOUT) return (nowVal[j] as Waiter).proc as Process;
      return nowProc[j] ?? null;
    };
    for (;;) {
      if (done !== null && done()) break;
      if (this.nowHead === this.nowTail) {
        const t = future.topT(this.now);
        if (t > untilNs || (t === Infinity && future.size === 0)) break;
        this.now = t;
        this.nowHead = 0;
        this.nowTail = 0;
        while (future.size > 0 && future.topT(t) === t) {
          future.popTop();
          const i = this.nowTail++;
          nowKind[i] = future.outKind;
          nowProc[i] = future.outTarget;
          nowVal[i] = future.outVal;
        }
      } else if (this.futureDrainedAt !== this.now && future.topT(this.now) === this.now) {
        // events due now left in the future queue by a run without a chooser: they go first
        future.popTop();
        this.dispatch(future.outKind, future.outTarget, future.outVal);
        continue;
      }
      this.futureDrainedAt = this.now;
      const h = this.nowHead;
      const n = this.nowTail - h;
      if (n > 1) {
        const k = tb.choose(n, who);
        if (!Number.isSafeInteger(k) || k < 0 || k >= n) throw new RangeError(`tie-break chose ${k} of ${n}`);
        if (k > 0) {
          const kk = nowKind[h + k]!;
          const kp = nowProc[h + k]!;
          const kv = nowVal[h + k];
          for (let j = h + k; j > h; j--) {
            nowKind[j] = nowKind[j - 1]!;
            nowProc[j] = nowProc[j - 1]!;
            nowVal[j] = nowVal[j - 1];
          }
          nowKind[h] = kk;
          nowProc[h] = kp;
          nowVal[h] = kv;
        }
      }
      const kind = nowKind[h]!;
      const proc = nowProc[h]!;
      const val = nowVal[h];
      nowProc[h] = null;
      nowVal[h] = undefined;
      if (h + 1 === this.nowTail) {
        this.nowHead = 0;
        this.nowTail = 0;
      } else {
        this.nowHead = h + 1;
      }
      this.dispatch(kind, proc, val);
    }
    if (untilNs !== Infinity && this.now < untilNs && this.nextEventTime() > untilNs && (done === null || !done())) this.now = untilNs;
  }

  private dispatch(kind: number, proc: Process | null, val: unknown): void {
    this.eventCount++;
    if (kind === EV_RESUME) {
      this.step(proc!, val);
    } else if (kind === EV_TIMEOUT) {
      const w = val as Waiter;
      if (w.active) this.endWait(w, 'timeout');
    } else if (kind === EV_SIGNAL) {
      this.deliver(proc!, val as Signal);
    } else {
      (val as () => void)();
    }
  }

  private deliver(p: Process, sig: Signal): void {
    if (p.done) return;
    p.pendingSignals.add(sig);
    if (this.log.wants('signal')) this.log.emit('signal', { sig }, p);
    const w = p.parked;
    if (w !== null && w.active && p.interruptedIn(w.mode)) this.endWait(w, 'signal');
  }

  /** end a wait early (timeout or signal): the primitive forgets the waiter, the process resumes */
  private endWait(w: Waiter, status: WaitStatus): void {
    w.active = false;
    w.source.cancelWait(w);
    this.step(w.proc as Process, status);
  }

  private push(t: number, kind: number, proc: Process | null, val: unknown): void {
    if (t === this.now) {
      const i = this.nowTail++;
      this.seq++;
      this.nowKind[i] = kind;
      this.nowProc[i] = proc;
      this.nowVal[i] = val;
    } else {
      this.future.push(this.now, t, this.seq++, kind, proc, val);
    }
  }

  private step(p: Process, v: unknown): void {
    if (p.done) return;
    const prev = this.current;
    this.current = p;
    // a running process is parked on nothing (and its last Waiter may die young)
    p.parked = null;
    const op = p.waitOp;
    if (op !== null) {
      // the process sleeps in a wait_event: re-check its condition here, and resume its code only
      // once the wait is over (the op's next() then just returns the result)
      p.waitOp = null;
      const w = op.recheck(v as WaitStatus);
      if (w !== null) {
        this.current = prev;
        this.parkOp(p, op, w);
        return;
      }
    }
    // resume the top of the process's stack of frames (frame.ts): its own generator, or the
    // innermost frame the engine took over; a frame that ends resumes the one below it
    let top = p.top;
    for (;;) {
      let r: IteratorResult<Cmd, unknown>;
      try {
        if (top === null) r = p.nativeGen ? GEN_NEXT.call(p.gen, v) : p.gen.next(v);
        else r = top.native ? GEN_NEXT.call(top.gen as Proc, v) : top.gen.next(v);
      } catch (err) {
        if (top !== null) {
          // the frame's exception surfaces at the caller's yield*, where it may be caught
          top.threw(err);
          p.top = top = top.below;
          v = undefined;
          continue;
        }
        this.current = prev;
        if (err instanceof ProcessError) throw err;
        throw new ProcessError(p.name, this.now, err);
      }
      if (r.done) {
        if (top !== null) {
          top.returned(r.value);
          p.top = top = top.below;
          v = undefined;
          continue;
        }
        this.current = prev;
        this.liveRemove(p);
        p.finish(r.value);
        if (this.log.wants('exit')) this.log.emit('exit', { result: r.value }, p);
        return;
      }
      const cmd = r.value as unknown;
      if (cmd instanceof Delay) {
        this.current = prev;
        this.push(this.now + cmd.ns, EV_RESUME, p, undefined);
        return;
      }
      if (cmd instanceof Waiter) {
        // the primitive has queued it already
        this.current = prev;
        p.parked = cmd;
        if (cmd.deadline !== Infinity) this.push(Math.max(cmd.deadline, this.now), EV_TIMEOUT, null, cmd);
        // `yield*` hands the op's result object through unchanged: if it is the one the op made,
        // the process is suspended inside the op's yield*, and its next resumption goes to the op
        if (cmd.op !== null && cmd.op.lastYield === r) p.waitOp = cmd.op;
        return;
      }
      // a FrameOp: `yield* frame(g)` handed its op's own result through unchanged, so the chain
      // is suspended on it and g becomes the top frame; otherwise the op runs g itself when resumed
      if (!(cmd instanceof FrameOp)) {
        this.current = prev;
        throw new ProcessError(p.name, this.now, new TypeError(`yielded ${String(cmd)}: a process yields sim.delay(ns), a wait helper's Waiter or a frame`));
      }
      const f: FrameOp = cmd;
      v = undefined;
      if (f.lastYield === r && f.accept()) {
        f.below = top;
        p.top = top = f;
      }
    }
  }
}
