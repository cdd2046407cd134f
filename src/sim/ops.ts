/**
 * DOC: wait operations — the hand-written generators behind the primitives' wait helpers.
 *
 * `yield* wq.waitEvent(...)`, `yield* completion.wait()`, `yield* slots.acquire()`,
 * `yield* sem.down()` and `yield* mutex.lock()` used to be generator functions. They are now small
 * objects that implement the Generator protocol by hand (next/return/throw/[Symbol.iterator]) and
 * run exactly the same steps, in the same order, at the same moments: nothing happens when the
 * helper is called, the body starts on the first next() (the start of the `yield*`), parks at most
 * one Waiter per yield, and returns the same values (a WaitEventOp is its own IteratorResult). One small
 * object per wait replaces two or three generator objects and their default-argument objects,
 * and a wait no longer resumes a chain of generator frames.
 *
 * A `yield*` in a generator hands the inner iterator's result objects through unchanged, so when
 * `gen.next()` returns the very object a WaitEventOp made for its yield, the process is provably
 * suspended inside `yield*` on that op and its next resumption would call the op's next() and
 * nothing else. The engine then runs the wait_event re-check loop itself: at the wake-up it
 * evaluates the condition (with `sim.current` set to the process, as before) and resumes the
 * generator only once the wait is over; a wake-up whose condition is false re-parks the process
 * with what is left of its budget without entering its code. An exception thrown by the condition
 * is kept and rethrown from the op's next(), so it surfaces at the `yield*` exactly as before. A
 * wait driven some other way (a wrapper that forwards next() by hand) takes the ordinary path:
 * the op re-checks inside its own next(), as the generator did.
 */
import { Waiter, type Cmd, type ParkedProcess, type ParkingSim, type WaitOptions, type WaitResult, type WaitSource, type WaitStatus } from './wait.js';

/** The WaitResult for a wait that ended with `status` and an absolute deadline. */
export function waitResult(sim: ParkingSim, status: WaitStatus, deadline: number): WaitResult {
  if (deadline === Infinity) return FOREVER[status];
  return { status, remainingNs: Math.max(0, deadline - sim.now) };
}

/** shared results of waits without a timeout (the hot path allocates nothing) */
const FOREVER: Record<WaitStatus, WaitResult> = {
  ok: Object.freeze({ status: 'ok', remainingNs: Infinity }),
  timeout: Object.freeze({ status: 'timeout', remainingNs: Infinity }),
  signal: Object.freeze({ status: 'signal', remainingNs: Infinity }),
};

const S_START = 0;
const S_PARKED = 1;
/** the engine finished the wait; next() hands out the result (or throws the condition's error) */
const S_RESULT = 2;
const S_CLOSED = 3;
/** a WaitEventOp whose condition threw at a re-check by the engine: next() throws `value` */
const S_THROW = 4;

/**
 * Base of the hand-written generators: an op is its own iterator and its own IteratorResult.
 * Subclasses implement step(v), which returns `this` after setting done/value (or throws).
 */
abstract class OpBase<R> {
  protected state = S_START;

  protected abstract step(v: unknown): IteratorResult<Cmd, R>;

  next(v?: unknown): IteratorResult<Cmd, R> {
    if (this.state === S_CLOSED) return this.finish(undefined);
    return this.step(v);
  }

  /** as for a generator with no finally blocks: close it */
  return(value: R): IteratorResult<Cmd, R> {
    return this.finish(value);
  }

  throw(e: unknown): IteratorResult<Cmd, R> {
    this.finish(undefined);
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }

  protected finish(value: unknown): IteratorResult<Cmd, R> {
    this.state = S_CLOSED;
    return { done: true, value: value as R };
  }

  protected yieldCmd(cmd: Cmd): IteratorResult<Cmd, R> {
    return { done: false, value: cmd };
  }
}

/**
 * wait_event: `WaitQueue.waitEvent(cond, opts)` (and Completion.wait, SlotCounter.acquire). Same
 * steps as the generator it replaces:
 *
 *   if (cond()) return ok;
 *   for (;;) {
 *     w = parkUntil(mode, deadline); if (!w) return signal;
 *     sleepers.push(w); status = yield w;
 *     if (cond()) return ok; if (status !== 'ok') return status; if (now >= deadline) return timeout;
 *   }
 */
/** where a wait_event sleeps: a WaitQueue, or a Completion's own list of sleepers */
export interface SleeperList extends WaitSource {
  readonly sim: ParkingSim;
  enqueue(w: Waiter): void;
}

/** a Completion: its "take one done" is the condition of its waits */
export interface Consumer {
  tryConsume(): boolean;
}

/** the process of a wait op's Waiter part before it parks */
const NO_PROC: ParkedProcess = { waiter: null };

/**
 * A wait_event is one object: the op (its own iterator), its own IteratorResult (`done` and
 * `value`: next() returns the op itself) and the Waiter it parks on first. One allocation per
 * wait instead of three, and a wake-up touches one object where it touched three. A re-park
 * after a wake-up whose condition was false takes a new Waiter (the first one may still be
 * referred to by its timeout's event, which must find it inactive). Nothing reads the result
 * object after the next next() call, and nothing reads a Waiter's own `value` here, so the one
 * `value` field serves every state: the options before the start, the yielded Waiter while
 * parked, the result (or the condition's exception) once the engine ended the wait. Fields are set
 * in the constructor rather than by initializers: a flat constructor is markedly cheaper than a
 * chain of them.
 */
export class WaitEventOp extends Waiter {
  /** IteratorResult.done of the op's latest result (the op itself) */
  declare done: boolean;
  declare private state: number;
  /** the condition, or null for a Completion's wait (the condition is then wq.tryConsume()) */
  declare private readonly cond: (() => boolean) | null;

  constructor(wq: SleeperList, cond: (() => boolean) | null, opts: WaitOptions | undefined) {
    super(NO_PROC, 'uninterruptible', Infinity, wq);
    this.active = false;
    this.op = this;
    this.value = opts;
    this.done = false;
    this.state = S_START;
    this.cond = cond;
  }

  /** @internal the result object of its latest yield: the op itself while it is parked */
  get lastYield(): IteratorResult<Cmd, WaitResult> | null {
    return this.state === S_PARKED ? (this as unknown as IteratorResult<Cmd, WaitResult>) : null;
  }

  /** where it sleeps (the Waiter's source, which is always the op's list of sleepers) */
  private get wq(): SleeperList {
    return this.source as SleeperList;
  }

  next(v?: unknown): IteratorResult<Cmd, WaitResult> {
    switch (this.state) {
      case S_START: {
        this.state = S_CLOSED; // until it parks: a throwing condition closes it, as it would a generator
        const wq = this.wq;
        const sim = wq.sim;
        const opts = this.value as WaitOptions | undefined;
        if (opts !== undefined) {
          this.mode = opts.mode ?? 'uninterruptible';
          if (opts.timeoutNs !== undefined) this.due = sim.now + opts.timeoutNs;
        }
        if (this.test()) return this.finish(waitResult(sim, 'ok', this.deadline));
        // the first sleep parks on the op itself
        if (!sim.parkOn(this, this.deadline, wq)) return this.finish(waitResult(sim, 'signal', this.deadline));
        wq.enqueue(this);
        this.state = S_PARKED;
        return this.yieldCmd(this);
      }
      case S_PARKED: {
        // driven by hand (not through the engine's fast path): the same re-check, inline
        const w = this.recheck(v as WaitStatus);
        if (w !== null) return this.yieldCmd(w);
        return this.result();
      }
      case S_RESULT:
      case S_THROW:
        return this.result();
      default:
        return this.finish(undefined);
    }
  }

  /** as for a generator with no finally blocks: close it */
  return(value: WaitResult): IteratorResult<Cmd, WaitResult> {
    return this.finish(value);
  }

  throw(e: unknown): IteratorResult<Cmd, WaitResult> {
    this.finish(undefined);
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }

  private finish(value: unknown): IteratorResult<Cmd, WaitResult> {
    this.state = S_CLOSED;
    this.done = true;
    this.value = value;
    return this as unknown as IteratorResult<Cmd, WaitResult>;
  }

  private yieldCmd(cmd: Cmd): IteratorResult<Cmd, WaitResult> {
    this.done = false;
    this.value = cmd;
    return this as unknown as IteratorResult<Cmd, WaitResult>;
  }

  /** evaluate the wait condition */
  private test(): boolean {
    const c = this.cond;
    return c !== null ? c() : (this.source as unknown as Consumer).tryConsume();
  }

  private result(): IteratorResult<Cmd, WaitResult> {
    if (this.state === S_THROW) {
      const e = this.value;
      this.finish(undefined);
      throw e;
    }
    return this.finish(this.value);
  }

  /** sleep again after a wake-up, on a new Waiter, with what is left of the budget */
  private repark(): Waiter | null {
    const wq = this.wq;
    const w = wq.sim.parkUntil(this.mode, this.deadline, wq);
    if (w !== null) {
      w.op = this;
      wq.enqueue(w);
    }
    return w;
  }

  /**
   * @internal The process woke with `status`: re-check the condition. Returns the new Waiter if
   * the process sleeps again, or null once the wait is over (the result is then in `value`, or
   * the condition's exception is kept for next() to throw).
   */
  recheck(status: WaitStatus): Waiter | null {
    const sim = this.wq.sim;
    let r: WaitResult;
    try {
      if (this.test()) r = waitResult(sim, 'ok', this.deadline);
      else if (status !== 'ok') r = waitResult(sim, status, this.deadline);
      else if (sim.now >= this.deadline) r = waitResult(sim, 'timeout', this.deadline);
      else {
        const w = this.repark();
        if (w !== null) return w;
        r = waitResult(sim, 'signal', this.deadline);
      }
    } catch (e) {
      this.value = e;
      this.state = S_THROW;
      return null;
    }
    this.state = S_RESULT;
    this.value = r;
    return null;
  }
}

/** the default `opts` of a wait (only ever read) */
export const NO_OPTS: WaitOptions = Object.freeze({});

/**
 * A wait that parks once and returns what the wake-up says: Semaphore.down, Mutex.lock,
 * Process.join. `start()` runs the body up to the park (fast path: finish() at once).
 */
export abstract class ParkOnceOp<R> extends OpBase<R> {
  protected step(v: unknown): IteratorResult<Cmd, R> {
    if (this.state === S_START) {
      this.state = S_CLOSED; // until it parks: a throwing body closes it, as it would a generator
      const r = this.start();
      if (r.done !== true) this.state = S_PARKED;
      return r;
    }
    return this.finish(this.resumed(v as WaitStatus));
  }

  /** the body up to its single yield: finish(...) or yieldCmd(waiter) */
  protected abstract start(): IteratorResult<Cmd, R>;

  /** the value returned after the wake-up */
  protected abstract resumed(status: WaitStatus): R;
}
