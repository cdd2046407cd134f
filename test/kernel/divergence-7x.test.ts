/**
 * DOC: the regression oracles after v6.11 (the §9.4 idea carried on): the points where v6.16 and
 * v7.1 part from the v6.11 loader, each run through a real load path of a whole simulated
 * machine, and the flags that make the difference, so a release preset that loses or gains one
 * shows here.
 *
 *  9. An init that returns -EEXIST (kml_fail loaded with retval=17, as the real module takes it):
 *     up to v7.0 finit_module / init_module return -EEXIST — the errno that means "a module of
 *     this name is already loaded" — so modprobe reports success for a module that is not
 *     loaded; from v7.1 (743f8cae549a) the loader reports -EBUSY and modprobe fails. Other init
 *     errors (kml_fail's -ENODEV) are the same in every release.
 * 10. An init that returns > 0: the warning and its stack dump (≤ v7.0) against one line (v7.1,
 *     663385f9155f); the load succeeds in both.
 * 11. test_kmod's start defaults (v6.16): xfs as the default fs, or none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EBUSY, EEXIST, ENODEV, flagDiff, getPreset, type KernelFlags, type KFile } from '../../src/kernel/index.js';
import { stormSystem } from '../../src/experiments/dupstorm/sim.js';
import { modulePath, type System } from '../../src/system/index.js';
import { createSimTarget } from '../../src/targets/sim.js';
import type { Proc } from '../../src/sim/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, MS, world } from './helpers.js';

const ALL = ['v4.9', 'v4.13', 'v5.3', 'v5.7', 'v5.10-stable', 'v6.1', 'v6.1-stable', 'v6.2', 'v6.4', 'v6.5', 'v6.11', 'v6.16', 'v7.1', 'newest', 'newest-dups',
  'whatif-kread-dedup', 'whatif-exclusive-deny', 'whatif-merge-same-name'] as const;
const FROM_71 = new Set(['v7.1', 'newest', 'newest-dups']);
const FROM_616 = new Set(['v6.16', ...FROM_71]);

/** a fresh machine with kml_fail installed; the load's return and the machine afterwards */
function finitKmlFail(kernel: string, args: string): { ret: number; sys: System } {
  const sys = stormSystem({ kernel });
  const f = sys.fs.open(modulePath(sys, 'extra/kml_fail.ko'));
  if (typeof f === 'number') throw new Error(`kml_fail missing: ${f}`);
  let ret = 1;
  const p = sys.sim.spawn('insmod', (function* (): Proc<void> {
    ret = yield* sys.kernel.finit_module({ proc: sys.sim.current!, comm: 'insmod', capSysModule: true, capSyslog: true }, f as KFile, args, 0);
  })());
  sys.sim.runUntil(() => p.done);
  return { ret, sys };
}

function modprobeKmlFail(kernel: string, args: string[]): { exitCode: number; stderr: string; sys: System } {
  const sys = stormSystem({ kernel });
  const p = sys.modprobe(['kml_fail', ...args]);
  sys.sim.runUntil(() => p.done);
  return { ...p.result!, sys };
}

// ---- 9. init returns -EEXIST ----------------------------------------------------------------
for (const preset of ALL) {
  test(`9 finit_module of a module whose init returns -EEXIST (kml_fail retval=17): ${preset}`, () => {
    const { ret, sys } = finitKmlFail(preset, 'msecs=10 retval=17');
    assert.equal(ret, FROM_71.has(preset) ? -EBUSY : -EEXIST);
    assert.equal(sys.kernel.moduleState('kml_fail'), null, 'the failed module is gone either way');
    // the errno the init returned for another reason reaches userspace unchanged in every release
    assert.equal(finitKmlFail(preset, 'msecs=10').ret, -ENODEV);
  });
}

test('9 modprobe of that module: v6.11 reports success for a module that is not loaded, v7.1 fails with EBUSY', () => {
  const old = modprobeKmlFail('v6.11', ['msecs=10', 'retval=17']);
  assert.equal(old.exitCode, 0, old.stderr);
  assert.equal(old.stderr, '');
  assert.equal(old.sys.kernel.moduleState('kml_fail'), null);
  const now = modprobeKmlFail('v7.1', ['msecs=10', 'retval=17']);
  assert.equal(now.exitCode, 1);
  assert.match(now.stderr, /could not insert 'kml_fail': Device or resource busy/);
  assert.equal(now.sys.kernel.moduleState('kml_fail'), null);
  // -ENODEV: the same failure on both
  for (const k of ['v6.11', 'v7.1']) {
    const r = modprobeKmlFail(k, ['msecs=10']);
    assert.equal(r.exitCode, 1, k);
    assert.match(r.stderr, /could not insert 'kml_fail': No such device/, k);
  }
});

test('9 the same through init_module (kmod < 31, or a compressed module kmod decompresses itself)', () => {
  for (const [k, want] of [['v6.11', -EEXIST], ['v7.1', -EBUSY]] as const) {
    const sys = stormSystem({ kernel: k });
    const f = sys.fs.open(modulePath(sys, 'extra/kml_fail.ko')) as KFile;
    let ret = 1;
    const p = sys.sim.spawn('insmod', (function* (): Proc<void> {
      ret = yield* sys.kernel.init_module({ proc: sys.sim.current!, comm: 'insmod', capSysModule: true, capSyslog: true }, f, f.image.imageSize, 'msecs=10 retval=17');
    })());
    sys.sim.runUntil(() => p.done);
    assert.equal(ret, want, k);
  }
});

// ---- 10. init returns > 0 -------------------------------------------------------------------
test('10 an init returning 1 loads on both; the warning is the stack-dumping one up to v7.0, one line from v7.1', () => {
  const loadPositive = (kernel: string) => {
    const sys = stormSystem({ kernel });
    const f = sys.fs.open(modulePath(sys, 'extra/kml_slow.ko')) as KFile;
    const image = { ...f.image, behaviour: { ...f.image.behaviour, initSleepNs: 0, initResult: 1 } };
    let ret = -1;
    const p = sys.sim.spawn('insmod', (function* (): Proc<void> {
      ret = yield* sys.kernel.finit_module({ proc: sys.sim.current!, comm: 'insmod', capSysModule: true, capSyslog: true }, { ...f, image }, '', 0);
    })());
    sys.sim.runUntil(() => p.done);
    return { ret, state: sys.kernel.moduleState('kml_slow'), warn: sys.kernel.dmesg().filter((l) => /suspiciously|loading module anyway|CPU: 0 PID/.test(l)) };
  };
  const old = loadPositive('v6.11');
  assert.equal(old.ret, 0);
  assert.equal(old.state, 'live');
  assert.equal(old.warn.length, 3, old.warn.join(' | '));
  assert.match(old.warn[0]!, /do_init_module: 'kml_slow'->init suspiciously returned 1, it should follow 0\/-E convention$/);
  assert.match(old.warn[1]!, /do_init_module: loading module anyway\.\.\.$/);
  assert.match(old.warn[2]!, /CPU: 0 PID: \d+ Comm: insmod$/);
  const now = loadPositive('v7.1');
  assert.equal(now.ret, 0);
  assert.equal(now.state, 'live');
  assert.equal(now.warn.length, 1, now.warn.join(' | '));
  assert.match(now.warn[0]!, /kml_slow: init suspiciously returned 1, it should follow 0\/-E convention$/);
});

// ---- 11. test_kmod's default fs -------------------------------------------------------------
for (const preset of ['v6.11', 'v6.16', 'v7.1', 'newest'] as const) {
  test(`11 test_kmod0 after modprobe test_kmod, and an fs trigger without setting an fs: ${preset}`, async () => {
    const t = createSimTarget({ kernel: preset });
    await t.loadTestKmod();
    const fromStart = FROM_616.has(preset);
    assert.match(await t.readKnob('config'), fromStart ? /fs:\tEMPTY\n$/ : /fs:\txfs\n$/);
    assert.equal(await t.writeKnob('config_test_case', '2'), 1);
    // kmod.sh always sets the fs before an fs test (kmod_defaults_fs), so its runs do not see this
    assert.equal(await t.writeKnob('trigger_config', '1'), fromStart ? -22 : 1);
    await t.close();
  });
}

// ---- the flags that make the difference -----------------------------------------------------
test('v6.11 → v6.16 → v7.1 differ in exactly these flags, and newest is v7.1', () => {
  const diff = (a: string, b: string) => {
    const fa = getPreset(a).flags as unknown as Record<string, unknown>;
    const fb = getPreset(b).flags as unknown as Record<string, unknown>;
    return Object.keys(fa).filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k])).sort();
  };
  assert.deepEqual(diff('v6.11', 'v6.16'), ['testKmodStartParams']);
  assert.deepEqual(diff('v6.16', 'v7.1'), ['initEexistAsEbusy', 'initPositiveWarning']);
  assert.deepEqual(diff('v7.1', 'newest'), []);
  assert.deepEqual(flagDiff(getPreset('v7.1')), { initEexistAsEbusy: true, initPositiveWarning: 'one-line' } satisfies Partial<KernelFlags>);
  // the kmod.sh a release ships did not change (byte-identical in 6.12.117 and 7.2.13)
  assert.deepEqual(getPreset('v7.1').constants, getPreset('v6.11').constants);
});

test('the one flag is what turns -EEXIST into -EBUSY: v6.11 with it on, v7.1 with it off', () => {
  const load = (preset: string, flags: Partial<KernelFlags>) => {
    const f = makeModuleFile({ name: 'nf_conntrack_ftp', behaviour: { initSleepNs: MS, initResult: -EEXIST } });
    const w = world(preset, [f], { flags });
    const p = finitAt(w, f);
    w.sim.run();
    return p.result;
  };
  assert.equal(load('v6.11', {}), -EEXIST);
  assert.equal(load('v6.11', { initEexistAsEbusy: true }), -EBUSY);
  assert.equal(load('v7.1', {}), -EBUSY);
  assert.equal(load('v7.1', { initEexistAsEbusy: false }), -EEXIST);
});
