/**
 * pct with depth D (probabilistic concurrency testing): processes run by priority at ties and
 * CPU hand-overs, and D-1 change points lower the running one. Two processes that each load m1
 * then m2 on 2 CPUs: with depth 1 (no change point) the higher-priority one wins both loads, so
 * the split outcomes (each wins one) need a priority change — depth 2 reaches them in a good share
 * of seeds because the change points fall among the scenario's own decisions (k, the tie and
 * hand-over decisions of its all-defaults schedule), not in a fixed window past a small run's end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore } from '../../../src/experiments/explore/explore.js';
import { pctHorizon, runSchedule } from '../../../src/experiments/explore/run.js';
import { parseScenario } from '../../../src/experiments/explore/scenario.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';

// the race is a tie at the wake of m1's loser; qemu-tcg's measured wake→run time of a module_wq
// sleeper (timings.mutexWakeQuantilesNs, with module_mutex) puts that loser always behind the
// winner, whose next finit_module here costs no userspace time: the machine leaves it out
const tcg = loadMachine('qemu-tcg');
const { mutexWakeQuantilesNs: _w, freeModuleSyncRcuNs: _f, ...timings } = tcg.timings;
const machine = { ...tcg, timings };
const sc = parseScenario(
  {
    name: 'two-loads',
    machine: { profile: 'qemu-tcg', cpus: 2 },
    modules: [{ name: 'm1', initMs: 1 }, { name: 'm2', initMs: 1 }],
    processes: ['p', 'q'].map((name) => ({ name, actions: [{ op: 'finit_module', module: 'm1' }, { op: 'finit_module', module: 'm2' }] })),
  },
  'test',
);
const SPLIT = /p: 0,-EEXIST · q: -EEXIST,0|p: -EEXIST,0 · q: 0,-EEXIST/;
const share = (depth: number) => {
  const e = explore(sc, machine, { kernel: 'v6.4', strategy: 'pct', depth, seed: 1, runs: 300 });
  return { e, split: e.outcomes.filter((o) => SPLIT.test(o.key)).reduce((n, o) => n + o.count, 0) / e.runs };
};

test('pct depth 1: one priority order for the whole run, so one process wins both loads', () => {
  const { e, split } = share(1);
  assert.equal(split, 0, e.outcomes.map((o) => o.key).join('\n'));
  assert.equal(e.outcomes.length, 2);
});

test('pct depth 2 and 3: a change point inside the run gives each process one load in a good share of seeds', () => {
  assert.ok(pctHorizon(sc, machine, 'v6.4') > 0);
  for (const depth of [2, 3]) {
    const { e, split } = share(depth);
    assert.equal(e.outcomes.filter((o) => SPLIT.test(o.key)).length, 2, `depth ${depth}: ${e.outcomes.map((o) => o.key).join('\n')}`);
    assert.ok(split > 0.15, `depth ${depth}: split in ${split} of the seeds`);
  }
  // the exhaustive walk finds the same four outcomes
  assert.equal(explore(sc, machine, { kernel: 'v6.4', strategy: 'exhaustive', depth: 3, seed: 1, runs: 1000 }).outcomes.length, 4);
});

test('pct seeds replay: the change points are a function of the seed, the depth and the scenario', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const a = runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'pct', seed, depth: 3 });
    const b = runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'pct', seed, depth: 3 });
    assert.deepEqual(b.choices.decisions, a.choices.decisions);
  }
});
