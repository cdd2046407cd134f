/**
 * DOC: frames — a generator the engine resumes directly instead of through its caller's `yield*`.
 *
 * `yield* g` makes every resumption of g go through the caller first: V8 resumes the caller's
 * generator, which calls g.next(), which resumes g. A process whose code nests N generators deep
 * (udevd's worker → libkmod → finit_module → load_module → …) pays N resumptions for every event
 * the innermost one waits for, although nothing of the outer N-1 runs. `yield* frame(g)` runs the
 * same code with the same results, but the engine keeps g on the process's stack of frames and
 * resumes it directly; the callers are resumed once, when g returns (or throws), exactly where
 * `yield* g` would have resumed them. It is how a kernel entry point runs on the task's own
 * stack: a frame boundary costs two small objects, so it is put where a call does many steps.
 *
 * The protocol mirrors the wait ops' (ops.ts): the op's first result object is the proof the
 * engine looks for. If the engine receives it unchanged, the caller's chain is provably suspended
 * in `yield*` on this op, and the engine takes g over (accept()). If the op is driven some other
 * way (a wrapper that forwards next() by hand and makes its own result objects), the engine
 * resumes the caller at once and the op then simply delegates to g, step for step, as `yield* g`
 * would: same order, same moments, no event added either way.
 */
import type { Cmd, Proc } from './wait.js';

/**
 * %GeneratorPrototype%.next. Every generator function expression gets its own `prototype`, so
 * generator objects of different closures have different hidden classes and `g.next` is a
 * megamorphic property load that misses V8's stub cache once there are thousands of processes.
 * A generator whose `next` is this builtin is resumed by calling it directly (the engine's
 * processes and frames), which is the same call without the lookup.
 */
export const GEN_NEXT = (Object.getPrototypeOf(function* () {}) as { prototype: Proc }).prototype.next as (this: Proc, v: unknown) => IteratorResult<Cmd, unknown>;

const S_START = 0;
/** the first result was handed out; accepted by the engine or not yet known */
const S_OFFERED = 1;
/** g runs on the engine's stack of frames */
const S_ENGINE = 2;
/** driven by hand: next() forwards to g */
const S_DELEGATE = 3;
/** g is over: next() hands out its value (or throws its exception) */
const S_RESULT = 4;
const S_CLOSED = 5;

const NO_ERR = Symbol('no error');

export class FrameOp<R = unknown> {
  /** @internal the result object of the op's first yield: `value` is the op itself */
  declare lastYield: IteratorResult<Cmd, R> | null;
  /** @internal the generator the frame runs */
  declare readonly gen: Proc<R>;
  /** @internal gen's `next` is the builtin GEN_NEXT (the engine resumes it through that) */
  declare readonly native: boolean;
  /** @internal the frame below this one on the process's stack (null: the process's own generator) */
  declare below: FrameOp | null;
  declare private state: number;
  declare private value: unknown;
  declare private err: unknown;

  constructor(gen: Proc<R>) {
    this.lastYield = null;
    this.gen = gen;
    this.native = gen.next === GEN_NEXT;
    this.below = null;
    this.state = S_START;
    this.value = undefined;
    this.err = NO_ERR;
  }

  next(v?: unknown): IteratorResult<Cmd, R> {
    switch (this.state) {
      case S_START: {
        this.state = S_OFFERED;
        const r: IteratorResult<Cmd, R> = { done: false, value: this as unknown as Cmd };
        this.lastYield = r;
        return r;
      }
      case S_OFFERED:
        // resumed before the engine took g over: run g here, as `yield* g` would
        this.state = S_DELEGATE;
        return this.forward(this.gen.next());
      case S_DELEGATE:
        return this.forward(this.gen.next(v));
      case S_RESULT: {
        this.state = S_CLOSED;
        const e = this.err;
        if (e !== NO_ERR) {
          this.err = NO_ERR;
          throw e;
        }
        const value = this.value as R;
        this.value = undefined;
        return { done: true, value };
      }
      default:
        return { done: true, value: undefined as R };
    }
  }

  /** as for `yield* g`: closing the op closes g */
  return(value: R): IteratorResult<Cmd, R> {
    const s = this.state;
    this.state = S_CLOSED;
    if (s === S_ENGINE || s === S_DELEGATE) return this.gen.return(value);
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<Cmd, R> {
    if (this.state === S_DELEGATE) return this.forward(this.gen.throw(e));
    this.state = S_CLOSED;
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }

  private forward(r: IteratorResult<Cmd, R>): IteratorResult<Cmd, R> {
    if (r.done === true) this.state = S_CLOSED;
    return r;
  }

  /** @internal the engine takes g over (it received lastYield unchanged); false if it may not */
  accept(): boolean {
    if (this.state !== S_OFFERED) return false;
    this.state = S_ENGINE;
    return true;
  }

  /** @internal g returned `value` on the engine's stack: the caller's next resumption gets it */
  returned(value: unknown): void {
    this.state = S_RESULT;
    this.value = value;
  }

  /** @internal g threw on the engine's stack: the caller's next resumption throws it */
  threw(e: unknown): void {
    this.state = S_RESULT;
    this.err = e;
  }
}

/**
 * `yield* frame(g)`: the same as `yield* g` (same steps, same result, same exceptions), with g
 * resumed by the engine directly while it runs (see the DOC above).
 */
export function frame<R>(gen: Proc<R>): Proc<R> {
  return new FrameOp<R>(gen) as unknown as Proc<R>;
}
