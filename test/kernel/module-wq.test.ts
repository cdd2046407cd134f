/**
 * module_wq is one queue in the kernel (spec §2, §5.6): any module's wake_up_all lets every
 * sleeper re-check finished_loading(name). The divergence points of a failing init's GOING
 * window, per preset (spec §9.4 style): a sleeper on the failing module, and another module's
 * successful load whose wake falls inside the failed init's synchronize_rcu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EBUSY, EEXIST, ENODEV, ENOENT } from '../../src/kernel/index.js';
import type { KFile } from '../../src/kernel/api.js';
import type { Proc } from '../../src/sim/index.js';
import { copyFile, makeModuleFile } from './testing/fixtures.js';
import { MS, proc, type World, world } from './helpers.js';

const PRESETS = ['v4.9', 'v4.13', 'v5.3', 'v5.7', 'v6.1', 'v6.1-stable', 'v6.2', 'v6.4', 'v6.5', 'v6.11', 'newest'] as const;
type PresetName = (typeof PRESETS)[number];

/** the failed init's grace period: long, as measured at 16 vCPUs (481 ms), so the window is wide */
const GRACE = 500 * MS;

/** finit_module of `f` starting at `atNs`; `end` gets the time it returned */
function finitTimed(w: World, f: KFile, atNs: number, name: string, end: { ns?: number }) {
  return proc(w, name, atNs, function* (t): Proc<number> {
    const r = yield* w.k.finit_module(t, f, '', 0);
    end.ns = w.sim.now;
    return r;
  });
}

/** when acpi_cpufreq's failed record went (free_module), from the log */
function freedAt(w: World): number[] {
  return w.sim.log.records.filter((r) => r.kind === 'state' && r.fields.module === 'acpi_cpufreq' && r.fields.to === 'gone').map((r) => r.t);
}

interface Row {
  /** the sleeper's errno */
  ret: number;
  /** it returned before the failing module's free (woken by the other module's wake) */
  beforeFree: boolean;
  /** acpi_cpufreq inits: 2 when the sleeper retried and ran the init itself */
  inits: number;
}
const k12: Row = { ret: -EBUSY, beforeFree: true, inits: 1 };
const v49: Row = { ret: -EEXIST, beforeFree: true, inits: 1 };
const k6: Row = { ret: -ENODEV, beforeFree: false, inits: 2 };
const expected: Record<PresetName, Row> = {
  'v4.9': v49, 'v4.13': v49, 'v5.3': k6, 'v5.7': k6, 'v6.1': k6,
  'v6.1-stable': k12, 'v6.2': k12, 'v6.4': k12, 'v6.5': k12, 'v6.11': k12, newest: k12,
};

/**
 * acpi_cpufreq: init sleeps 100 ms and fails; the sleeper (another copy of the file, so v6.5+'s
 * idempotent merge does not take it) arrives at 1 ms while it is COMING. `other` loads at 150 ms,
 * inside the failed init's grace period (~100–600 ms), and goes LIVE with its wake ~10 ms later.
 */
function scenario(preset: string, withOther: boolean) {
  const f = makeModuleFile({ name: 'acpi_cpufreq', behaviour: { initSleepNs: 100 * MS, initResult: -ENODEV } });
  const other = makeModuleFile({ name: 'intel_uncore', behaviour: { initSleepNs: 10 * MS } });
  const w = world(preset, [f, other], { log: true, timings: { rcuGracePeriodNs: GRACE } });
  const end: { ns?: number } = {};
  const first = finitTimed(w, f, 0, 'udev-worker-0', {});
  const sleeper = finitTimed(w, copyFile(f), 1 * MS, 'udev-worker-1', end);
  const o = withOther ? finitTimed(w, other, 150 * MS, 'udev-worker-2', {}) : undefined;
  w.sim.run();
  return { w, first, sleeper, other: o, end: end.ns! };
}

for (const preset of PRESETS) {
  test(`module_wq: another module's wake inside a failed init's GOING window: ${preset}`, () => {
    const { w, first, sleeper, other, end } = scenario(preset, true);
    const e = expected[preset];
    assert.equal(first.result, -ENODEV);
    assert.equal(other?.result, 0);
    assert.equal(sleeper.result, e.ret);
    const free = freedAt(w)[0]!;
    assert.ok(free > 500 * MS, `the first free comes after the grace period (${free})`);
    assert.equal(end < free, e.beforeFree, `sleeper returned at ${end / MS} ms, the failed record went at ${free / MS} ms`);
    if (e.beforeFree) assert.ok(end < 200 * MS, `left at the other module's wake (${end / MS} ms)`);
    assert.equal(w.sim.log.records.filter((r) => r.kind === 'init' && r.fields.module === 'acpi_cpufreq' && r.fields.phase === 'start').length, e.inits);
    assert.equal(w.k.moduleState('intel_uncore'), 'live');
    assert.equal(w.k.moduleState('acpi_cpufreq'), null);
  });

  test(`module_wq: without another wake the sleeper waits for the failed module's own wake: ${preset}`, () => {
    const { w, sleeper, end } = scenario(preset, false);
    const free = freedAt(w)[0]!;
    // v4.9 and K6 find no record at the free and run the init themselves; K12 returns -EBUSY
    const e = expected[preset];
    assert.equal(sleeper.result, e === k12 ? -EBUSY : -ENODEV);
    assert.ok(end >= free, `sleeper returned at ${end / MS} ms, before the free at ${free / MS} ms`);
  });
}

// resolve_symbol_wait sleeps on module_wq too: a dependency that fails its init is GOING through
// the grace period, and strong_try_module_get() on a GOING module is -ENOENT, not -EBUSY, so the
// dependent's wait ends at whichever module's wake comes first (the same on every preset)
test('module_wq: a dependent waiting for a COMING dependency leaves at another wake once the dependency is GOING', () => {
  const dep = makeModuleFile({ name: 'acpi_cpufreq', behaviour: { initSleepNs: 100 * MS, initResult: -ENODEV } });
  const user = makeModuleFile({ name: 'pcc_user', symbolDeps: ['acpi_cpufreq'] });
  const other = makeModuleFile({ name: 'intel_uncore', behaviour: { initSleepNs: 10 * MS } });
  const w = world('v6.1-stable', [dep, user, other], { log: true, timings: { rcuGracePeriodNs: GRACE } });
  finitTimed(w, dep, 0, 'udev-worker-0', {});
  const u = finitTimed(w, user, 1 * MS, 'udev-worker-1', {});
  finitTimed(w, other, 150 * MS, 'udev-worker-2', {});
  w.sim.run();
  assert.equal(u.result, -ENOENT);
  // the finit itself returns after its own failure path's grace period: time the wait
  const waits = w.sim.log.records.filter((r) => r.kind === 'wait' && r.fields.on === 'resolve_symbol');
  assert.deepEqual(waits.map((r) => r.fields.phase), ['begin', 'end']);
  const end = waits[1]!.t;
  const free = freedAt(w)[0]!;
  assert.ok(end < 200 * MS && end < free, `left at ${end / MS} ms, the dependency went at ${free / MS} ms`);
  assert.ok(w.k.dmesg().some((l) => l.includes('pcc_user: Unknown symbol from acpi_cpufreq')));
});
