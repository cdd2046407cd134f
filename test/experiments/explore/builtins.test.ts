/**
 * The built-in explore scenarios on the presets where their race changes, and replay: every
 * reported first seed gives its outcome again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore, wilson } from '../../../src/experiments/explore/explore.js';
import { runSchedule } from '../../../src/experiments/explore/run.js';
import { parseScenario } from '../../../src/experiments/explore/scenario.js';
import { loadScenario } from '../../../src/io/scenario.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';
import { InputError } from '../../../src/errors.js';
import { formatSideBySide } from '../../../src/experiments/explore/format.js';

const machine = loadMachine('qemu-tcg');
const keys = (name: string, kernel: string, runs = 40, strategy: 'random' | 'pct' = 'random') => explore(loadScenario(name), machine, { kernel, strategy, depth: 3, seed: 1, runs });

test('same-name-failing-init: 4 serialized inits on v5.3, one init and -EBUSY on v6.2', () => {
  const a = keys('same-name-failing-init', 'v5.3');
  assert.deepEqual(a.outcomes.map((o) => o.key), ['insmod: -ENODEV×4 · kml_fail gone, 4 inits · waste: none']);
  const b = keys('same-name-failing-init', 'v6.2');
  assert.ok(b.outcomes.every((o) => o.key.includes('1 init') && o.key.includes('-EBUSY×3')));
});

test('same-name-failing-init: on v5.3 the four inits run one after another (the loads are serialized); on v6.2 every caller is back when the one init ends', () => {
  const sc = loadScenario('same-name-failing-init');
  for (let seed = 1; seed <= 10; seed++) {
    const timed = (kernel: string) => {
      const r = runSchedule(sc, machine, { kernel, strategy: 'random', seed, log: true });
      const recs = r.system.sim.log.records;
      const at = (kind: string, f: (x: Record<string, unknown>) => boolean) => recs.filter((x) => x.kind === kind && f(x.fields as Record<string, unknown>)).map((x) => x.t);
      const initNs = 400e6 + r.choices.decisions[0]!.k;
      return { starts: at('init', (x) => x['phase'] === 'start'), ends: at('init', (x) => x['phase'] === 'end'), exits: at('finit', (x) => x['phase'] === 'exit'), initNs };
    };
    const a = timed('v5.3');
    assert.equal(a.starts.length, 4);
    // each init starts after the previous one ended: four inits' time in a row
    for (let i = 1; i < 4; i++) assert.ok(a.starts[i]! >= a.ends[i - 1]!, `seed ${seed}: init ${i} overlaps`);
    assert.ok(Math.max(...a.exits) >= 4 * a.initNs, `seed ${seed}: done at ${Math.max(...a.exits)} < 4 × ${a.initNs}`);
    const b = timed('v6.2');
    assert.equal(b.starts.length, 1);
    // back before a second init could have run (not exactly at the end: on qemu-tcg at 4 vCPUs each
    // duplicate's module-memory frees then queue on vmap_purge_lock, tens of ms one after another)
    assert.ok(Math.max(...b.exits) < b.ends[0]! + b.initNs, `seed ${seed}: a caller still waits after the init ended (${Math.max(...b.exits)} ≥ ${b.ends[0]} + ${b.initNs})`);
  }
});

test('same-name-slow-init: -EEXIST up to v6.4, every caller 0 on v6.5', () => {
  assert.ok(keys('same-name-slow-init', 'v6.4').outcomes.every((o) => o.key.startsWith('insmod: -EEXIST×2 0×1')));
  assert.deepEqual(keys('same-name-slow-init', 'v6.5').outcomes.map((o) => o.key), ['insmod: 0×3 · kml_slow live, 1 init · waste: none']);
});

test('self-load: hangs on v6.5 whatever happens; on v6.11 -EINTR exactly when the signal arrives', () => {
  for (const o of keys('self-load', 'v6.5').outcomes) assert.match(o.key, /^modprobe: hang/);
  const b = keys('self-load', 'v6.11');
  assert.equal(b.outcomes.length, 2);
  for (const o of b.outcomes) assert.equal(o.key.includes('sent SIGKILL'), o.key.includes('=-EINTR'), o.key);
  for (const o of b.outcomes) assert.equal(o.key.includes('no signal'), o.key.startsWith('modprobe: hang'), o.key);
});

test('initstate-late-arrival: on v6.5 a share of schedules wastes a kread copy at the early check', () => {
  const e = keys('initstate-late-arrival', 'v6.5', 200);
  const late = e.outcomes.find((o) => o.key.includes('becoming'));
  assert.ok(late !== undefined);
  assert.ok(late.count > 0 && late.count < e.runs);
  const [lo, hi] = wilson(late.count, e.runs);
  assert.ok(lo < late.count / e.runs && late.count / e.runs < hi);
});

test('--seed S: the schedules are seeds S, S+1, …, each outcome\'s first seed among them', () => {
  const sc = loadScenario('rmmod-during-load');
  const e = explore(sc, machine, { kernel: 'newest', strategy: 'random', depth: 3, seed: 500, runs: 30 });
  for (const o of e.outcomes) {
    assert.ok(o.firstSeed >= 500 && o.firstSeed < 530);
    assert.equal(runSchedule(sc, machine, { kernel: 'newest', strategy: 'random', seed: o.firstSeed }).key, o.key);
    // no earlier seed of the run gave it
    for (let s = 500; s < o.firstSeed; s++) assert.notEqual(runSchedule(sc, machine, { kernel: 'newest', strategy: 'random', seed: s }).key, o.key);
  }
});

test('every reported seed replays to the same outcome (random and pct)', () => {
  for (const strategy of ['random', 'pct'] as const)
    for (const [name, kernel] of [['same-name-slow-init', 'v6.4'], ['initstate-late-arrival', 'v6.5'], ['rmmod-during-load', 'newest']] as const) {
      const e = keys(name, kernel, 60, strategy);
      for (const o of e.outcomes) assert.equal(runSchedule(loadScenario(name), machine, { kernel, strategy, seed: o.firstSeed, depth: 3 }).key, o.key);
    }
});

test('bad scenarios: one line naming the field', () => {
  const base = { name: 'x', modules: [{ name: 'm' }], processes: [{ name: 'p', actions: [{ op: 'finit_module', module: 'm' }] }] };
  assert.throws(() => parseScenario({ ...base, processes: [{ name: 'p', actions: [{ op: 'finit_module', module: 'nope' }] }] }, 's'), (e: Error) => e instanceof InputError && /processes\.0\.actions\.0\.module: unknown module nope/.test(e.message));
  assert.throws(() => parseScenario({ ...base, machine: { cpus: 0 } }, 's'), (e: Error) => e instanceof InputError && /machine\.cpus/.test(e.message));
  assert.throws(() => parseScenario({ ...base, processes: [] }, 's'), (e: Error) => e instanceof InputError && /processes/.test(e.message));
  const line = (data: unknown, want: string): void => assert.throws(() => parseScenario(data, 's'), (e: Error) => e instanceof InputError && e.message === want);
  // a range the explorer cannot draw from (was: silently the low end)
  line({ ...base, modules: [{ name: 'm', initMs: [50, 10] }] }, 's: modules.0.initMs: a range is [lo, hi] with lo <= hi');
  line({ ...base, processes: [{ name: 'p', startMs: [3, 1], actions: [{ op: 'finit_module', module: 'm' }] }] }, 's: processes.0.startMs: a range is [lo, hi] with lo <= hi');
  // an errno the model does not know (was: silently -EIO); one it knows is that errno
  assert.throws(() => parseScenario({ ...base, modules: [{ name: 'm', initResult: 'EFOO' }] }, 's'), (e: Error) => e instanceof InputError && /^s: modules\.0\.initResult: unknown errno EFOO \(known: EPERM, /.test(e.message));
  const etime = parseScenario({ ...base, modules: [{ name: 'm', initResult: 'ETIME' }] }, 's');
  assert.equal(runSchedule(etime, machine, { kernel: 'newest', strategy: 'random', seed: 1 }).key, 'p: -ETIME · m gone, 1 init · waste: none');
  // names that would make two parts of a key, two signal targets or two --drop's the same
  line({ ...base, modules: [{ name: 'm' }, { name: 'm' }] }, 's: modules.1.name: module m is defined twice');
  line({ ...base, processes: [base.processes[0], base.processes[0]] }, 's: processes.1.name: process p is defined twice');
  line({ ...base, processes: [{ ...base.processes[0], count: 2 }, { ...base.processes[0], name: 'p-1' }] }, 's: processes.1.name: p-1 is also a member of p; the names must differ');
  // a count that would exhaust memory (was: a V8 heap crash after minutes)
  line({ ...base, processes: [{ ...base.processes[0], count: 100_000_000 }] }, 's: processes.0.count: Too big: expected number to be <=4096');
});

test('a scenario that does not quiesce and has no deadline: one line naming deadlineMs', () => {
  const sc = parseScenario({ name: 'long', modules: [], processes: [{ name: 'p', actions: [{ op: 'sleep', ms: 7_200_000 }] }] }, 's');
  assert.throws(() => runSchedule(sc, machine, { kernel: 'newest', strategy: 'random', seed: 1, quiesceLimitNs: 3600e9 }), (e: Error) => e instanceof InputError && e.message === 'scenario long: deadlineMs: the scenario does not quiesce within 1 h of virtual time; give it a deadline');
  // with a deadline the sleeper is simply still running then (a hang), and without the short limit it ends
  assert.equal(runSchedule({ ...sc, deadlineMs: 1000 }, machine, { kernel: 'newest', strategy: 'random', seed: 1 }).key, 'p: hang · waste: none');
  assert.equal(runSchedule(sc, machine, { kernel: 'newest', strategy: 'random', seed: 1 }).key, 'p:  · waste: none');
  // a process blocked for good when nothing is left to happen is a hang at quiesce, no deadline needed
  const { deadlineMs: _, ...selfLoad } = loadScenario('self-load');
  const q = runSchedule({ ...selfLoad, processes: selfLoad.processes.filter((p) => p.name === 'modprobe') }, machine, { kernel: 'v6.5', strategy: 'random', seed: 1 });
  assert.equal(q.key, 'modprobe: hang · aes_neonbs coming, 1 init · waste: none');
  assert.ok(q.system.sim.idle());
});

test('dups-stale-result: the cached result gives NULL only on the dups-enabled preset', () => {
  assert.ok(keys('dups-stale-result', 'newest').outcomes.every((o) => !o.key.includes('NULL')));
  assert.ok(keys('dups-stale-result', 'newest-dups').outcomes.some((o) => o.key.includes('test_kmod-1: NULL')));
});

test('kmod-limit-timeout: -ETIME at the limiter only when a slot is held past 5 s', () => {
  const sc = loadScenario('kmod-limit-timeout');
  for (const kernel of ['v6.1', 'v6.4'])
    for (let seed = 1; seed <= 16; seed++) {
      const r = runSchedule(sc, machine, { kernel, strategy: 'random', seed });
      const d = r.choices.decisions[0]!;
      const initNs = 0.5e9 + d.k;
      const etime = r.key.includes('-ETIME');
      // the slot is held for modprobe's start (50 of them on 2 CPUs) plus the init
      if (initNs > 5e9) assert.ok(etime, `${kernel} seed ${seed}: no -ETIME with init ${initNs} ns`);
      if (initNs < 1.5e9) assert.ok(!etime, `${kernel} seed ${seed}: -ETIME with init ${initNs} ns`);
    }
});

test('the late arrival stays on v6.5+ (v6.5, v6.11, newest) as a small share of schedules; on v6.4 a becoming-stage duplicate is the common case', () => {
  const sc = loadScenario('initstate-late-arrival');
  for (const kernel of ['v6.5', 'v6.11', 'newest']) {
    const e = explore(sc, machine, { kernel, strategy: 'random', depth: 3, seed: 1, runs: 300 });
    const late = e.outcomes.find((o) => o.key.includes('becoming'));
    assert.ok(late !== undefined, kernel);
    assert.ok(late.count / e.runs > 0 && late.count / e.runs < 0.1, `${kernel}: ${late.count}/${e.runs}`);
    assert.ok(e.outcomes.every((o) => !o.key.includes('load ')), kernel);
  }
  const v64 = explore(sc, machine, { kernel: 'v6.4', strategy: 'random', depth: 3, seed: 1, runs: 300 });
  assert.ok(v64.outcomes.find((o) => o.key.includes('becoming'))!.count / v64.runs > 0.3);
});

test('--kernel v5.3,v6.2,v6.5,v6.11 side by side: the failing-init race is one row per era', () => {
  const sc = loadScenario('same-name-failing-init');
  const es = ['v5.3', 'v6.2', 'v6.5', 'v6.11'].map((kernel) => explore(sc, machine, { kernel, strategy: 'random', depth: 3, seed: 1, runs: 60 }));
  const rows = formatSideBySide(es).trimEnd().split('\n').slice(2);
  assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()), [
    '100.0% (60) - - - insmod: -ENODEV×4 · kml_fail gone, 4 inits · waste: none',
    '- 100.0% (60) - - insmod: -EBUSY×3 -ENODEV×1 · kml_fail gone, 1 init · waste: load 1167360',
    '- - 100.0% (60) 100.0% (60) insmod: -ENODEV×4 · kml_fail gone, 1 init · waste: none',
  ]);
});

test('random and pct draw a duration anywhere in its range (to the ns), not only at the exhaustive grid', () => {
  const sc = loadScenario('rmmod-during-load');
  for (const strategy of ['random', 'pct'] as const) {
    const drawn = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) drawn.add(runSchedule(sc, machine, { kernel: 'newest', strategy, seed, depth: 3 }).choices.decisions.find((d) => d.label === 'kml_slow init takes')!.k);
    // 60 seeds, 60 distinct offsets of the 500 ms range, none of them the grid's 0 / 250 / 500 ms
    assert.equal(drawn.size, 60, strategy);
    for (const k of drawn) assert.ok(k > 0 && k < 500e6 && k !== 250e6, `${strategy}: ${k}`);
    const tenths = new Set([...drawn].map((k) => Math.floor(k / 50e6)));
    assert.ok(tenths.size >= 8, `${strategy}: offsets in only ${tenths.size} of 10 tenths of the range`);
  }
});

test('get_fs_type-alias: on v6.1 the two autoloads each copy the module (a duplicate load\'s bytes are wasted), on newest none; rmmod gives 0, -ENOENT or -EBUSY on both', () => {
  const parts = (kernel: string) => keys('get_fs_type-alias', kernel, 100).outcomes.map((o) => o.key.split(' · '));
  for (const kernel of ['v6.1', 'newest']) {
    const ps = parts(kernel);
    assert.deepEqual(ps.map((p) => p[1]).sort(), ['rmmod: -EBUSY', 'rmmod: -ENOENT', 'rmmod: 0'], kernel);
    for (const p of ps) {
      assert.equal(p[0], 'test_kmod: found×2');
      assert.equal(p.at(-1), kernel === 'v6.1' ? 'waste: load 389120' : 'waste: none');
    }
  }
});

test('the actions and module fields the issue lists: init_module, request_module, initstate, a module whose init requests another', () => {
  const sc = parseScenario(
    {
      name: 'nested',
      modules: [{ name: 'ma', initMs: 2, requests: ['mb'] }, { name: 'mb', initMs: 1, deps: [] }, { name: 'mc', initMs: 1, deps: ['mb'] }],
      processes: [
        { name: 'x', kind: 'insmod', actions: [{ op: 'init_module', module: 'ma' }, { op: 'initstate', module: 'ma' }, { op: 'delete_module', module: 'ma' }, { op: 'initstate', module: 'ma' }] },
        { name: 'y', startMs: 100, actions: [{ op: 'request_module', name: 'mc' }, { op: 'initstate', module: 'mc' }, { op: 'init_module', module: 'mc' }] },
      ],
    },
    's',
  );
  const r = runSchedule(sc, machine, { kernel: 'newest', strategy: 'random', seed: 1 });
  // ma's init loads mb through request_module; modprobe mc finds its dependency there and loads mc;
  // init_module of the live mc is -EEXIST, its copy wasted at the becoming check
  assert.equal(r.key, 'x: 0,initstate=live,0,initstate=absent · y: 0,initstate=live,-EEXIST · ma.init request_module mb=0 · ma gone, 1 init · mb live, 1 init · mc live, 1 init · waste: becoming 194560');
});
