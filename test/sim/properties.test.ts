/**
 * Property tests of the engine: random scenarios of processes using every primitive, random
 * signals. fast-check reports any failure with the seed and path that replay it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Completion, CpuPool, Mutex, Semaphore, Sim, SlotCounter, WaitQueue, type LogRecord, type WaitMode } from '../../src/sim/index.js';

type Op =
  | { op: 'delay'; ns: number }
  | { op: 'wait'; mode: WaitMode; timeoutNs: number }
  | { op: 'wake' }
  | { op: 'sem'; holdNs: number; timeoutNs: number }
  | { op: 'slot'; holdNs: number; timeoutNs: number }
  | { op: 'mutex'; holdNs: number }
  | { op: 'cpu'; ns: number }
  | { op: 'complete' }
  | { op: 'waitDone'; timeoutNs: number }
  | { op: 'jitter'; meanNs: number };

const mode = fc.constantFrom<WaitMode>('uninterruptible', 'interruptible', 'killable');
const ns = fc.integer({ min: 0, max: 50 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('delay' as const), ns }),
  fc.record({ op: fc.constant('wait' as const), mode, timeoutNs: ns }),
  fc.record({ op: fc.constant('wake' as const) }),
  fc.record({ op: fc.constant('sem' as const), holdNs: ns, timeoutNs: ns }),
  fc.record({ op: fc.constant('slot' as const), holdNs: ns, timeoutNs: ns }),
  fc.record({ op: fc.constant('mutex' as const), holdNs: ns }),
  fc.record({ op: fc.constant('cpu' as const), ns }),
  fc.record({ op: fc.constant('complete' as const) }),
  fc.record({ op: fc.constant('waitDone' as const), timeoutNs: ns }),
  fc.record({ op: fc.constant('jitter' as const), meanNs: ns }),
);
const scenarioArb = fc.record({
  procs: fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 1, maxLength: 12 }),
  signals: fc.array(
    fc.record({ proc: fc.nat(11), sig: fc.constantFrom('SIGKILL' as const, 'SIGINT' as const), t: fc.integer({ min: 0, max: 300 }) }),
    { maxLength: 6 },
  ),
  cpus: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer(),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface Outcome {
  log: LogRecord[];
  sim: Sim;
  queues: number[];
  free: { sem: number; slots: number; cpu: number; mutex: boolean };
}

function runScenario(s: Scenario): Outcome {
  const sim = new Sim({ seed: s.seed, log: true });
  const wq = new WaitQueue(sim, 'wq');
  const sem = new Semaphore(sim, 'sem', 2);
  const slots = new SlotCounter(sim, 'slots', 2);
  const mutex = new Mutex(sim, 'mutex');
  const cpu = new CpuPool(sim, s.cpus);
  const done = new Completion(sim, 'done');
  const procs = s.procs.map((ops, i) =>
    sim.spawn(`p${i}`, (function* () {
      for (const o of ops) {
        sim.log.emit('op', { op: o.op });
        switch (o.op) {
          case 'delay':
            yield sim.delay(o.ns);
            break;
          case 'wait': // every wait has a timeout, so none can be lost
            sim.log.emit('waited', { r: (yield* wq.waitEvent(() => false, { mode: o.mode, timeoutNs: o.timeoutNs })).status });
            break;
          case 'wake':
            wq.wakeUpAll();
            break;
          case 'sem':
            if ((yield* sem.down({ timeoutNs: o.timeoutNs })) === 'ok') {
              yield sim.delay(o.holdNs);
              sem.up();
            }
            break;
          case 'slot':
            if ((yield* slots.acquire({ mode: 'killable', timeoutNs: o.timeoutNs })).status === 'ok') {
              yield sim.delay(o.holdNs);
              slots.release();
            }
            break;
          case 'mutex':
            yield* mutex.lock();
            yield sim.delay(o.holdNs);
            mutex.unlock();
            break;
          case 'cpu':
            yield* cpu.compute(o.ns);
            break;
          case 'complete':
            done.complete();
            break;
          case 'waitDone':
            yield* done.wait({ mode: 'interruptible', timeoutNs: o.timeoutNs });
            break;
          case 'jitter':
            yield sim.delay(sim.rng.stream(`p${i}`).jitter(o.meanNs, 0.5));
            break;
        }
      }
    })()),
  );
  for (const sg of s.signals) if (sg.proc < procs.length) sim.signal(procs[sg.proc]!, sg.sig, sg.t);
  sim.run();
  return {
    log: sim.log.records,
    sim,
    queues: [wq.waiting, sem.waiting, slots.waiting, mutex.waiting, cpu.queued, done.waiting],
    free: { sem: sem.count, slots: slots.free, cpu: cpu.free, mutex: mutex.locked },
  };
}

test('property: virtual time never goes backwards', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const { log } = runScenario(s);
      for (let i = 1; i < log.length; i++) assert.ok(log[i]!.t >= log[i - 1]!.t, `t went back at record ${i}`);
    }),
    { numRuns: 300 },
  );
});

test('property: no waiter is lost — every process ends and every resource comes back', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const { sim, queues, free } = runScenario(s);
      assert.deepEqual(sim.liveProcesses().map((p) => p.name), []);
      assert.deepEqual(queues, [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(free, { sem: 2, slots: 2, cpu: s.cpus, mutex: false });
    }),
    { numRuns: 300 },
  );
});

test('property: the same seed gives an identical event log', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const a = JSON.stringify(runScenario(s).log);
      const b = JSON.stringify(runScenario(s).log);
      assert.equal(a, b);
    }),
    { numRuns: 200 },
  );
});
