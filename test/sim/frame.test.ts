/**
 * Tests of frames (src/sim/frame.ts): `yield* frame(g)` behaves exactly as `yield* g` — same
 * steps at the same virtual times in the same order, same results, same exceptions where the
 * caller can catch them — while the engine resumes g directly instead of through its callers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Completion, CpuPool, frame, Sim, WaitQueue, type Cmd, type Proc } from '../../src/sim/index.js';

/** a random call tree: each node does steps, some of which call a child (maybe as a frame) */
type Step = { s: 'delay'; ns: number } | { s: 'cpu'; ns: number } | { s: 'wait'; timeoutNs: number } | { s: 'wake' } | { s: 'call'; node: Node; asFrame: boolean; catchIt: boolean } | { s: 'throw' };
interface Node {
  steps: Step[];
  ret: number;
}

const ns = fc.integer({ min: 0, max: 20 });
const nodeArb: fc.Arbitrary<Node> = fc.letrec<{ node: Node; step: Step }>((tie) => ({
  node: fc.record({ steps: fc.array(tie('step'), { maxLength: 5 }), ret: fc.integer({ min: 0, max: 99 }) }),
  step: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ s: fc.constant('delay' as const), ns }),
    fc.record({ s: fc.constant('cpu' as const), ns }),
    fc.record({ s: fc.constant('wait' as const), timeoutNs: ns }),
    fc.record({ s: fc.constant('wake' as const) }),
    fc.record({ s: fc.constant('throw' as const) }),
    fc.record({ s: fc.constant('call' as const), node: tie('node'), asFrame: fc.boolean(), catchIt: fc.boolean() }),
  ),
})).node;

/** run the same programs with every `call` plain (frames off) or as the tree says; the trace */
function runTree(procs: Node[], cpus: number, framesOn: boolean): string[] {
  const sim = new Sim({ seed: 7 });
  const cpu = new CpuPool(sim, cpus, { sliceNs: 5 });
  const wq = new WaitQueue(sim, 'wq');
  const out: string[] = [];
  const at = (what: string) => out.push(`${sim.now} ${sim.current?.name ?? '-'} ${what}`);
  function* run(n: Node, path: string): Proc<number> {
    at(`enter ${path}`);
    let i = 0;
    for (const st of n.steps) {
      const here = `${path}.${i++}`;
      switch (st.s) {
        case 'delay':
          yield sim.delay(st.ns);
          break;
        case 'cpu':
          yield* cpu.compute(st.ns);
          break;
        case 'wait':
          at(`waited ${here} ${(yield* wq.waitEvent(() => false, { timeoutNs: st.timeoutNs })).status}`);
          break;
        case 'wake':
          wq.wakeUpAll();
          break;
        case 'throw':
          at(`throw ${here}`);
          throw new Error(`thrown at ${here}`);
        case 'call': {
          const g = run(st.node, here);
          try {
            const v = yield* (framesOn && st.asFrame ? frame(g) : g);
            at(`returned ${here} ${v}`);
          } catch (e) {
            if (!st.catchIt) throw e;
            at(`caught ${here} ${(e as Error).message}`);
          }
          break;
        }
      }
    }
    return n.ret;
  }
  const ps = procs.map((n, i) => sim.spawn(`p${i}`, run(n, `p${i}`)));
  // an uncaught throw ends the run with a ProcessError naming the process and the time
  try {
    sim.run();
  } catch (e) {
    out.push(`error ${(e as Error).message}`);
  }
  out.push(`end ${sim.now} ${ps.map((p) => `${p.done}:${p.result}`).join(' ')}`);
  return out;
}

test('yield* frame(g) runs the same steps at the same times as yield* g (random call trees)', () => {
  fc.assert(
    fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), (procs, cpus) => {
      assert.deepEqual(runTree(procs, cpus, true), runTree(procs, cpus, false));
    }),
    { numRuns: 300 },
  );
});

test('a frame is resumed by the engine directly: its callers run once at the call and once at the return', () => {
  const sim = new Sim();
  let resumes = 0;
  /** a caller that forwards next() and hands the callee's result objects through unchanged */
  function counting(inner: Proc<number>): Proc<number> {
    const it: Proc<number> = {
      next(v?: unknown) {
        resumes++;
        return inner.next(v);
      },
      return: (v) => inner.return(v),
      throw: (e) => inner.throw(e),
      [Symbol.iterator]: () => it,
    } as Proc<number>;
    return it;
  }
  function* leaf(): Proc<number> {
    for (let i = 0; i < 10; i++) yield sim.delay(1);
    return 42;
  }
  let plain = 0;
  let framed = 0;
  sim.spawn('plain', (function* () {
    plain = yield* counting(leaf());
  })());
  sim.run();
  const plainResumes = resumes;
  resumes = 0;
  sim.spawn('framed', (function* () {
    framed = yield* counting(frame(leaf()));
  })());
  sim.run();
  assert.equal(plain, 42);
  assert.equal(framed, 42);
  assert.equal(plainResumes, 11); // every delay's wake-up went through the caller
  assert.equal(resumes, 2); // the call, and the return
});

test('a frame driven by hand (its result objects re-made) runs its generator itself, step for step', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  const seen: string[] = [];
  /** a wrapper that copies every result object: the engine cannot see the frame's own */
  function copying<R>(inner: Proc<R>): Proc<R> {
    const it = {
      next(v?: unknown): IteratorResult<Cmd, R> {
        const r = inner.next(v);
        return r.done === true ? { done: true, value: r.value } : { done: false, value: r.value };
      },
      return: (v: R) => inner.return(v),
      throw: (e: unknown) => inner.throw(e),
      [Symbol.iterator]: () => it,
    };
    return it as unknown as Proc<R>;
  }
  function* body(): Proc<string> {
    seen.push(`start@${sim.now}`);
    yield sim.delay(5);
    const r = yield* c.wait();
    seen.push(`woken@${sim.now} ${r.status}`);
    return 'done';
  }
  let got = '';
  sim.spawn('w', (function* () {
    got = yield* copying(frame(body()));
  })());
  sim.spawn('waker', (function* () {
    yield sim.delay(9);
    c.complete();
  })());
  sim.run();
  assert.deepEqual(seen, ['start@0', 'woken@9 ok']);
  assert.equal(got, 'done');
  assert.deepEqual(sim.liveProcesses(), []);
});

test("a frame's uncaught exception ends the run as a ProcessError naming the process and the time", () => {
  const sim = new Sim();
  function* inner(): Proc<void> {
    yield sim.delay(3);
    throw new Error('boom');
  }
  sim.spawn('victim', (function* () {
    yield* frame(inner());
  })());
  assert.throws(() => sim.run(), /process victim failed at t=3ns: boom/);
});
