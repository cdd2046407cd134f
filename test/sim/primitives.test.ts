import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Completion, CpuPool, EventHeap, Mutex, Semaphore, Sim, SlotCounter, WaitQueue, type Proc } from '../../src/sim/index.js';

const MS = 1_000_000;
const S = 1_000_000_000;

test('event heap orders by time, then by insertion', () => {
  const h = new EventHeap<string>();
  const input: [number, string][] = [[5, 'a'], [1, 'b'], [5, 'c'], [0, 'd'], [1, 'e'], [5, 'f']];
  input.forEach(([t, id], seq) => h.push(t, seq, 0, id, null));
  const out: string[] = [];
  while (h.pop()) out.push(h.outTarget!);
  assert.deepEqual(out, ['d', 'b', 'e', 'a', 'c', 'f']);
});

test('delay and join: a process gets another one\'s return value at the right time', () => {
  const sim = new Sim();
  const child = sim.spawn('child', (function* (): Proc<number> {
    yield sim.delay(7);
    return 42;
  })());
  let got: number | undefined;
  let at = -1;
  sim.spawn('parent', (function* () {
    got = yield* child.join();
    at = sim.now;
  })());
  sim.run();
  assert.equal(got, 42);
  assert.equal(at, 7);
});

test('semaphore: FIFO hand-off, no barging, timeouts at the exact virtual time', () => {
  const sim = new Sim();
  const sem = new Semaphore(sim, 'kmod', 1);
  const order: string[] = [];
  const results: Record<string, string> = {};
  const user = (name: string, startNs: number, holdNs: number, timeoutNs: number) =>
    sim.spawn(name, (function* () {
      yield sim.delay(startNs);
      const r = yield* sem.down({ timeoutNs });
      results[name] = `${r}@${sim.now}`;
      if (r !== 'ok') return;
      order.push(name);
      yield sim.delay(holdNs);
      sem.up();
    })());
  user('a', 0, 10, 100);
  user('b', 1, 10, 100);
  user('c', 2, 10, 100);
  user('d', 3, 10, 5); // gives up at 3 + 5 = 8
  // a newcomer arriving exactly when a releases must not overtake b
  user('late', 10, 10, 100);
  sim.run();
  assert.deepEqual(order, ['a', 'b', 'c', 'late']);
  assert.equal(results.d, 'timeout@8');
  assert.equal(results.b, 'ok@10');
  assert.equal(results.c, 'ok@20');
  assert.equal(results.late, 'ok@30');
});

test('wait queue: wake-all makes every sleeper re-check; false conditions sleep again', () => {
  const sim = new Sim();
  const wq = new WaitQueue(sim, 'module_wq');
  const state = { n: 0 };
  const woke: string[] = [];
  for (const need of [1, 2, 3]) {
    sim.spawn(`w${need}`, (function* () {
      const r = yield* wq.waitEvent(() => state.n >= need);
      woke.push(`w${need}:${r.status}@${sim.now}`);
    })());
  }
  sim.spawn('waker', (function* () {
    for (let i = 1; i <= 3; i++) {
      yield sim.delay(10);
      state.n = i;
      wq.wakeUpAll();
    }
  })());
  sim.run();
  assert.deepEqual(woke, ['w1:ok@10', 'w2:ok@20', 'w3:ok@30']);
  assert.equal(wq.waiting, 0);
});

test('wait queue: a re-sleeping waiter keeps its original timeout budget', () => {
  const sim = new Sim();
  const wq = new WaitQueue(sim, 'q');
  let res = '';
  sim.spawn('w', (function* () {
    const r = yield* wq.waitEvent(() => false, { timeoutNs: 100 });
    res = `${r.status}@${sim.now}`;
  })());
  sim.spawn('noise', (function* () {
    for (let i = 0; i < 5; i++) {
      yield sim.delay(30);
      wq.wakeUpAll();
    }
  })());
  sim.run();
  assert.equal(res, 'timeout@100');
});

test('slot counter: release wakes all waiters and a newcomer barges in first', () => {
  const sim = new Sim();
  const slots = new SlotCounter(sim, 'kmod_concurrent_max', 1);
  const got: string[] = [];
  sim.spawn('holder', (function* () {
    yield* slots.acquire();
    got.push(`holder@${sim.now}`);
    yield sim.delay(10);
    slots.release(); // wakes the sleeper, which runs after the newcomer due at the same instant
  })());
  sim.spawn('sleeper', (function* () {
    yield sim.delay(1);
    const r = yield* slots.acquire({ mode: 'killable', timeoutNs: 5 * S });
    got.push(`sleeper:${r.status}@${sim.now}`);
    slots.release();
  })());
  sim.spawn('newcomer', (function* () {
    yield sim.delay(10);
    const r = yield* slots.acquire({ mode: 'killable', timeoutNs: 5 * S });
    got.push(`newcomer:${r.status}@${sim.now}`);
    yield sim.delay(10);
    slots.release();
  })());
  sim.run();
  // the woken sleeper lost the race, slept again with the rest of its budget, and got the slot at 20
  assert.deepEqual(got, ['holder@0', 'newcomer:ok@10', 'sleeper:ok@20']);
  assert.equal(slots.free, 1);
});

test('interruptible waits end on any signal, killable only on SIGKILL, plain ones never', () => {
  const sim = new Sim();
  const wq = new WaitQueue(sim, 'q');
  const res: Record<string, string> = {};
  const mk = (name: string, mode: 'interruptible' | 'killable' | 'uninterruptible') =>
    sim.spawn(name, (function* () {
      const r = yield* wq.waitEvent(() => false, { mode, timeoutNs: 1000 });
      res[name] = `${r.status}@${sim.now}`;
    })());
  const procs = [mk('int', 'interruptible'), mk('kill', 'killable'), mk('plain', 'uninterruptible')];
  for (const p of procs) sim.signal(p, 'SIGINT', 10);
  for (const p of procs) sim.signal(p, 'SIGKILL', 20);
  sim.run();
  assert.deepEqual(res, { int: 'signal@10', kill: 'signal@20', plain: 'timeout@1000' });
});

test('a signal already pending ends an interruptible wait before it sleeps', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'c');
  let r = '';
  const p = sim.spawn('p', (function* () {
    yield sim.delay(5);
    r = (yield* c.wait({ mode: 'interruptible' })).status + `@${sim.now}`;
  })());
  sim.signal(p, 'SIGUSR1', 1);
  sim.run();
  assert.equal(r, 'signal@5');
});

test('completion: complete() lets one through, completeAll() everyone, present and future', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'done');
  const through: string[] = [];
  for (const n of ['a', 'b', 'c']) {
    sim.spawn(n, (function* () {
      yield* c.wait();
      through.push(`${n}@${sim.now}`);
    })());
  }
  sim.spawn('completer', (function* () {
    yield sim.delay(1);
    c.complete();
    yield sim.delay(1);
    c.completeAll();
    yield sim.delay(1);
    sim.spawn('late', (function* () {
      yield* c.wait();
      through.push(`late@${sim.now}`);
    })());
  })());
  sim.run();
  assert.deepEqual(through, ['a@1', 'b@2', 'c@2', 'late@3']);
});

test('mutex: FIFO hand-off and killable lock', () => {
  const sim = new Sim();
  const m = new Mutex(sim, 'module_mutex');
  const order: string[] = [];
  const user = (name: string, start: number) =>
    sim.spawn(name, (function* () {
      yield sim.delay(start);
      const st = yield* m.lock('killable');
      if (st !== 'ok') {
        order.push(`${name}:${st}@${sim.now}`);
        return;
      }
      order.push(`${name}@${sim.now}`);
      yield sim.delay(10);
      m.unlock();
    })());
  user('a', 0);
  user('b', 1);
  const c = user('c', 2);
  user('d', 3);
  sim.signal(c, 'SIGKILL', 5);
  sim.run();
  assert.deepEqual(order, ['a@0', 'c:signal@5', 'b@10', 'd@20']);
  assert.equal(m.locked, false);
});

test('CPU pool: the same work takes 4x longer on 2 CPUs than on 8', () => {
  const finish = (cpus: number): number[] => {
    const sim = new Sim();
    const pool = new CpuPool(sim, cpus);
    const ends: number[] = [];
    for (let i = 0; i < 8; i++) {
      sim.spawn(`w${i}`, (function* () {
        yield* pool.compute(10 * MS);
        ends.push(sim.now);
      })());
    }
    sim.run();
    return ends;
  };
  assert.deepEqual(finish(8), Array(8).fill(10 * MS));
  assert.deepEqual(finish(2), [10, 10, 20, 20, 30, 30, 40, 40].map((x) => x * MS));
});

test('CPU pool with a time slice: round-robin, so short work is not stuck behind long bursts', () => {
  const sim = new Sim();
  const pool = new CpuPool(sim, 1, { sliceNs: 3 * MS });
  const ends: Record<string, number> = {};
  for (const [name, start, work] of [['long', 0, 30], ['short', 1, 2], ['mid', 2, 6]] as const) {
    sim.spawn(name, (function* () {
      yield sim.delay(start * MS);
      yield* pool.compute(work * MS);
      ends[name] = sim.now / MS;
    })());
  }
  sim.run();
  // long runs 0-3, short 3-5 (done), mid 5-8, long 8-11, mid 11-14 (done), long alone to 38
  assert.deepEqual(ends, { short: 5, mid: 14, long: 38 });
  assert.equal(pool.busyNs, 38 * MS);
  assert.equal(pool.free, 1);
});

test('CPU pool with a time slice: nothing is preempted while nobody waits', () => {
  const sim = new Sim();
  const pool = new CpuPool(sim, 2, { sliceNs: 1 * MS });
  for (let i = 0; i < 2; i++) sim.spawn(`w${i}`, pool.compute(50 * MS));
  sim.run();
  assert.equal(pool.preemptions, 0);
  assert.equal(sim.now, 50 * MS);
});

test('CPU pool: sleeping holds no CPU', () => {
  const sim = new Sim();
  const pool = new CpuPool(sim, 1);
  const c = new Completion(sim, 'c');
  let t = -1;
  sim.spawn('sleeper', (function* () {
    yield* c.wait(); // blocks without a CPU
  })());
  sim.spawn('worker', (function* () {
    yield* pool.compute(5);
    t = sim.now;
    c.complete();
  })());
  sim.run();
  assert.equal(t, 5);
});

test('processes that block forever leave the simulation idle, not spinning', () => {
  const sim = new Sim();
  const c = new Completion(sim, 'never');
  const p = sim.spawn('stuck', (function* () {
    yield* c.wait();
  })());
  sim.run();
  assert.equal(sim.idle(), true);
  assert.equal(p.done, false);
  assert.deepEqual(sim.liveProcesses().map((x) => x.name), ['stuck']);
});

test('a process that throws is reported with its name and virtual time', () => {
  const sim = new Sim();
  sim.spawn('bad', (function* () {
    yield sim.delay(3);
    throw new Error('boom');
  })());
  assert.throws(() => sim.run(), /process bad failed at t=3ns: boom/);
});

test('named RNG streams are independent of each other', () => {
  const a = new Sim({ seed: 9 });
  const b = new Sim({ seed: 9 });
  const xs = [a.rng.stream('udev').int(0, 1e9), a.rng.stream('udev').int(0, 1e9)];
  b.rng.stream('kernel').int(0, 1e9); // another part draws first
  const ys = [b.rng.stream('udev').int(0, 1e9), b.rng.stream('udev').int(0, 1e9)];
  assert.deepEqual(xs, ys);
  assert.notEqual(new Sim({ seed: 10 }).rng.stream('udev').int(0, 1e9), xs[0]);
});
