/**
 * A stealable mutex (sim/mutex.ts with wakeToRun, the kernel's mutex since 4.10): unlock() leaves
 * the lock free and wakes the first waiter, which takes it only once it runs; a newcomer in that
 * window takes it first. The first waiter, having found it taken, sets the hand-off flag and the
 * next unlock() is its: a second newcomer does not overtake it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mutex, Sim } from '../../src/sim/index.js';

/** a holds 0-10, w queues at 1; n1 arrives at 12 (in w's 5 ns wake window), n2 at 14; holds are 10 */
function scene(m: (sim: Sim) => Mutex) {
  const sim = new Sim();
  const mx = m(sim);
  const order: string[] = [];
  const user = (name: string, start: number) =>
    sim.spawn(name, (function* () {
      yield sim.delay(start);
      yield* mx.lock();
      order.push(`${name}@${sim.now}`);
      yield sim.delay(10);
      mx.unlock();
    })());
  user('a', 0);
  user('w', 1);
  user('n1', 12);
  user('n2', 14);
  sim.run();
  assert.equal(mx.locked, false);
  return order;
}

test('mutex: FIFO hand-off without a wake→run time — the waiter gets the lock at the unlock', () => {
  assert.deepEqual(scene((sim) => new Mutex(sim, 'm')), ['a@0', 'w@10', 'n1@20', 'n2@30']);
});

test('mutex: stealable — a newcomer in the woken waiter\'s wake window takes the lock, then the hand-off flag gives it to the waiter', () => {
  // w woken at 10 runs at 15: n1 took the free lock at 12; w sets the hand-off flag, so n1's
  // unlock at 22 is w's, ahead of n2 (queued at 14)
  assert.deepEqual(scene((sim) => new Mutex(sim, 'm', { wakeToRun: () => 5 })), ['a@0', 'n1@12', 'w@22', 'n2@37']);
});

test('mutex: stealable — a waiter that runs to a free lock takes it', () => {
  const sim = new Sim();
  const m = new Mutex(sim, 'm', { wakeToRun: () => 5 });
  const order: string[] = [];
  const user = (name: string, start: number, hold: number) =>
    sim.spawn(name, (function* () {
      yield sim.delay(start);
      yield* m.lock();
      order.push(`${name}@${sim.now}`);
      if (hold > 0) yield sim.delay(hold);
      m.unlock();
    })());
  user('a', 0, 10);
  user('w', 1, 10);
  user('n', 12, 0); // takes and releases the free lock inside w's window
  sim.run();
  assert.deepEqual(order, ['a@0', 'n@12', 'w@15']);
});
