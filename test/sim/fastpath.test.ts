/**
 * Tests of the engine's fast paths: the wait helpers implemented as hand-written generators, the
 * re-check loop of wait_event run by the engine, the timing wheel in front of the event heap, and
 * the direct resumption of generator objects. Each pins down that the fast path behaves as the
 * plain generator code it replaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Completion, CpuPool, Mutex, Semaphore, Sim, SlotCounter, WaitQueue, type Cmd, type Proc, type WaitResult, type WaitSource, type Waiter } from '../../src/sim/index.js';

test('a wake-up whose condition is false does not run the process; the condition runs as the process', () => {
  const sim = new Sim({ log: true });
  const wq = new WaitQueue(sim, 'q');
  let n = 0;
  const evals: string[] = [];
  const p = sim.spawn('sleeper', (function* () {
    sim.log.emit('before');
    const r = yield* wq.waitEvent(() => {
      evals.push(`${sim.current?.name}@${sim.now}`);
      return n >= 3;
    });
    sim.log.emit('after', { status: r.status });
  })());
  sim.spawn('waker', (function* () {
    for (let i = 1; i <= 3; i++) {
      yield sim.delay(10);
      n = i;
      wq.wakeUpAll();
    }
  })());
  sim.run();
  // evaluated before sleeping and after every wake-up, each time as the sleeping process
  assert.deepEqual(evals, ['sleeper@0', 'sleeper@10', 'sleeper@20', 'sleeper@30']);
  const mine = sim.log.records.filter((r) => r.pid === p.pid && (r.kind === 'before' || r.kind === 'after'));
  assert.deepEqual(mine.map((r) => `${r.kind}@${r.t}`), ['before@0', 'after@30']);
});

test('a condition that throws at a re-check surfaces at the yield*, where the process can catch it', () => {
  const sim = new Sim();
  const wq = new WaitQueue(sim, 'q');
  let armed = false;
  let caught = '';
  sim.spawn('w', (function* () {
    try {
      yield* wq.waitEvent(() => {
        if (armed) throw new Error('cond failed');
        return false;
      });
    } catch (e) {
      caught = `${(e as Error).message}@${sim.now}`;
    }
  })());
  sim.spawn('waker', (function* () {
    yield sim.delay(5);
    armed = true;
    wq.wakeUpAll();
  })());
  sim.run();
  assert.equal(caught, 'cond failed@5');
  assert.deepEqual(sim.liveProcesses(), []);
});

test('an uncaught throwing condition is reported as the process failing', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  const wq = new WaitQueue(sim, 'q');
  let armed = false;
  sim.spawn('bad', (function* () {
    yield* wq.waitEvent(() => {
      if (armed) throw new Error('boom');
      return false;
    });
  })());
  sim.spawn('waker', (function* () {
    yield* c.wait({ timeoutNs: 7 });
    armed = true;
    wq.wakeUp();
  })());
  assert.throws(() => sim.run(), /process bad failed at t=7ns: boom/);
});

test('wait helpers driven by hand (not through yield*) behave like the generators they replace', () => {
  const sim = new Sim();
  const wq = new WaitQueue(sim, 'q');
  let n = 0;
  const got: string[] = [];
  // a wrapper that forwards every step itself: the engine never sees the wait op
  function* forward<R>(it: Proc<R>): Proc<R> {
    let r = it.next();
    while (!r.done) r = it.next(yield r.value);
    return r.value;
  }
  sim.spawn('w', (function* () {
    const r = yield* forward(wq.waitEvent(() => n >= 2, { timeoutNs: 100 }));
    got.push(`${r.status}/${r.remainingNs}@${sim.now}`);
    const t = yield* forward(wq.waitEvent(() => false, { timeoutNs: 15 }));
    got.push(`${t.status}/${t.remainingNs}@${sim.now}`);
  })());
  sim.spawn('waker', (function* () {
    for (let i = 1; i <= 2; i++) {
      yield sim.delay(10);
      n = i;
      wq.wakeUpAll();
    }
    yield sim.delay(3);
    wq.wakeUpAll(); // a spurious wake-up of the second wait
  })());
  sim.run();
  assert.deepEqual(got, ['ok/80@20', 'timeout/0@35']);
});

test('a wait helper does nothing until iterated; its timeout starts at the yield*', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  let res = '';
  sim.spawn('w', (function* () {
    const w = c.wait({ timeoutNs: 10 }); // created at 0, nothing happens yet
    assert.equal(c.waiting, 0);
    yield sim.delay(5);
    const r = yield* w; // the budget runs from 5
    res = `${r.status}@${sim.now}`;
  })());
  sim.run();
  assert.equal(res, 'timeout@15');
});

test('a wait helper can be spawned as a process of its own', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  const sem = new Semaphore(sim, 's', 0);
  const p = sim.spawn('waiter', c.wait({ timeoutNs: 50 }));
  const q = sim.spawn('downer', sem.down());
  sim.spawn('completer', (function* () {
    yield sim.delay(4);
    c.complete();
    yield sim.delay(4);
    sem.up();
  })());
  sim.run();
  assert.equal(p.done, true);
  assert.deepEqual(p.result, { status: 'ok', remainingNs: 46 });
  assert.equal(q.result, 'ok');
});

test('finished wait helpers behave like finished generators', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  c.completeAll();
  let second: IteratorResult<Cmd, WaitResult> | undefined;
  sim.spawn('w', (function* () {
    const it = c.wait();
    const first = it.next();
    assert.equal(first.done, true);
    assert.equal((first.value as WaitResult).status, 'ok');
    const r = it.next();
    second = { done: r.done, value: r.value } as IteratorResult<Cmd, WaitResult>;
    yield sim.delay(1);
  })());
  sim.run();
  assert.deepEqual(second, { done: true, value: undefined });
});

test('processes need not be generator objects: any iterator of commands works', () => {
  const sim = new Sim();
  const seen: number[] = [];
  let step = 0;
  const it: Proc<string> = {
    next(): IteratorResult<Cmd, string> {
      seen.push(sim.now);
      return step++ < 2 ? { done: false, value: sim.delay(7) } : { done: true, value: 'end' };
    },
    return(v: string): IteratorResult<Cmd, string> {
      return { done: true, value: v };
    },
    throw(e: unknown): IteratorResult<Cmd, string> {
      throw e;
    },
    [Symbol.iterator]() {
      return this;
    },
  };
  const p = sim.spawn('custom', it);
  sim.run();
  assert.deepEqual(seen, [0, 7, 14]);
  assert.equal(p.result, 'end');
});

test('timing wheel: far and near events due at the same time keep (time, sequence) order', () => {
  const sim = new Sim();
  const order: string[] = [];
  // scheduled at t=0 for t=5000 (beyond the wheel's horizon), then at t=4500 for t=5000 (within it)
  sim.at(5000, () => order.push('far-first'));
  sim.at(4500, () => {
    sim.at(5000, () => order.push('near-second'));
    sim.at(4501, () => order.push('near@4501'));
  });
  sim.at(5000, () => order.push('far-third'));
  sim.at(3, () => order.push('early'));
  sim.spawn('p', (function* () {
    yield sim.delay(5000);
    order.push(`proc@${sim.now}`);
  })());
  sim.run();
  assert.deepEqual(order, ['early', 'near@4501', 'far-first', 'far-third', 'proc@5000', 'near-second']);
});

test('timing wheel: many delays across and beyond the horizon come out in time order', () => {
  const sim = new Sim({ seed: 7 });
  const rng = sim.rng.stream('t');
  const fired: [number, number][] = [];
  for (let i = 0; i < 400; i++) {
    const d = rng.int(0, 3000);
    sim.spawn(`p${i}`, (function* () {
      yield sim.delay(d);
      fired.push([sim.now, i]);
      yield sim.delay(d % 1100);
      fired.push([sim.now, i]);
    })());
  }
  sim.run();
  assert.equal(fired.length, 800);
  for (let k = 1; k < fired.length; k++) assert.ok(fired[k]![0] >= fired[k - 1]![0], `time went back at ${k}`);
  // equal times of first delays: in spawn order (they were scheduled in that order at t=0)
  const firsts = new Map<number, number[]>();
  const seenProc = new Set<number>();
  for (const [t, i] of fired) {
    if (seenProc.has(i)) continue;
    seenProc.add(i);
    firsts.set(t, [...(firsts.get(t) ?? []), i]);
  }
  for (const ids of firsts.values()) assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
  assert.deepEqual(sim.liveProcesses(), []);
  assert.equal(sim.idle(), true);
});

test('signals at non-integer times and timeouts keep their order next to wheel events', () => {
  const sim = new Sim();
  const wq = new WaitQueue(sim, 'q');
  const res: string[] = [];
  const p = sim.spawn('int', (function* () {
    const r = yield* wq.waitEvent(() => false, { mode: 'interruptible', timeoutNs: 20 });
    res.push(`int:${r.status}@${sim.now}`);
  })());
  sim.spawn('plain', (function* () {
    const r = yield* wq.waitEvent(() => false, { timeoutNs: 11 });
    res.push(`plain:${r.status}@${sim.now}`);
  })());
  sim.signal(p, 'SIGUSR1', 10.5);
  sim.run();
  assert.deepEqual(res, ['int:signal@10.5', 'plain:timeout@11']);
});

test('run(untilNs) stops before later events and resumes where it stopped', () => {
  const sim = new Sim();
  const seen: number[] = [];
  for (const t of [1, 500, 1023, 1024, 1025, 4000]) sim.at(t, () => seen.push(sim.now));
  sim.run(1024);
  assert.deepEqual(seen, [1, 500, 1023, 1024]);
  assert.equal(sim.now, 1024);
  assert.equal(sim.nextEventTime(), 1025);
  sim.run(2000);
  assert.equal(sim.now, 2000);
  sim.run();
  assert.deepEqual(seen, [1, 500, 1023, 1024, 1025, 4000]);
  assert.equal(sim.idle(), true);
});

test('liveProcesses lists live processes in spawn order as others finish', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  for (const [name, d] of [['a', 5], ['b', 1], ['c', 3], ['d', 9]] as const) {
    sim.spawn(name, (function* () {
      yield sim.delay(d);
      if (name === 'c' || name === 'a') yield* c.wait();
    })());
  }
  sim.run(4);
  assert.deepEqual(sim.liveProcesses().map((p) => p.name), ['a', 'c', 'd']);
  sim.run();
  assert.deepEqual(sim.liveProcesses().map((p) => p.name), ['a', 'c']);
  c.completeAll();
  sim.run();
  assert.deepEqual(sim.liveProcesses(), []);
});

test('completion: exclusive wake-ups skip sleepers that already left, in FIFO order', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  const got: string[] = [];
  for (const [name, timeoutNs] of [['a', 100], ['b', 3], ['c', 100], ['d', 100]] as const) {
    sim.spawn(name, (function* () {
      const r = yield* c.wait({ timeoutNs });
      got.push(`${name}:${r.status}@${sim.now}`);
    })());
  }
  sim.spawn('completer', (function* () {
    yield sim.delay(5);
    assert.equal(c.waiting, 3); // b gave up at 3
    c.complete();
    c.complete();
    assert.equal(c.waiting, 1);
    yield sim.delay(5);
    c.completeAll();
  })());
  sim.run();
  assert.deepEqual(got, ['b:timeout@3', 'a:ok@5', 'c:ok@5', 'd:ok@10']);
});

test('Process.waiter is the wait a process is parked on: set while it sleeps, null once woken (before it runs) and while it runs', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  const wq = new WaitQueue(sim, 'q');
  let go = false;
  const seen: string[] = [];
  const name = (w: Waiter | null): string => (w === null ? 'none' : ((w.source as { name?: string }).name ?? '?'));
  const sleeper = sim.spawn('sleeper', (function* () {
    yield* c.wait();
    seen.push(`running:${name(sim.current!.waiter)}`);
    yield* wq.waitEvent(() => go);
    seen.push(`running:${name(sim.current!.waiter)}`);
  })());
  sim.spawn('waker', (function* () {
    yield sim.delay(1);
    seen.push(`asleep:${name(sleeper.waiter)}`);
    c.complete();
    seen.push(`woken:${name(sleeper.waiter)}`);
    yield sim.delay(1);
    seen.push(`asleep:${name(sleeper.waiter)}`);
    wq.wakeUpAll(); // the condition is false: it sleeps again, on a new Waiter of the same queue
    yield sim.delay(1);
    seen.push(`asleep:${name(sleeper.waiter)}`);
    go = true;
    wq.wakeUpAll();
    seen.push(`woken:${name(sleeper.waiter)}`);
  })());
  sim.run();
  assert.deepEqual(seen, ['asleep:c', 'woken:none', 'running:none', 'asleep:q', 'asleep:q', 'woken:none', 'running:none']);
  assert.equal(sleeper.waiter, null);
});

test('pending signals: the Set is there when asked for, and direct changes to it count', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  let r = '';
  const p = sim.spawn('p', (function* () {
    r = (yield* c.wait({ mode: 'interruptible' })).status;
  })());
  assert.equal(p.signalPending(), false);
  assert.equal(p.pendingSignals.size, 0);
  p.pendingSignals.add('SIGINT'); // pending before the process first runs
  sim.run();
  assert.equal(r, 'signal');
  p.flushSignals();
  assert.equal(p.pendingSignals.size, 0);
});

test('mutex, semaphore and slot counter ops keep their hand-off semantics with signals', () => {
  const sim = new Sim();
  const m = new Mutex(sim, 'm');
  const sem = new Semaphore(sim, 's', 1);
  const slots = new SlotCounter(sim, 'slots', 1);
  const out: string[] = [];
  const user = (name: string, start: number) =>
    sim.spawn(name, (function* () {
      yield sim.delay(start);
      const a = yield* m.lock('interruptible');
      out.push(`${name}:lock:${a}@${sim.now}`);
      if (a !== 'ok') return;
      const b = yield* sem.down({ mode: 'killable', timeoutNs: 30 });
      out.push(`${name}:down:${b}@${sim.now}`);
      const s = yield* slots.acquire({ timeoutNs: 30 });
      out.push(`${name}:slot:${s.status}@${sim.now}`);
      yield sim.delay(10);
      m.unlock();
      if (b === 'ok') sem.up();
      if (s.status === 'ok') slots.release();
    })());
  user('a', 0);
  const b = user('b', 1);
  user('c', 2);
  sim.signal(b, 'SIGINT', 2);
  sim.run();
  // b's signal arrives while it sleeps on the held mutex; c gets the mutex handed over at 10
  assert.deepEqual(out, [
    'a:lock:ok@0',
    'a:down:ok@0',
    'a:slot:ok@0',
    'b:lock:signal@2',
    'c:lock:ok@10',
    'c:down:ok@10',
    'c:slot:ok@10',
  ]);
  assert.equal(m.locked, false);
  assert.equal(sem.count, 1);
  assert.equal(slots.free, 1);
});

test("a woken sleep's pending timeout does not end the process's next sleep, nor a fired one the sleep after it", () => {
  const sim = new Sim();
  const a = new WaitQueue(sim, 'a');
  const b = new Completion(sim, 'b');
  let ready = false;
  const seen: string[] = [];
  sim.spawn('sleeper', (function* () {
    // woken at 5, its timeout event (due at 10) still queued
    const r1 = yield* a.waitEvent(() => ready, { timeoutNs: 10 });
    seen.push(`${r1.status}@${sim.now}`);
    // two sleeps without a timeout across the first's deadline
    const r2 = yield* b.wait();
    seen.push(`${r2.status}@${sim.now}`);
    const r3 = yield* b.wait();
    seen.push(`${r3.status}@${sim.now}`);
    // a sleep that times out, then one with a timeout that ends first
    const r4 = yield* a.waitEvent(() => false, { timeoutNs: 3 });
    seen.push(`${r4.status}@${sim.now}`);
    const r5 = yield* b.wait({ timeoutNs: 100 });
    seen.push(`${r5.status}@${sim.now}`);
  })());
  sim.spawn('waker', (function* () {
    yield sim.delay(5);
    ready = true;
    a.wakeUpAll();
    yield sim.delay(15);
    b.complete();
    yield sim.delay(5);
    b.complete();
    yield sim.delay(10);
    b.complete();
  })());
  sim.run();
  assert.deepEqual(seen, ['ok@5', 'ok@20', 'ok@25', 'timeout@28', 'ok@35']);
  assert.deepEqual(sim.liveProcesses(), []);
});

/**
 * The round-robin CPU pool as the plain generator its doc describes (cpu.ts): FIFO queue,
 * preempt the longest-running burst once it has had its slice while anyone queues. The
 * reference for the pool's fast paths (the engine driving compute, and the preemption timer
 * switching bursts itself when nothing else is due).
 */
class ReferencePool implements WaitSource {
  private readonly queue: Waiter[] = [];
  private readonly running: { start: number; w: Waiter }[] = [];
  private preemptAt = Infinity;
  private free: number;
  preemptions = 0;
  busyNs = 0;
  constructor(
    private readonly sim: Sim,
    cpus: number,
    private readonly sliceNs: number,
  ) {
    this.free = cpus;
  }
  cancelWait(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }
  *compute(ns: number): Proc<void> {
    const sim = this.sim;
    let left = Math.round(ns);
    while (left > 0) {
      if (this.free > 0 && this.queue.length === 0) this.free--;
      else {
        const w = sim.park({}, this)!;
        this.queue.push(w);
        this.schedule();
        yield w;
      }
      const start = sim.now;
      const w = sim.park({ timeoutNs: left }, { cancelWait: () => {} })!;
      const r = { start, w };
      this.running.push(r);
      if (this.queue.length > 0) this.schedule();
      const status = yield w;
      this.running.splice(this.running.indexOf(r), 1);
      this.busyNs += sim.now - start;
      left = status === 'timeout' ? 0 : left - (sim.now - start);
      if (this.queue.length > 0) sim.wake(this.queue.shift()!);
      else this.free++;
    }
  }
  private schedule(): void {
    const oldest = this.running[0];
    if (this.queue.length === 0 || oldest === undefined) return;
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
      this.schedule();
    });
  }
}

/** a plain callback at t × scale + off that is not the pool's: it logs, and may start a process that computes cpuNs × scale */
interface ForeignTimer {
  t: number;
  off: number;
  cpuNs: number;
}

type CpuStep = { s: 'delay'; ns: number } | { s: 'cpu'; ns: number; byHand: boolean } | { s: 'wait' } | { s: 'wake' };
const cpuStepArb: fc.Arbitrary<CpuStep> = fc.oneof(
  fc.record({ s: fc.constant('delay' as const), ns: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ s: fc.constant('cpu' as const), ns: fc.integer({ min: 0, max: 40 }), byHand: fc.boolean() }),
  fc.record({ s: fc.constant('wait' as const) }),
  fc.record({ s: fc.constant('wake' as const) }),
);

/**
 * every process's steps, with the time each ends at; the pool's counters and the end state
 * (`scale` multiplies every duration: at 1000 the slices and bursts reach the event heap)
 */
function runCpuWorkload(procs: CpuStep[][], cpus: number, sliceNs: number, pool: 'fast' | 'zero-tiebreak' | 'reference', scale = 1, chunkNs = 0, timers: ForeignTimer[] = []): string[] {
  const sim = new Sim({ seed: 3, ...(pool === 'zero-tiebreak' ? { tieBreak: { choose: () => 0 } } : {}) });
  const fast = pool === 'reference' ? null : new CpuPool(sim, cpus, { sliceNs: sliceNs * scale });
  const ref = pool === 'reference' ? new ReferencePool(sim, cpus, sliceNs * scale) : null;
  const wq = new WaitQueue(sim, 'wq');
  const out: string[] = [];
  /** drives a compute by hand: the engine cannot run its steps itself */
  function* byHand(it: Proc<void>): Proc<void> {
    let r = it.next();
    while (!r.done) r = it.next(yield r.value);
  }
  procs.forEach((steps, i) =>
    sim.spawn(`p${i}`, (function* () {
      for (const [j, st] of steps.entries()) {
        if (st.s === 'delay') yield sim.delay(st.ns * scale);
        else if (st.s === 'cpu') {
          const c = fast !== null ? fast.compute(st.ns * scale) : ref!.compute(st.ns * scale);
          yield* st.byHand ? byHand(c) : c;
        } else if (st.s === 'wait') yield* wq.waitEvent(() => false, { timeoutNs: 7 * scale });
        else wq.wakeUpAll();
        out.push(`${sim.now} p${i}.${j} ${st.s}`);
      }
    })()),
  );
  timers.forEach((tm, k) =>
    sim.at(tm.t * scale + tm.off, () => {
      out.push(`${sim.now} timer${k}`);
      if (tm.cpuNs > 0) {
        sim.spawn(`t${k}`, (function* () {
          yield* fast !== null ? fast.compute(tm.cpuNs * scale) : ref!.compute(tm.cpuNs * scale);
          out.push(`${sim.now} t${k} cpu`);
        })());
      }
    }),
  );
  const counters = fast ?? ref!;
  if (chunkNs > 0) {
    // run(untilNs) in steps: each stop sees the same clock and counters
    for (let t = chunkNs; !sim.idle(); t += chunkNs) {
      sim.run(t);
      out.push(`stop ${sim.now} busy ${counters.busyNs} preempted ${counters.preemptions}`);
    }
  } else sim.run();
  out.push(`end ${sim.now} busy ${counters.busyNs} preempted ${counters.preemptions} live ${sim.liveProcesses().length}`);
  return out;
}

test('CPU pool with a time slice: the same schedule as the plain round-robin generator and as under a tie-break (random workloads)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(cpuStepArb, { maxLength: 8 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 9 }),
      (procs, cpus, sliceNs) => {
        const fast = runCpuWorkload(procs, cpus, sliceNs, 'fast');
        assert.deepEqual(fast, runCpuWorkload(procs, cpus, sliceNs, 'reference'));
        assert.deepEqual(fast, runCpuWorkload(procs, cpus, sliceNs, 'zero-tiebreak'));
      },
    ),
    { numRuns: 400 },
  );
});

/**
 * Two processes computing `workNs` each on one CPU with `sliceNs` slices, on the fast path or under
 * a tie-break that always picks the first (the plain path): when each ended, the engine's events,
 * the preemptions.
 */
function twoBursts(tieBreak: boolean, sliceNs: number, workNs: number): { ends: string[]; events: number; preemptions: number } {
  const sim = new Sim(tieBreak ? { tieBreak: { choose: () => 0 } } : {});
  const pool = new CpuPool(sim, 1, { sliceNs });
  const ends: string[] = [];
  for (const name of ['a', 'b']) sim.spawn(name, (function* () {
    yield* pool.compute(workNs);
    ends.push(`${name}@${sim.now}`);
  })());
  sim.run();
  return { ends, events: sim.eventCount, preemptions: pool.preemptions };
}

test('CPU pool: a preemption with nothing else due switches the bursts at the timer, without the two wake-up events', () => {
  const fast = twoBursts(false, 10, 35);
  const plain = twoBursts(true, 10, 35);
  // a 0-10, b 10-20, a 20-30, b 30-40, a 40-50, b 50-60, a 60-65 (done), b 65-70 (done)
  assert.deepEqual(fast.ends, ['a@65', 'b@70']);
  assert.deepEqual(plain.ends, fast.ends);
  assert.equal(fast.preemptions, 6);
  assert.equal(plain.preemptions, 6);
  // each of the 6 preemptions: the timer and two wake-ups, or the timer alone
  assert.equal(plain.events - fast.events, 6 * 2);
});

test('CPU pool with slices and bursts in the event heap: the same schedule as the plain round-robin generator and as under a tie-break (random workloads)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(cpuStepArb, { maxLength: 8 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 40 }),
      (procs, cpus, sliceNs, chunkNs) => {
        const fast = runCpuWorkload(procs, cpus, sliceNs, 'fast', 1000);
        assert.deepEqual(fast, runCpuWorkload(procs, cpus, sliceNs, 'reference', 1000));
        assert.deepEqual(fast, runCpuWorkload(procs, cpus, sliceNs, 'zero-tiebreak', 1000));
        const chunk = chunkNs * 500;
        assert.deepEqual(runCpuWorkload(procs, cpus, sliceNs, 'fast', 1000, chunk), runCpuWorkload(procs, cpus, sliceNs, 'reference', 1000, chunk));
      },
    ),
    { numRuns: 400 },
  );
});

test('CPU pool: a burst preempted before its end leaves no dead end-of-burst timeout in the event heap, and a slice with nothing else due costs no event', () => {
  const fast = twoBursts(false, 10_000, 35_000);
  const plain = twoBursts(true, 10_000, 35_000);
  assert.deepEqual(fast.ends, ['a@65000', 'b@70000']);
  assert.deepEqual(plain.ends, fast.ends);
  // 6 preemptions (two wake-ups each on the plain path); of the 8 bursts, the 5 started with the
  // other queued and more than a slice of work left end-of-burst timeouts that would die unfired;
  // the timers at 20, 30, 50 and 60 µs run in the one before (the first burst's dead timeout at
  // 35 µs, and a's end at 65 µs, come between the others)
  assert.equal(plain.events - fast.events, 6 * 2 + 5 + 4);
});

const longCpuStepArb: fc.Arbitrary<CpuStep> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ s: fc.constant('delay' as const), ns: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 4, arbitrary: fc.record({ s: fc.constant('cpu' as const), ns: fc.integer({ min: 0, max: 90 }), byHand: fc.integer({ min: 0, max: 7 }).map((x) => x === 0) }) },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('wait' as const) }) },
  { weight: 1, arbitrary: fc.record({ s: fc.constant('wake' as const) }) },
);
/** foreign timers on slice boundaries (off 0: ties with the pool's own events), one past them, or between */
const foreignTimerArb: fc.Arbitrary<ForeignTimer> = fc.record({
  t: fc.integer({ min: 0, max: 700 }),
  off: fc.constantFrom(0, 0, 1, 500, 999),
  cpuNs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 })),
});

test('CPU pool: many long bursts on few CPUs, with foreign timers that start more work at slice boundaries: the same schedule as the plain round-robin generator and as under a tie-break', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(longCpuStepArb, { maxLength: 12 }), { minLength: 1, maxLength: 24 }),
      fc.array(foreignTimerArb, { maxLength: 12 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom(1, 1000),
      (procs, timers, cpus, sliceNs, scale) => {
        const fast = runCpuWorkload(procs, cpus, sliceNs, 'fast', scale, 0, timers);
        assert.deepEqual(fast, runCpuWorkload(procs, cpus, sliceNs, 'reference', scale, 0, timers));
        assert.deepEqual(fast, runCpuWorkload(procs, cpus, sliceNs, 'zero-tiebreak', scale, 0, timers));
      },
    ),
    { numRuns: 500 },
  );
});
