/**
 * The exhaustive strategy and replay, as properties over generated tiny scenarios (fast-check):
 * with fixed durations the only chance is the order of events at one instant and whether a signal
 * is sent, so a complete exhaustive walk — partial-order reduction included — must find every
 * outcome that many random schedules find; and every schedule any strategy reports (a seed, or a
 * seed and a path) replays to its outcome key byte for byte. Then the built-ins under exhaustive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { explore, nextPath } from '../../../src/experiments/explore/explore.js';
import { parsePath } from '../../../src/experiments/explore/choices.js';
import { runSchedule } from '../../../src/experiments/explore/run.js';
import { parseScenario, type Scenario } from '../../../src/experiments/explore/scenario.js';
import { loadScenario } from '../../../src/io/scenario.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';

const machine = loadMachine('qemu-tcg');
const KERNELS = ['v5.3', 'v6.2', 'v6.4', 'v6.5', 'v6.11', 'newest', 'newest-dups'] as const;

/** a tiny scenario: 1-2 modules (one may be a filesystem), 2-3 processes of 1-2 actions, fixed times */
const tinyArb = fc
  .record({
    mods: fc.array(fc.record({ initMs: fc.constantFrom(0, 1, 3), fails: fc.boolean(), fs: fc.boolean() }), { minLength: 1, maxLength: 2 }),
    procs: fc.array(
      fc.record({
        startMs: fc.constantFrom(0, 0, 0, 1),
        actions: fc.array(fc.record({ op: fc.constantFrom('finit_module', 'delete_module', 'request_module', 'initstate', 'get_fs_type', 'signal'), m: fc.nat(1), target: fc.nat(2) }), { minLength: 1, maxLength: 2 }),
      }),
      { minLength: 2, maxLength: 3 },
    ),
    kernel: fc.constantFrom(...KERNELS),
  })
  .map(({ mods, procs, kernel }) => {
    const name = (i: number): string => `km${i % mods.length}`;
    const data = {
      name: 'tiny',
      deadlineMs: 60_000,
      modules: mods.map((m, i) => ({ name: name(i), initMs: m.initMs, initResult: m.fails ? 'ENODEV' : 0, ...(m.fs ? { registersFs: [name(i)], aliases: [`fs-${name(i)}`] } : {}) })),
      processes: procs.map((p, i) => ({
        name: `p${i}`,
        startMs: p.startMs,
        actions: p.actions.map((a) =>
          a.op === 'signal' ? { op: 'signal', target: `p${a.target % procs.length}`, sig: 'SIGKILL', chance: 0.5 }
          : a.op === 'request_module' || a.op === 'get_fs_type' ? { op: a.op, name: name(a.m) }
          : { op: a.op, module: name(a.m) },
        ),
      })),
    };
    return { sc: parseScenario(data, 'tiny'), kernel: kernel as string };
  });

const keysOf = (sc: Scenario, kernel: string, strategy: 'random' | 'pct' | 'exhaustive', runs: number, depth = 3) => explore(sc, machine, { kernel, strategy, depth, seed: 1, runs });

test('exhaustive on a tiny scenario finds every outcome that 150 random schedules find', () => {
  let walked = 0;
  fc.assert(
    fc.property(tinyArb, ({ sc, kernel }) => {
      const ex = keysOf(sc, kernel, 'exhaustive', 400, 1000);
      fc.pre(ex.complete === true);
      walked++;
      const all = new Set(ex.outcomes.map((o) => o.key));
      for (const strategy of ['random', 'pct'] as const)
        for (const o of keysOf(sc, kernel, strategy, 150).outcomes) assert.ok(all.has(o.key), `${strategy} seed ${o.firstSeed} on ${kernel}: ${o.key} not among exhaustive's ${[...all].join(' | ')}`);
      assert.equal(ex.outcomes.reduce((n, o) => n + o.count, 0), ex.runs);
    }),
    { numRuns: 40, seed: 14 },
  );
  // the walk was complete for most generated scenarios (not a vacuous property)
  assert.ok(walked >= 25, `only ${walked} of 40 walks were complete`);
});

test('every reported schedule replays to its outcome key byte for byte (random, pct, exhaustive)', () => {
  fc.assert(
    fc.property(tinyArb, ({ sc, kernel }) => {
      for (const strategy of ['random', 'pct', 'exhaustive'] as const)
        for (const o of keysOf(sc, kernel, strategy, 60).outcomes) {
          const path = o.firstPath === undefined ? undefined : parsePath(o.firstPath)!;
          const r = runSchedule(sc, machine, { kernel, strategy, seed: o.firstSeed, depth: 3, ...(path ? { path } : {}) });
          assert.equal(r.key, o.key, `${strategy} seed ${o.firstSeed}${path ? ` path ${o.firstPath}` : ''}`);
        }
    }),
    { numRuns: 30, seed: 15 },
  );
});

test('a random or pct schedule is the same run when its decisions are given as a path', () => {
  fc.assert(
    fc.property(tinyArb, fc.nat(10_000), fc.constantFrom('random' as const, 'pct' as const), ({ sc, kernel }, seed, strategy) => {
      const a = runSchedule(sc, machine, { kernel, strategy, seed });
      const b = runSchedule(sc, machine, { kernel, strategy, seed, path: a.choices.decisions.map((d) => d.k) });
      assert.equal(b.key, a.key);
      assert.deepEqual(b.choices.decisions.map((d) => [d.kind, d.t, d.n, d.k]), a.choices.decisions.map((d) => [d.kind, d.t, d.n, d.k]));
    }),
    { numRuns: 60, seed: 16 },
  );
});

test('nextPath: a depth-first walk, alternatives in order, at most D ties off their default', () => {
  const tie = (k: number, alts: number[]) => ({ kind: 'tie' as const, t: 0, n: alts.length, k, names: alts.map(String), alts });
  assert.deepEqual(nextPath([tie(0, [0, 1, 2]), tie(0, [0, 1])], 5), [0, 1]);
  assert.deepEqual(nextPath([tie(0, [0, 1, 2]), tie(1, [0, 1])], 5), [1]);
  assert.deepEqual(nextPath([tie(2, [0, 1, 2]), tie(1, [0, 1])], 5), null);
  // with one tie already off its default, a bound of 1 allows no second
  assert.deepEqual(nextPath([tie(1, [0, 1, 2]), tie(0, [0, 1])], 1), [2]);
  // partial-order reduction: a tie with a single alternative is not a branch
  assert.deepEqual(nextPath([tie(0, [0, 1]), tie(1, [1])], 5), [1]);
});

test('exhaustive on the built-ins: the races of the presets, each outcome with a path that replays it', () => {
  const run = (name: string, kernel: string, runs = 3000, points = 3) => explore(loadScenario(name), machine, { kernel, strategy: 'exhaustive', depth: 3, seed: 1, runs, points });
  // rmmod during the init: every answer delete_module can give, on a complete walk of 12 schedules
  const rm = run('rmmod-during-load', 'newest');
  assert.equal(rm.complete, true);
  assert.deepEqual(rm.outcomes.map((o) => o.key.split(' · ')[1]).sort(), ['rmmod: -EBUSY', 'rmmod: -ENOENT', 'rmmod: 0']);
  // the self-load: hang whatever happens on v6.5; on v6.11 -EINTR exactly when the signal is sent
  const sl5 = run('self-load', 'v6.5');
  assert.ok(sl5.complete === true && sl5.outcomes.every((o) => o.key.startsWith('modprobe: hang')));
  const sl11 = run('self-load', 'v6.11');
  assert.equal(sl11.outcomes.length, 2);
  for (const o of sl11.outcomes) assert.equal(o.key.includes('sent SIGKILL'), o.key.includes('=-EINTR'));
  // idempotent finit (v6.5): no interleaving of three loads returns anything but 0
  const v65 = run('same-name-slow-init', 'v6.5');
  assert.equal(v65.complete, true);
  assert.deepEqual(v65.outcomes.map((o) => o.key), ['insmod: 0×3 · kml_slow live, 1 init · waste: none']);
  // the stale dups result: NULL only on the dups preset, and there on a complete walk
  assert.ok(run('dups-stale-result', 'newest-dups').outcomes.some((o) => o.key.includes('test_kmod-1: NULL')));
  assert.ok(run('dups-stale-result', 'newest').outcomes.every((o) => !o.key.includes('NULL')));
  // the late arrival on v6.5 sits in a narrow window: 3 points per range miss it, 9 find it
  assert.ok(run('initstate-late-arrival', 'v6.5').outcomes.every((o) => !o.key.includes('becoming')));
  const late = run('initstate-late-arrival', 'v6.5', 3000, 9);
  assert.equal(late.complete, true);
  const found = late.outcomes.find((o) => o.key.includes('becoming'));
  assert.ok(found !== undefined);
  const again = runSchedule(loadScenario('initstate-late-arrival'), machine, { kernel: 'v6.5', strategy: 'exhaustive', seed: 1, path: parsePath(found.firstPath!)!, points: 9 });
  assert.equal(again.key, found.key);
});

test('exhaustive deepens its bound: a spent budget has covered the schedules nearest FIFO first; a complete walk counts what one walk at bound D counts', () => {
  const sc = loadScenario('get_fs_type-alias');
  const answers = (e: { outcomes: { key: string }[] }) => e.outcomes.map((o) => o.key.split(' · ')[1]).sort();
  // 1,000 schedules of a 23,757-schedule tree: every rmmod answer (a plain depth-first walk found one)
  const short = explore(sc, machine, { kernel: 'v6.1', strategy: 'exhaustive', depth: 3, seed: 1, runs: 1000 });
  assert.equal(short.complete, false);
  assert.deepEqual(answers(short), ['rmmod: -EBUSY', 'rmmod: -ENOENT', 'rmmod: 0']);
  assert.ok(short.level! >= 2, `level ${short.level}`);
  for (const o of short.outcomes) assert.equal(runSchedule(sc, machine, { kernel: 'v6.1', strategy: 'exhaustive', seed: 1, path: parsePath(o.firstPath!)! }).key, o.key);
  // the same tree at bound 1, deepened and in one plain depth-first walk (an older --out file's way): equal counts
  const deep = explore(sc, machine, { kernel: 'v6.1', strategy: 'exhaustive', depth: 1, seed: 1, runs: 5000 });
  const plain = explore(sc, machine, { kernel: 'v6.1', strategy: 'exhaustive', depth: 1, seed: 1, runs: 5000 }, { scenario: sc.name, kernel: 'v6.1', strategy: 'exhaustive', depth: 1, seed: 1, runs: 0, outcomes: [], points: 3, cursor: [], complete: false });
  assert.ok(deep.complete && plain.complete);
  assert.equal(deep.runs, plain.runs);
  const counts = (e: typeof deep) => Object.fromEntries(e.outcomes.map((o) => [o.key, o.count]));
  assert.deepEqual(counts(deep), counts(plain));
  // a level where the bound cut nothing has walked the whole tree: complete at once, whatever D
  const rm = explore(loadScenario('rmmod-during-load'), machine, { kernel: 'newest', strategy: 'exhaustive', depth: 50, seed: 1, runs: 5000 });
  assert.equal(rm.complete, true);
  assert.equal(rm.runs, 12);
  assert.ok(rm.level! < 50);
});
