/**
 * The hazards the spec calls out: the dups cache (§3.6 / §7.5 0004), module-area exhaustion
 * (§5.8), and the idempotent self-load hang (§5.7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EINTR, ENOMEM, O_NONBLOCK } from '../../src/kernel/index.js';
import type { Proc } from '../../src/sim/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, MS, proc, requestAt, S, world } from './helpers.js';

const xfs = () => makeModuleFile({ name: 'xfs', size: 4_216_065, behaviour: { initCpuNs: 5 * MS, registersFs: ['xfs'] } });

test('dups cache hazard: a cached 0 for "fs-xfs" after xfs was removed → get_fs_type NULL (newest-dups)', () => {
  for (const [preset, foundAfterRemove] of [['newest-dups', false], ['newest', true]] as const) {
    const w = world(preset, [xfs()], { modprobe: { aliases: { 'fs-xfs': 'xfs' } } });
    // 0003: one get_fs_type("xfs") loads xfs
    const first = proc(w, 'test_kmod-0', 0, function* (t) {
      const fs = yield* w.k.get_fs_type(t, 'xfs');
      if (fs !== null) w.k.put_filesystem(fs);
      return fs !== null;
    });
    w.sim.run(1 * S);
    assert.equal(first.result, true, preset);
    // kmod_defaults_fs: modprobe -r xfs
    const rm = proc(w, 'modprobe-r', 0, (t) => w.k.delete_module(t, 'xfs', O_NONBLOCK));
    w.sim.run(2 * S);
    assert.equal(rm.result, 0);
    assert.equal(w.k.moduleState('xfs'), null);
    // 0004 within 60 s: two threads
    const ps = [0, 1].map((i) => proc(w, `test_kmod-${i}`, 0, function* (t) {
      const fs = yield* w.k.get_fs_type(t, 'xfs');
      if (fs !== null) w.k.put_filesystem(fs);
      return fs !== null;
    }));
    w.sim.run(3 * S);
    assert.deepEqual(ps.map((p) => p.result), [foundAfterRemove, foundAfterRemove], preset);
    if (preset === 'newest-dups') {
      assert.ok(w.k.dmesg().some((l) => l.endsWith('module-autoload: duplicate request for module fs-xfs')));
      assert.ok(w.k.dmesg().some((l) => l.endsWith('request_module fs-xfs succeeded, but still no fs?')));
      // 60 s after completion the entry is gone and modprobe runs again
      w.sim.run(70 * S);
      assert.equal(w.k.dups!.size, 0);
      const again = proc(w, 'test_kmod-9', 0, function* (t) {
        return (yield* w.k.get_fs_type(t, 'xfs')) !== null;
      });
      w.sim.run(80 * S);
      assert.equal(again.result, true);
    }
  }
});

test('dups: nowait duplicates return 0 at once; sync duplicates get the first result (256 for a missing module)', () => {
  const w = world('newest-dups', []);
  const a = requestAt(w, 'nope', 0, 'a');
  const b = requestAt(w, 'nope', 1 * MS, 'b');
  const c = requestAt(w, 'nope', 1 * MS, 'c', false);
  w.sim.run();
  assert.equal(a.result, 256);
  assert.equal(b.result, 256);
  assert.equal(c.result, 0);
  assert.equal(w.mp.exits.length, 1);
});

test('dups: module.enable_dups_trace prints a WARN splat instead of a warning', () => {
  const w = world('newest-dups', [], { dupsTrace: true });
  requestAt(w, 'nope', 0, 'a');
  requestAt(w, 'nope', 1 * MS, 'b');
  w.sim.run();
  const d = w.k.dmesg();
  assert.ok(d.some((l) => l.includes('------------[ cut here ]------------')));
  assert.ok(d.some((l) => l.includes('WARNING: CPU: 0 PID:') && l.includes('kernel/module/dups.c')));
});

test('module-area exhaustion: a load fails with -ENOMEM and the vmap line appears', () => {
  // 3 MiB module area; each load of "big" needs ~1.5 MiB of module memory (α·D, core + init +
  // guards) and keeps ~1.1 MiB of core once LIVE: the third load does not fit
  const mods = [0, 1, 2, 3].map((i) => makeModuleFile({ name: `big${i}`, size: 3_000_000 }));
  const w = world('v6.1', mods, { memory: { moduleAreaBytes: 3 * 1024 * 1024 } });
  const ps = mods.map((f, i) => finitAt(w, f, i * 100 * MS));
  w.sim.run();
  const rets = ps.map((p) => p.result);
  assert.deepEqual(rets.slice(0, 2), [0, 0]);
  assert.equal(rets[2], -ENOMEM);
  const line = w.k.dmesg().find((l) => l.includes('vmap allocation for size'));
  assert.ok(line !== undefined);
  assert.match(line!, /^\[ {4}0\.\d{6}\] vmap allocation for size \d+ failed: use vmalloc=<size> to increase size$/);
  assert.ok(w.k.memory.module.failures >= 1);
  assert.ok(w.k.memory.module.peak <= 3 * 1024 * 1024);
  // stats: allocation failure in layout_and_allocate counts as "becoming"
  assert.ok(w.k.stats.failed_becoming >= 1);
});

test('module-area exhaustion by waiting duplicates (pre-v6.4), not with idempotent finit (v6.5)', () => {
  for (const [preset, failures] of [['v6.2', true], ['v6.5', false]] as const) {
    const f = makeModuleFile({ name: 'kvm_intel', size: 1_000_000, behaviour: { initSleepNs: 500 * MS } });
    const w = world(preset, [f], { cpus: 64, memory: { moduleAreaBytes: 16 * 1024 * 1024 } });
    for (let i = 0; i < 64; i++) finitAt(w, f, i * 10_000);
    w.sim.run();
    assert.equal(w.k.memory.module.failures > 0, failures, preset);
    assert.equal(w.k.dmesg().some((l) => l.includes('vmap allocation for size')), failures, preset);
  }
});

test('idempotent self-load hang: -EINTR on v6.11 after a signal, never ends on v6.5', () => {
  for (const preset of ['v6.11', 'v6.5'] as const) {
    const nested: number[] = [];
    const f = makeModuleFile({
      name: 'aes_neonbs',
      behaviour: {
        *init(ctx): Proc<number> {
          // the cbc(aes) fallback resolves to this very module: load the same file again
          nested.push(yield* ctx.kernel.finit_module(ctx.task, f, '', 0));
          return 0;
        },
      },
    });
    const w = world(preset, [f]);
    const outer = finitAt(w, f, 0, 'modprobe');
    w.sim.signal(outer, 'SIGKILL', 60 * S);
    w.sim.run(24 * 3600 * S);
    if (preset === 'v6.11') {
      assert.deepEqual(nested, [-EINTR]);
      assert.equal(outer.result, 0);
      assert.equal(w.k.moduleState('aes_neonbs'), 'live');
    } else {
      assert.deepEqual(nested, []);
      assert.equal(outer.done, false);
      assert.equal(w.k.moduleState('aes_neonbs'), 'coming');
      assert.equal(w.k.idempotent!.inProgress, 1);
    }
  }
});
