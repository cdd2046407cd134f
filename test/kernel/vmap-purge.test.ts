/**
 * vmap_purge_lock (mm/vmalloc.c): the TLB shootdowns of module memory are one global mutex.
 * A same-name duplicate rejected after layout_and_allocate frees each module-memory region with
 * a flush inside that lock (VM_FLUSH_RESET_PERMS), and a load's set_memory_*() calls take it too,
 * flushing when a lazily freed area waits. With a flush cost (timings.tlbFlushNs) the woken
 * duplicates leave one after another, and LIVE is visible before they wake (module_enable_ro
 * after init runs between the two); with none, nothing of this happens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EEXIST } from '../../src/kernel/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { MS, proc, world } from './helpers.js';

const FLUSH = 10 * MS;

/** one load at 0 and four duplicates 20 ms later; each process returns [errno, exit time] */
function storm(tlbFlushNs: number) {
  // core and init memory: two module_alloc() regions on 6.1, so two VM_FLUSH_RESET_PERMS frees
  const sections = { text: 8192, data: 4096, rodata: 4096, roAfterInit: 0, initText: 4096, initData: 4096, initRodata: 0, symtab: 4096, percpu: 0 };
  const f = makeModuleFile({ name: 'm', sections, behaviour: { initSleepNs: 200 * MS } });
  const w = world('v6.1-stable', [f], { timings: { tlbFlushNs } });
  const ps = [0, 20, 20, 20, 20].map((at, i) =>
    proc(w, `w${i}`, at * MS, function* (t) {
      const r = yield* w.k.finit_module(t, f, '', 0);
      return [r, w.sim.now] as const;
    }),
  );
  return { w, ps };
}

test('vmap_purge_lock: the duplicates free their module memory one after another', () => {
  const { w, ps } = storm(FLUSH);
  w.sim.run();
  assert.deepEqual(ps.map((p) => p.result![0]), [0, -EEXIST, -EEXIST, -EEXIST, -EEXIST]);
  const exits = ps.slice(1).map((p) => p.result![1]).sort((a, b) => a - b);
  // core + init region: two flushes each, none overlapping another
  for (let i = 1; i < exits.length; i++) assert.ok(exits[i]! - exits[i - 1]! >= 2 * FLUSH, `exits ${exits.join(', ')}`);
  assert.ok(exits[0]! >= ps[0]!.result![1] + 2 * FLUSH - 1);

  const none = storm(0);
  none.w.sim.run();
  assert.deepEqual(none.ps.map((p) => p.result![0]), [0, -EEXIST, -EEXIST, -EEXIST, -EEXIST]);
  const at = new Set(none.ps.slice(1).map((p) => p.result![1]));
  assert.equal(at.size, 1, 'without a flush cost every woken duplicate leaves at the same instant');
});

test('vmap_purge_lock: "live" is readable before the same-name waiters wake', () => {
  const { w, ps } = storm(FLUSH);
  w.sim.runUntil(() => w.k.moduleState('m') === 'live');
  assert.equal(w.k.sysfsModule('m').initstate, 'live');
  // module_enable_ro(mod, true) flushes for the file copy freed before init, then wake_up_all
  assert.ok(ps.every((p) => p.result === undefined), 'nobody has returned yet');
  w.sim.run();
  assert.equal(ps[0]!.result![0], 0);

  const none = storm(0);
  none.w.sim.runUntil(() => none.w.k.moduleState('m') === 'live');
  none.w.sim.run(1);
  assert.equal(none.ps[0]!.result?.[0], 0, 'without a flush cost the loader returns at the LIVE instant');
});
