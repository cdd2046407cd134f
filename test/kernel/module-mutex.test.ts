/**
 * module_mutex (kernel/module/main.c, 4.9 … newest): complete_formation() holds it across the
 * RWX steps' set_memory_*() calls, so across their wait for vmap_purge_lock. While a loader waits
 * there, every other section of module_mutex waits its turn: a newcomer's add_unformed_module(),
 * and a same-name sleeper's finished_loading() re-check, which then sees the state of its turn.
 * Without a TLB-shootdown cost nothing waits on vmap_purge_lock and module_mutex is never held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EEXIST } from '../../src/kernel/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { MS, proc, world } from './helpers.js';

const FLUSH = 10 * MS;
// core and init memory: two module_alloc() regions on 6.1, so two flushed frees per duplicate
const sections = { text: 8192, data: 4096, rodata: 4096, roAfterInit: 0, initText: 4096, initData: 4096, initRodata: 0, symtab: 4096, percpu: 0 };

/**
 * x: one load at 0 and four duplicates at 20 ms, which free (2 flushes each, ~80 ms of
 * vmap_purge_lock) after x's wake at ~200 ms; y loaded at 220 ms (its complete_formation waits
 * for those frees); z loaded at 240 ms.
 */
function scene(tlbFlushNs: number) {
  const x = makeModuleFile({ name: 'x', sections, behaviour: { initSleepNs: 200 * MS } });
  const y = makeModuleFile({ name: 'y', sections });
  const z = makeModuleFile({ name: 'z', sections });
  const w = world('v6.1-stable', [x, y, z], { timings: { tlbFlushNs } });
  const load = (name: string, f: typeof x, atMs: number) =>
    proc(w, name, atMs * MS, function* (t) {
      const r = yield* w.k.finit_module(t, f, '', 0);
      return [r, w.sim.now] as const;
    });
  const xs = [0, 20, 20, 20, 20].map((at, i) => load(`x${i}`, x, at));
  const py = load('y', y, 220);
  const pz = load('z', z, 240);
  return { w, xs, py, pz };
}

test('module_mutex: a loader waiting on vmap_purge_lock in complete_formation keeps a newcomer out of add_unformed_module', () => {
  const s = scene(FLUSH);
  s.w.sim.runUntil(() => s.w.sim.now >= 260 * MS);
  assert.equal(s.w.k.moduleState('y'), 'unformed', 'y waits for vmap_purge_lock in complete_formation');
  assert.equal(s.w.k.moduleState('z'), null, 'z waits for module_mutex before its record is inserted');
  s.w.sim.run();
  assert.deepEqual(s.xs.map((p) => p.result![0]), [0, -EEXIST, -EEXIST, -EEXIST, -EEXIST]);
  assert.equal(s.py.result![0], 0);
  assert.equal(s.pz.result![0], 0);
  const lastDup = Math.max(...s.xs.slice(1).map((p) => p.result![1]));
  // z's own RWX steps come after y's: both queue behind the duplicates' frees
  assert.ok(s.pz.result![1] >= lastDup, `z ${s.pz.result![1]} after the last free ${lastDup}`);

  const none = scene(0);
  none.w.sim.runUntil(() => none.w.sim.now >= 260 * MS);
  assert.notEqual(none.w.k.moduleState('z'), null, 'without a flush cost z is inserted at once');
});

/**
 * A failing init's free_module() unlinks under module_mutex and only then module_memfree()
 * flushes (the real 16-vCPU trace: skx_edac's loader waits ~470 ms between module_free and its
 * unlink while another loader sits in vm_unmap_aliases). x's duplicates keep vmap_purge_lock
 * busy from ~200 to ~280 ms; f's init fails at 230 ms, its grace period ends at 240 ms.
 */
test('module_mutex: free_module unlinks before its flushes, and waits for the lock to do it', () => {
  const at260 = (withY: boolean) => {
    const x = makeModuleFile({ name: 'x', sections, behaviour: { initSleepNs: 200 * MS } });
    const y = makeModuleFile({ name: 'y', sections });
    const f = makeModuleFile({ name: 'f', sections, behaviour: { initSleepNs: 230 * MS, initResult: -19 } });
    const w = world('v6.1-stable', [x, y, f], { timings: { tlbFlushNs: FLUSH, rcuGracePeriodNs: 10 * MS } });
    for (const at of [0, 20, 20, 20, 20]) proc(w, 'x', at * MS, (t) => w.k.finit_module(t, x, '', 0));
    if (withY) proc(w, 'y', 220 * MS, (t) => w.k.finit_module(t, y, '', 0));
    const f0 = proc(w, 'f', 0, (t) => w.k.finit_module(t, f, '', 0));
    w.sim.runUntil(() => w.sim.now >= 260 * MS);
    const state = w.k.moduleState('f');
    w.sim.run();
    assert.equal(f0.result, -19);
    return state;
  };
  assert.equal(at260(false), null, 'unlinked at once, its flushes still queued behind the duplicates');
  assert.equal(at260(true), 'going', 'y holds module_mutex across its wait for vmap_purge_lock: no unlink yet');
});
