/**
 * Which CPU runs what is an explored decision: with fewer CPUs than runnable processes, the order
 * in which queued processes get a freed CPU changes the outcome. Three loads on one CPU: p2 asks
 * before p3, so FIFO always gives p2 the CPU first and p2 wins the race for kml_b; only a CPU
 * hand-over out of FIFO order lets p3 win. With a CPU each there is no hand-over to decide.
 * Shrinking moves a duration to the smallest value that keeps the outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore } from '../../../src/experiments/explore/explore.js';
import { parsePath } from '../../../src/experiments/explore/choices.js';
import { runSchedule } from '../../../src/experiments/explore/run.js';
import { shrink } from '../../../src/experiments/explore/shrink.js';
import { parseScenario } from '../../../src/experiments/explore/scenario.js';
import { loadScenario } from '../../../src/io/scenario.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';

const machine = loadMachine('qemu-tcg');
const scenario = (cpus: number) =>
  parseScenario(
    {
      name: 'cpu-order',
      machine: { profile: 'qemu-tcg', cpus },
      modules: [{ name: 'kml_a', initMs: 1 }, { name: 'kml_b', initMs: 1 }],
      processes: [
        { name: 'p1', actions: [{ op: 'finit_module', module: 'kml_a' }] },
        { name: 'p2', startMs: 0.01, actions: [{ op: 'finit_module', module: 'kml_b' }] },
        { name: 'p3', startMs: 0.02, actions: [{ op: 'finit_module', module: 'kml_b' }] },
      ],
    },
    'test',
  );
const P3_WINS = /p2: -EEXIST · p3: 0/;

test('one CPU, three loads: p3 wins kml_b only when a freed CPU goes to it out of FIFO order', () => {
  const sc = scenario(1);
  const e = explore(sc, machine, { kernel: 'v6.4', strategy: 'exhaustive', depth: 3, seed: 1, runs: 5000 });
  assert.equal(e.complete, true);
  const wins = e.outcomes.filter((o) => P3_WINS.test(o.key));
  assert.ok(wins.length > 0, e.outcomes.map((o) => o.key).join('\n'));
  for (const o of wins) {
    const r = runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'exhaustive', seed: 1, path: parsePath(o.firstPath!)! });
    assert.equal(r.key, o.key);
    assert.ok(r.choices.decisions.some((d) => d.kind === 'cpu' && d.k !== 0), `${o.firstPath}: no CPU hand-over out of FIFO order`);
  }
  // random and pct draw the hand-overs too
  for (const strategy of ['random', 'pct'] as const) assert.ok(explore(sc, machine, { kernel: 'v6.4', strategy, depth: 3, seed: 1, runs: 200 }).outcomes.some((o) => P3_WINS.test(o.key)), strategy);
  // every hand-over at its default (FIFO): p2 always wins
  for (let seed = 1; seed <= 20; seed++) {
    const r = runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'random', seed });
    const fifo = runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'exhaustive', seed: 1, path: r.choices.decisions.map((d) => (d.kind === 'cpu' ? 0 : d.k)) });
    assert.doesNotMatch(fifo.key, P3_WINS, `seed ${seed}`);
  }
});

test('a CPU for every process: no hand-over to decide, and p2 always wins', () => {
  const sc = scenario(3);
  const e = explore(sc, machine, { kernel: 'v6.4', strategy: 'exhaustive', depth: 3, seed: 1, runs: 5000 });
  assert.equal(e.complete, true);
  assert.ok(e.outcomes.every((o) => !P3_WINS.test(o.key)), e.outcomes.map((o) => o.key).join('\n'));
  assert.ok(runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'random', seed: 1 }).choices.decisions.every((d) => d.kind !== 'cpu'));
});

test('shrinking a CPU-order outcome keeps it, with a readable step for each hand-over left', () => {
  const sc = scenario(1);
  const seed = Array.from({ length: 50 }, (_, i) => i + 1).find((s) => P3_WINS.test(runSchedule(sc, machine, { kernel: 'v6.4', strategy: 'random', seed: s }).key))!;
  const s = shrink(sc, machine, { kernel: 'v6.4', strategy: 'random', seed, depth: 3 });
  assert.match(s.key, P3_WINS);
  assert.ok(s.to >= 1 && s.to <= s.from);
  assert.ok(s.steps.some((l) => /a CPU frees: p3 gets it before p2/.test(l)), s.steps.join('\n'));
});

test('shrinking moves durations toward their range minimum: rmmod -EBUSY needs only a short init and a late-enough rmmod', () => {
  const sc = loadScenario('get_fs_type-alias');
  const seed = Array.from({ length: 50 }, (_, i) => i + 1).find((s) => runSchedule(sc, machine, { kernel: 'v6.1', strategy: 'random', seed: s }).key.includes('rmmod: -EBUSY'))!;
  const orig = runSchedule(sc, machine, { kernel: 'v6.1', strategy: 'random', seed });
  const s = shrink(sc, machine, { kernel: 'v6.1', strategy: 'random', seed, depth: 3 });
  const again = runSchedule(sc, machine, { kernel: 'v6.1', strategy: 'random', seed, path: parsePath(s.path)! });
  assert.equal(again.key, orig.key);
  const dur = (ds: typeof orig.choices.decisions, label: string) => ds.find((d) => d.kind === 'duration' && d.label === label)!.k;
  // the init at its range's low end (5 ms), rmmod's start no later than drawn and bisected: 2 µs earlier loses the outcome
  assert.equal(dur(again.choices.decisions, 'kmlfs init takes'), 0);
  const rm = dur(again.choices.decisions, 'rmmod starts at');
  assert.ok(rm <= dur(orig.choices.decisions, 'rmmod starts at'));
  assert.ok(rm > 0);
  const earlier = again.choices.decisions.map((d) => (d.label === 'rmmod starts at' ? Math.max(0, rm - 2000) : d.k));
  assert.notEqual(runSchedule(sc, machine, { kernel: 'v6.1', strategy: 'random', seed, path: earlier }).key, orig.key);
});
