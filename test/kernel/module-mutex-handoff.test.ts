/**
 * module_mutex as the real 6.1 kernel holds it and hands it on (kernel/module/main.c; the q6 traces of
 * calibration/coldplug-debian-6.1.md):
 * - free_module() holds it from the unlink across a synchronize_rcu() (timings.freeModuleSyncRcuNs),
 *   so a newcomer's add_unformed_module() waits for it.
 * - A woken module_wq sleeper takes it only once it runs (timings.mutexWakeQuantilesNs), and each
 *   waiter woken by an unlock only once it runs: the sleepers of one wake leave one by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeModuleFile } from './testing/fixtures.js';
import { MS, proc, world } from './helpers.js';

const ENODEV = -19;
const EBUSY = -16;
const sections = { text: 8192, data: 4096, rodata: 4096, roAfterInit: 0, initText: 4096, initData: 4096, initRodata: 0, symtab: 4096, percpu: 0 };
/** every quantile the same: a fixed wake→run time */
const fixed = (ns: number) => Array.from({ length: 22 }, () => ns);

test('module_mutex: free_module holds it across its synchronize_rcu, and a newcomer\'s record waits for it', () => {
  const at = (freeModuleSyncRcuNs: number) => {
    const f = makeModuleFile({ name: 'f', sections, behaviour: { initSleepNs: 10 * MS, initResult: ENODEV } });
    const g = makeModuleFile({ name: 'g', sections });
    const w = world('v6.1-stable', [f, g], { timings: { rcuGracePeriodNs: 5 * MS, freeModuleSyncRcuNs } });
    const pf = proc(w, 'f', 0, (t) => w.k.finit_module(t, f, '', 0));
    // f's init fails at ~10 ms, its record is unlinked at ~15 ms, the lock is held to ~65 ms
    const pg = proc(w, 'g', 30 * MS, (t) => w.k.finit_module(t, g, '', 0));
    w.sim.runUntil(() => w.sim.now >= 40 * MS);
    const g40 = w.k.moduleState('g');
    w.sim.run();
    assert.equal(pf.result, ENODEV);
    assert.equal(pg.result, 0);
    return g40;
  };
  assert.equal(at(50 * MS), null, 'g waits for module_mutex before its record is inserted');
  assert.notEqual(at(0), null, 'without the hold g is inserted at once');
});

/**
 * x's init fails at 100 ms with five -EBUSY sleepers on it; z0..z3 load from 101 ms on and hold
 * module_mutex across their complete_formation flushes (tlbFlushNs). Every wake_up_all wakes the
 * sleepers; each re-checks under module_mutex.
 */
function herd(wakeNs: number) {
  const x = makeModuleFile({ name: 'x', sections, behaviour: { initSleepNs: 100 * MS, initResult: ENODEV } });
  const zs = [0, 1, 2, 3].map((i) => makeModuleFile({ name: `z${i}`, sections }));
  const w = world('v6.1-stable', [x, ...zs], {
    log: true,
    timings: { tlbFlushNs: 5 * MS, rcuGracePeriodNs: 2 * MS, ...(wakeNs > 0 ? { mutexWakeQuantilesNs: fixed(wakeNs) } : {}) },
  });
  const px = proc(w, 'x0', 0, (t) => w.k.finit_module(t, x, '', 0));
  const sleepers = [1, 2, 3, 4, 5].map((i) => proc(w, `x${i}`, 10 * MS, (t) => w.k.finit_module(t, x, '', 0)));
  // z0..z3 load from 101 ms on, each one a little later: their complete_formation holds queue up
  zs.forEach((z, i) => proc(w, `z${i}`, (101 + i) * MS, (t) => w.k.finit_module(t, z, '', 0)));
  w.sim.run();
  assert.equal(px.result, ENODEV);
  for (const s of sleepers) assert.equal(s.result, EBUSY);
  const ends = w.sim.log.records.filter((r) => r.kind === 'wait' && r.fields['on'] === 'module_wq' && r.fields['name'] === 'x' && r.fields['phase'] === 'end').map((r) => r.t);
  assert.equal(ends.length, 5);
  return ends;
}

test('module_mutex: with a wake→run time the woken sleepers take it one after another, not at the instant of the wake', () => {
  // without it (FIFO hand-off, a re-check at the wake) the five leave at one instant
  assert.equal(new Set(herd(0)).size, 1);
  // with 1 ms each one passes the lock on to the next only once that one runs: one by one
  const ends = herd(1 * MS).sort((a, b) => a - b);
  for (let i = 1; i < ends.length; i++) assert.ok(ends[i]! - ends[i - 1]! >= 1 * MS, `departures ${ends.map((t) => t / MS).join(', ')} ms`);
});
