/**
 * Shrinking keeps the outcome: the shrunk schedule (seed, path, dropped processes) replays to the
 * original outcome's key without the dropped processes' parts, with no more decisions off their
 * defaults than the original; and on the built-ins it finds what a developer would: the v6.5
 * self-load hangs without any signal at all, the stale dups NULL needs all three processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore, rareOrFailing, shrinkOutcomes } from '../../../src/experiments/explore/explore.js';
import { parsePath } from '../../../src/experiments/explore/choices.js';
import { formatExploration, formatSideBySide } from '../../../src/experiments/explore/format.js';
import { projectKey, runSchedule } from '../../../src/experiments/explore/run.js';
import { shrink } from '../../../src/experiments/explore/shrink.js';
import { loadScenario } from '../../../src/io/scenario.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';

const machine = loadMachine('qemu-tcg');

const CASES = [
  ['same-name-slow-init', 'v6.4', 'random'],
  ['same-name-failing-init', 'v5.3', 'pct'],
  ['self-load', 'v6.5', 'random'],
  ['self-load', 'v6.11', 'random'],
  ['dups-stale-result', 'newest-dups', 'random'],
  ['get_fs_type-alias', 'v6.1', 'random'],
  ['rmmod-during-load', 'newest', 'exhaustive'],
  ['initstate-late-arrival', 'v6.5', 'random'],
] as const;

test('every shrunk schedule replays to the outcome it was shrunk from (without the dropped processes)', () => {
  for (const [name, kernel, strategy] of CASES) {
    const sc = loadScenario(name);
    const e = explore(sc, machine, { kernel, strategy, depth: 3, seed: 1, runs: 80 });
    shrinkOutcomes(sc, machine, e);
    let shrunk = 0;
    for (const o of e.outcomes) {
      assert.equal(o.shrunk !== undefined, rareOrFailing(o, e.runs), `${name} ${kernel}: ${o.key}`);
      if (o.shrunk === undefined) continue;
      shrunk++;
      const s = o.shrunk;
      const first = runSchedule(sc, machine, { kernel, strategy, seed: o.firstSeed, depth: 3, ...(o.firstPath !== undefined ? { path: parsePath(o.firstPath)! } : {}) });
      const again = runSchedule(sc, machine, { kernel, strategy, seed: s.seed, path: parsePath(s.path)!, drop: s.drop });
      assert.equal(again.key, s.key, `${name} ${kernel} replay of the shrunk ${s.path}`);
      assert.equal(s.key, projectKey(first.parts, s.drop), `${name} ${kernel}: shrinking changed the outcome`);
      assert.ok(s.to <= s.from, `${name} ${kernel}: ${s.to} > ${s.from}`);
    }
    assert.ok(shrunk > 0, `${name} ${kernel}: nothing shrunk`);
  }
});

test('self-load on v6.5: the hang needs no signal — the killer is shrunk away', () => {
  const sc = loadScenario('self-load');
  const withSignal = Array.from({ length: 20 }, (_, i) => i + 1).find((seed) => runSchedule(sc, machine, { kernel: 'v6.5', strategy: 'random', seed }).key.includes('sent SIGKILL'))!;
  const s = shrink(sc, machine, { kernel: 'v6.5', strategy: 'random', seed: withSignal, depth: 3 });
  assert.deepEqual(s.drop, ['killer']);
  assert.equal(s.key, 'modprobe: hang · aes_neonbs coming, 1 init · waste: none');
  assert.equal(s.to, 0);
});

test('self-load on v6.11: -EINTR needs the signal and nothing else off its default', () => {
  const sc = loadScenario('self-load');
  const eintr = Array.from({ length: 20 }, (_, i) => i + 1).find((seed) => runSchedule(sc, machine, { kernel: 'v6.11', strategy: 'random', seed }).key.includes('-EINTR'))!;
  const s = shrink(sc, machine, { kernel: 'v6.11', strategy: 'random', seed: eintr, depth: 3 });
  assert.deepEqual(s.drop, []);
  assert.equal(s.to, 1);
  assert.ok(s.steps.some((l) => /killer sends SIGKILL to modprobe: yes/.test(l)), s.steps.join('\n'));
  // the killer starts as early as its range allows
  assert.ok(s.steps.some((l) => /killer starts at 1000\.000 ms/.test(l)), s.steps.join('\n'));
});

test('dups-stale-result: the stale NULL needs every process (none dropped) and replays', () => {
  const sc = loadScenario('dups-stale-result');
  const e = explore(sc, machine, { kernel: 'newest-dups', strategy: 'random', depth: 3, seed: 1, runs: 40 });
  shrinkOutcomes(sc, machine, e);
  const o = e.outcomes.find((x) => x.key.includes('test_kmod-1: NULL'))!;
  assert.deepEqual(o.shrunk!.drop, []);
  assert.equal(o.shrunk!.key, o.key);
});

test('text output: the shrunk schedule as a replay command and a step list; presets side by side', () => {
  const sc = loadScenario('self-load');
  const es = ['v6.5', 'v6.11'].map((kernel) => {
    const e = explore(sc, machine, { kernel, strategy: 'random', depth: 3, seed: 1, runs: 30 });
    shrinkOutcomes(sc, machine, e);
    return e;
  });
  const text = formatExploration(es[1]!);
  assert.match(text, /^self-load on v6\.11: 30 schedules \(random, seeds 1\.\.30\), 2 distinct outcomes$/m);
  assert.match(text, /^ {6}shrunk: 1 of \d+ decisions off their defaults: kmodlab explore self-load --kernel v6\.11 --replay \d+ --path [\d:]+$/m);
  assert.match(text, /^ {8}t=1000\.000ms killer sends SIGKILL to modprobe: yes \(p=0\.5\)$/m);
  const side = formatSideBySide(es).split('\n');
  assert.equal(side[0], "side by side (share of each preset's schedules):");
  assert.match(side[1]!, /^ {2}v6\.5 +v6\.11 +outcome$/);
  // one row per distinct outcome of either preset; the hang without a signal is on both
  assert.equal(side.filter((l) => l.includes('modprobe:')).length, 3);
  const both = side.find((l) => l.includes('killer: no signal'))!;
  assert.doesNotMatch(both, / - /);
  assert.match(side.find((l) => l.includes('-EINTR'))!, /^ {2}- /);
});
