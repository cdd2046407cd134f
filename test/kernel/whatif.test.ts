/**
 * The what-if policies of src/kernel/whatif/ beyond the per-preset oracles of divergence.test.ts:
 * the kread dedup holds the inode for the module's lifetime, the write-deny is taken before the
 * kread dedup when a preset turns both on, and a user plug-in's ctx.builtin() reaches the merge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EBUSY, EEXIST, ETXTBSY, O_NONBLOCK, type SameNamePolicy } from '../../src/kernel/index.js';
import { copyFile, makeModuleFile } from './testing/fixtures.js';
import { finitAt, initCount, MS, proc, tally, world } from './helpers.js';

test('kread dedup: the inode stays taken while the module is loaded, and is free again after delete_module', () => {
  const f = makeModuleFile({ name: 'm' });
  const w = world('whatif-kread-dedup', [f]);
  const first = finitAt(w, f);
  const again = finitAt(w, f, 10 * MS);
  const copy = finitAt(w, copyFile(f), 20 * MS);
  const rm = proc(w, 'rmmod', 30 * MS, (t) => w.k.delete_module(t, 'm', O_NONBLOCK));
  const reload = finitAt(w, f, 40 * MS);
  w.sim.run();
  assert.deepEqual([first.result, again.result, copy.result, rm.result, reload.result], [0, -EBUSY, -EEXIST, 0, 0]);
});

test('write-deny and kread dedup together: a concurrent finit of the file is denied first (-ETXTBSY)', () => {
  const f = makeModuleFile({ name: 'm', behaviour: { initSleepNs: 50 * MS } });
  const w = world('v6.4', [f], { flags: { exclusiveWriteDeny: true, kreadDedup: true } });
  const ps = [0, 1, 2].map((i) => finitAt(w, f, i * MS));
  const later = finitAt(w, f, 100 * MS);
  w.sim.run();
  assert.deepEqual(tally(ps.map((p) => p.result)), { '0': 1, [-ETXTBSY]: 2 });
  assert.equal(later.result, -EBUSY);
});

test('a plug-in runs before the what-ifs: its ctx.builtin() is the merge, whose builtin() is the preset', () => {
  const seen: string[] = [];
  const policy: SameNamePolicy = {
    name: 'spy',
    *check(ctx) {
      seen.push(ctx.reason);
      return yield* ctx.builtin();
    },
  };
  const f = makeModuleFile({ name: 'm', behaviour: { initSleepNs: 50 * MS } });
  const w = world('whatif-merge-same-name', [f], { policy, log: true });
  const ps = [0, 1, 2].map((i) => finitAt(w, copyFile(f), i * MS));
  w.sim.run();
  assert.deepEqual(tally(ps.map((p) => p.result)), { '0': 1, [-EEXIST]: 2 });
  assert.equal(initCount(w, 'm'), 1);
  assert.deepEqual(seen.sort(), ['becoming', 'becoming', 'becoming', 'load']);
});
