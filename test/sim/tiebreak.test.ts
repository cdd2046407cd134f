/**
 * The engine's tie-break hook: a chooser that always picks 0 runs exactly the FIFO order; any
 * other chooser only reorders events of one instant (time never goes back, no waiter is lost).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Completion, Mutex, Rng, Semaphore, Sim, WaitQueue, type TieBreak } from '../../src/sim/index.js';

type Op = { op: 'delay'; ns: number } | { op: 'sem'; holdNs: number; timeoutNs: number } | { op: 'mutex'; holdNs: number } | { op: 'wake' } | { op: 'wait'; timeoutNs: number } | { op: 'complete' } | { op: 'waitDone' };

const ns = fc.integer({ min: 0, max: 4 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('delay' as const), ns }),
  fc.record({ op: fc.constant('sem' as const), holdNs: ns, timeoutNs: ns }),
  fc.record({ op: fc.constant('mutex' as const), holdNs: ns }),
  fc.record({ op: fc.constant('wake' as const) }),
  fc.record({ op: fc.constant('wait' as const), timeoutNs: ns }),
  fc.record({ op: fc.constant('complete' as const) }),
  fc.record({ op: fc.constant('waitDone' as const) }),
);
const scenarioArb = fc.record({ procs: fc.array(fc.array(opArb, { maxLength: 8 }), { minLength: 1, maxLength: 8 }), chooserSeed: fc.integer() });

function run(procs: Op[][], tieBreak?: TieBreak): { log: string; live: number; t: number[] } {
  const sim = new Sim({ log: true, ...(tieBreak ? { tieBreak } : {}) });
  const sem = new Semaphore(sim, 'sem', 1);
  const mutex = new Mutex(sim, 'mutex');
  const wq = new WaitQueue(sim, 'wq');
  const done = new Completion(sim, 'done');
  procs.forEach((ops, i) =>
    sim.spawn(`p${i}`, (function* () {
      for (const o of ops) {
        sim.log.emit('op', { op: o.op });
        if (o.op === 'delay') yield sim.delay(o.ns);
        else if (o.op === 'sem') {
          if ((yield* sem.down({ timeoutNs: o.timeoutNs })) === 'ok') {
            yield sim.delay(o.holdNs);
            sem.up();
          }
        } else if (o.op === 'mutex') {
          yield* mutex.lock();
          yield sim.delay(o.holdNs);
          mutex.unlock();
        } else if (o.op === 'wake') wq.wakeUpAll();
        else if (o.op === 'wait') yield* wq.waitEvent(() => false, { timeoutNs: o.timeoutNs });
        else if (o.op === 'complete') done.complete();
        else yield* done.wait({ timeoutNs: 10 });
      }
    })()),
  );
  sim.run();
  return { log: JSON.stringify(sim.log.records), live: sim.liveProcesses().length, t: sim.log.records.map((r) => r.t) };
}

test('tie-break: a chooser that always answers 0 gives the FIFO run, record for record', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const fifo: TieBreak = { choose: () => 0 };
      assert.equal(run(s.procs, fifo).log, run(s.procs).log);
    }),
    { numRuns: 200 },
  );
});

test('tie-break: any chooser keeps time monotone, loses no waiter, and is deterministic', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const mk = (): TieBreak => {
        const r = new Rng(s.chooserSeed);
        return { choose: (n) => r.int(0, n - 1) };
      };
      const a = run(s.procs, mk());
      for (let i = 1; i < a.t.length; i++) assert.ok(a.t[i]! >= a.t[i - 1]!);
      assert.equal(a.live, 0);
      assert.equal(run(s.procs, mk()).log, a.log);
    }),
    { numRuns: 200 },
  );
});

test('tie-break: the chooser decides which of two processes spawned together runs first', () => {
  const order = (k: number): string[] => {
    const seen: string[] = [];
    let first = true;
    const sim = new Sim({
      tieBreak: {
        choose: (_n, who) => {
          if (first) assert.equal(who(k)?.name, `p${k}`);
          first = false;
          return k;
        },
      },
    });
    for (const name of ['p0', 'p1']) sim.spawn(name, (function* () { seen.push(name); yield sim.delay(0); })());
    sim.run();
    return seen;
  };
  assert.deepEqual(order(0), ['p0', 'p1']);
  assert.deepEqual(order(1), ['p1', 'p0']);
});
