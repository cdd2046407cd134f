/**
 * DOC: what a sleep is — the words the engine and its wait primitives share.
 *
 * A process yields a Delay (let time pass) or a Waiter (block until woken); a Waiter records how
 * the sleep may end (its mode, its deadline, the primitive that parked it). This file is the leaf
 * both the engine (engine.ts) and the hand-written wait operations (ops.ts) build on, so neither
 * has to import the other's types: the engine's Process and Sim appear here only as the few
 * members a sleep needs (ParkedProcess, ParkingSim).
 */

/** the engine's Process, as far as a Waiter needs it */
export interface ParkedProcess {
  waiter: Waiter | null;
}

/**
 * The wait op that parked a Waiter (a wait_event, a CPU pool's compute), as far as the engine's
 * fast path needs it: the result object of its latest yield, and the op's next steps at a
 * wake-up — the Waiter it parks on next, or null once the wait is over (ops.ts).
 */
export interface ParkedOp {
  readonly lastYield: unknown;
  recheck(status: WaitStatus): Waiter | null;
}

/** the engine, as far as the wait operations need it: the clock and parking */
export interface ParkingSim {
  readonly now: number;
  parkUntil(mode: WaitMode, deadline: number, source: WaitSource): Waiter | null;
  /**
   * Park the current process on `w`, an object of a Waiter subclass that no event and no queue
   * refers to yet (a wait op that is its own first Waiter): false if a pending signal already
   * ends a wait in w's mode.
   */
  parkOn(w: Waiter, deadline: number, source: WaitSource): boolean;
}

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
  declare active: boolean;
  /** the primitive's value for the waiter (e.g. a slot handed over), set before waking */
  declare value: unknown;
  /** the process it parks (the engine's Process); set once, when a subclass object first parks */
  declare proc: ParkedProcess;
  declare mode: WaitMode;
  /**
   * the deadline, null for none: a field that only ever holds numbers is a boxed double of its
   * own in every object (one more allocation per sleep); one that may hold null holds Infinity's
   * absence as a constant
   */
  declare protected due: number | null;
  declare source: WaitSource;
  /** @internal the wait_event that parked this waiter, if any */
  declare op: ParkedOp | null;

  // fields assigned here rather than by initializers: one Waiter is allocated per sleep; in the
  // order a wake-up and then the process's step read them (the first ones share a cache line)
  constructor(proc: ParkedProcess, mode: WaitMode, deadline: number, source: WaitSource) {
    this.active = true;
    this.proc = proc;
    this.source = source;
    this.due = deadline === Infinity ? null : deadline;
    this.value = undefined;
    this.op = null;
    this.mode = mode;
  }

  /**
   * @internal Park on this Waiter again, as on a new one of the same process and mode. Only for
   * a Waiter no pending event and no primitive's queue refers to any more (its sleep ended with
   * no timeout armed): a stale event seeing it active again would end the new sleep.
   */
  rearm(deadline: number, source: WaitSource): void {
    this.due = deadline === Infinity ? null : deadline;
    this.source = source;
    this.active = true;
    this.value = undefined;
  }

  /** the absolute deadline in ns (Infinity: none) */
  get deadline(): number {
    const d = this.due;
    return d === null ? Infinity : d;
  }
}
