/**
 * DOC: the discrete-event engine (SimPy-style), which knows nothing about Linux.
 *
 * Virtual time is an integer count of nanoseconds. Processes are generator functions; they
 * `yield sim.delay(ns)` to let time pass and `yield*` the wait helpers of the primitives
 * (wait queue, mutex, semaphore, slot counter, completion, CPU pool, join) to block. A blocked
 * process is parked on a Waiter that records how it may be woken: by its primitive ("ok"), by its
 * timeout ("timeout"), or by a signal ("signal") — plain (uninterruptible) waits ignore signals,
 * interruptible waits end on any signal, killable waits only on a fatal one. This mirrors the
 * kernel's TASK_UNINTERRUPTIBLE / TASK_INTERRUPTIBLE / TASK_KILLABLE sleeps.
 *
 * Everything is ordered by the event heap's (time, sequence) key, so a run is a pure function of
 * its inputs and seed.
 */
import { EventHeap } from './heap.js';
import { EventLog } from './log.js';
import { RngStreams } from './rng.js';

export type WaitMode = 'uninterruptible' | 'interruptible' | 'killable';
/** why a wait ended */
export type WaitStatus = 'ok' | 'timeout' | 'signal';

export interface WaitOptions {
  /** default 'uninterruptible' */
  mode?: WaitMode;
  /** relative timeout in ns; absent = wait forever */
  timeoutNs?: number;
}

export interface WaitResult {
  status: WaitStatus;
  /** time left of the timeout budget (Infinity without a timeout) */
  remainingNs: number;
}

/** A primitive that parks waiters and must forget one that timed out or was signalled. */
export interface WaitSource {
  cancelWait(w: Waiter): void;
}

/** Signals a process can receive. SIGKILL is the only fatal one, as for the kernel's tasks. */
export type Signal = 'SIGKILL' | 'SIGINT' | 'SIGTERM' | 'SIGUSR1';

/** A process yields a Delay (let time pass) or a Waiter (block until woken). */
export type Cmd = Delay | Waiter;
export type Proc<R = unknown> = Generator<Cmd, R, unknown>;

export class Delay {
  constructor(public ns: number) {}
}

export class Waiter {
  active = true;
  /** the primitive's value for the waiter (e.g. a slot handed over), set before waking */
  value: unknown = undefined;
  constructor(
    readonly proc: Process,
    readonly mode: WaitMode,
    readonly deadline: number,
    readonly source: WaitSource,
  ) {}
}

const EV_RESUME = 0;
const EV_TIMEOUT = 1;
const EV_SIGNAL = 2;
const EV_CALL = 3;

export class Process<R = unknown> implements WaitSource {
  done = false;
  result: R | undefined = undefined;
  /** the wait this process is parked on, if any */
  waiter: Waiter | null = null;
  pendingSignals = new Set<Signal>();
  private joiners: Waiter[] = [];

  constructor(
    readonly sim: Sim,
    readonly pid: number,
    readonly name: string,
    readonly gen: Proc<R>,
  ) {}

  signalPending(): boolean {
    return this.pendingSignals.size > 0;
  }

  fatalSignalPending(): boolean {
    return this.pendingSignals.has('SIGKILL');
  }

  /** drop pending signals (kernel threads flush them; a new syscall in our model starts clean) */
  flushSignals(): void {
    this.pendingSignals.clear();
  }

  /** would a wait in `mode` end right now because of a pending signal? */
  interruptedIn(mode: WaitMode): boolean {
    if (mode === 'interruptible') return this.signalPending();
    if (mode === 'killable') return this.fatalSignalPending();
    return false;
  }

  /** wait for this process to end; returns its result */
  *join(opts: WaitOptions = {}): Proc<R | undefined> {
    if (this.done) return this.result;
    const w = this.sim.park(opts, this);
    if (w === null) return undefined;
    this.joiners.push(w);
    yield w;
    return this.result;
  }

  cancelWait(w: Waiter): void {
    const i = this.joiners.indexOf(w);
    if (i >= 0) this.joiners.splice(i, 1);
  }

  /** @internal */
  finish(result: R): void {
    this.done = true;
    this.result = result;
    const js = this.joiners;
    this.joiners = [];
    for (const w of js) this.sim.wake(w);
  }
}

export interface SimOptions {
  seed?: number;
  /** keep the typed event log (off for speed) */
  log?: boolean;
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
  private heap = new EventHeap<Process>();
  /**
   * Events due at the current instant (wake-ups, spawns): a FIFO beside the heap, merged with it
   * by sequence number. All its entries carry t = now with rising seq, and time only moves on
   * once it is empty, so most wake-ups never touch the heap.
   */
  private nowSeq: number[] = [];
  private nowKind: number[] = [];
  private nowProc: (Process | null)[] = [];
  private nowVal: unknown[] = [];
  private nowHead = 0;
  private seq = 0;
  private nextPid = 1;
  private live = new Set<Process>();
  /** events handled so far */
  eventCount = 0;

  constructor(opts: SimOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.rng = new RngStreams(this.seed);
    this.log = new EventLog(this, opts.log ?? false);
  }

  /** start a process at the current time (after the already-scheduled events of this instant) */
  spawn<R>(name: string, gen: Proc<R>): Process<R> {
    const p = new Process<R>(this, this.nextPid++, name, gen);
    this.live.add(p as Process);
    this.push(this.now, EV_RESUME, p as Process, undefined);
    if (this.log.enabled) this.log.emit('spawn', { pid: p.pid }, p as Process);
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
    return [...this.live];
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

  /** wake a parked waiter with status "ok" (resumes at the current time, in schedule order) */
  wake(w: Waiter): boolean {
    if (!w.active) return false;
    w.active = false;
    if (w.proc.waiter === w) w.proc.waiter = null;
    this.push(this.now, EV_RESUME, w.proc, 'ok');
    return true;
  }

  /** run until no event is left, or until virtual time would pass `untilNs` */
  run(untilNs = Infinity): void {
    this.runWhile(() => true, untilNs);
  }

  /** run until `done()` is true (checked after every event); false if the events ran out first */
  runUntil(done: () => boolean, untilNs = Infinity): boolean {
    if (done()) return true;
    this.runWhile(() => !done(), untilNs);
    return done();
  }

  /** true if nothing is scheduled any more (every remaining process is blocked for good) */
  idle(): boolean {
    return this.heap.size === 0 && this.nowHead === this.nowSeq.length;
  }

  /** time of the next event, or Infinity */
  nextEventTime(): number {
    if (this.nowHead < this.nowSeq.length) return this.now;
    return this.heap.topT();
  }

  private runWhile(cont: () => boolean, untilNs: number): void {
    const heap = this.heap;
    while (cont()) {
      let kind: number;
      let proc: Process | null;
      let val: unknown;
      // the next event is the smaller (t, seq) of the heap's top and the now-queue's head
      if (this.nowHead < this.nowSeq.length) {
        const h = this.nowHead;
        if (heap.topT() === this.now && heap.topSeq() < this.nowSeq[h]!) {
          heap.pop();
          kind = heap.outKind;
          proc = heap.outTarget;
          val = heap.outVal;
        } else {
          kind = this.nowKind[h]!;
          proc = this.nowProc[h]!;
          val = this.nowVal[h];
          this.nowProc[h] = null;
          this.nowVal[h] = undefined;
          if (++this.nowHead === this.nowSeq.length) {
            this.nowHead = 0;
            this.nowSeq.length = 0;
            this.nowKind.length = 0;
            this.nowProc.length = 0;
            this.nowVal.length = 0;
          }
        }
      } else {
        if (heap.topT() > untilNs || !heap.pop()) break;
        this.now = heap.outT;
        kind = heap.outKind;
        proc = heap.outTarget;
        val = heap.outVal;
      }
      this.eventCount++;
      switch (kind) {
        case EV_RESUME:
          this.step(proc!, val);
          break;
        case EV_TIMEOUT: {
          const w = val as Waiter;
          if (w.active) this.endWait(w, 'timeout');
          break;
        }
        case EV_SIGNAL:
          this.deliver(proc!, val as Signal);
          break;
        case EV_CALL:
          (val as () => void)();
          break;
      }
    }
    if (untilNs !== Infinity && this.now < untilNs && this.nextEventTime() > untilNs && cont()) this.now = untilNs;
  }

  private deliver(p: Process, sig: Signal): void {
    if (p.done) return;
    p.pendingSignals.add(sig);
    if (this.log.enabled) this.log.emit('signal', { sig }, p);
    const w = p.waiter;
    if (w !== null && w.active && p.interruptedIn(w.mode)) this.endWait(w, 'signal');
  }

  /** end a wait early (timeout or signal): the primitive forgets the waiter, the process resumes */
  private endWait(w: Waiter, status: WaitStatus): void {
    w.active = false;
    w.source.cancelWait(w);
    if (w.proc.waiter === w) w.proc.waiter = null;
    this.step(w.proc, status);
  }

  private push(t: number, kind: number, proc: Process | null, val: unknown): void {
    if (t === this.now) {
      this.nowSeq.push(this.seq++);
      this.nowKind.push(kind);
      this.nowProc.push(proc);
      this.nowVal.push(val);
    } else {
      this.heap.push(t, this.seq++, kind, proc, val);
    }
  }

  private step(p: Process, v: unknown): void {
    if (p.done) return;
    const prev = this.current;
    this.current = p;
    let r: IteratorResult<Cmd, unknown>;
    try {
      r = p.gen.next(v);
    } catch (err) {
      this.current = prev;
      if (err instanceof ProcessError) throw err;
      throw new ProcessError(p.name, this.now, err);
    }
    this.current = prev;
    if (r.done) {
      this.live.delete(p);
      p.finish(r.value);
      if (this.log.enabled) this.log.emit('exit', { result: r.value }, p);
      return;
    }
    const cmd = r.value;
    if (cmd instanceof Delay) {
      this.push(this.now + cmd.ns, EV_RESUME, p, undefined);
    } else {
      // a Waiter: the primitive has queued it already
      p.waiter = cmd;
      if (cmd.deadline !== Infinity) this.push(Math.max(cmd.deadline, this.now), EV_TIMEOUT, null, cmd);
    }
  }
}

/** The WaitResult for a wait that ended with `status` and an absolute deadline. */
export function waitResult(sim: Sim, status: WaitStatus, deadline: number): WaitResult {
  if (deadline === Infinity) return FOREVER[status];
  return { status, remainingNs: Math.max(0, deadline - sim.now) };
}

/** shared results of waits without a timeout (the hot path allocates nothing) */
const FOREVER: Record<WaitStatus, WaitResult> = {
  ok: Object.freeze({ status: 'ok', remainingNs: Infinity }),
  timeout: Object.freeze({ status: 'timeout', remainingNs: Infinity }),
  signal: Object.freeze({ status: 'signal', remainingNs: Infinity }),
};
