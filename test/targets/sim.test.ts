/**
 * DOC: SimTarget — the Target contract on one simulated machine: test_kmod appears with
 * `modprobe test_kmod`, knobs are real processes (a trigger takes virtual time), state carries
 * over, files and errors, the date from the virtual clock, determinism per seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KnobError } from '../../src/selftest/target.js';
import { createSimTarget, formatDate } from '../../src/targets/sim.js';
import { runSelftest, KmodShReporter, kmodShScript } from '../../src/selftest/index.js';
import { PRESETS, resolvePreset } from '../../src/kernel/presets.js';

/** the kmod.sh era a preset ships (constants.kmodSh) */
const presetEra = (name: string) => resolvePreset(name).constants.kmodSh;

test('formatDate: date(1) in the C locale, UTC', () => {
  assert.equal(formatDate(0), 'Thu Jan  1 00:00:00 UTC 1970');
  assert.equal(formatDate(86_400e9 * 40 + 3_723e9), 'Tue Feb 10 01:02:03 UTC 1970');
});

test('presets decide the kmod.sh era', () => {
  assert.equal(presetEra('v4.9'), 'v4.13');
  assert.equal(presetEra('v4.13'), 'v4.13');
  assert.equal(presetEra('v5.7'), 'v5.7');
  assert.equal(presetEra('v6.1-stable'), 'v5.8');
  assert.equal(presetEra('newest'), 'v5.8');
  // the era's script ends at the release's last test ID (v4.9 ships none: the 4.13 script, hypothetically)
  for (const p of PRESETS) {
    if (p.constants.kmodShLastTest === 0) continue;
    assert.equal(kmodShScript(p.constants.kmodSh).tests.at(-1), String(p.constants.kmodShLastTest).padStart(4, '0'), p.name);
  }
});

test("presets decide test_kmod's output format: the 4.13-era driver's reads keep the trailing NUL", async () => {
  assert.deepEqual(
    PRESETS.filter((p) => p.flags.testKmodLegacyShow).map((p) => p.name),
    ['v4.9', 'v4.13', 'v5.3'],
  );
  for (const [kernel, legacy] of [['v4.13', true], ['v5.7', false], ['newest', false]] as const) {
    const t = createSimTarget({ kernel });
    await t.loadTestKmod();
    assert.equal((await t.readKnob('config_test_driver')).endsWith('\0'), legacy, kernel);
    await t.close();
  }
});

test('test_kmod0 appears after `modprobe test_kmod`; knobs, trigger time, state carried over', async () => {
  const t = createSimTarget({ kernel: 'newest' });
  assert.equal(t.name, 'sim:newest');
  let p = await t.preconditions();
  assert.deepEqual(p, { root: true, modprobe: true, kmod: true, kmodVersion: 30, testKmodPresent: false });
  await assert.rejects(t.readKnob('config'), (e: unknown) => e instanceof KnobError && e.errno === -2);
  assert.equal(await t.writeKnob('reset', '1'), -2);
  const load = await t.loadTestKmod();
  assert.equal(load.exitCode, 0);
  p = await t.preconditions();
  assert.equal(p.testKmodPresent, true);
  assert.match(await t.readKnob('config'), /^Custom trigger configuration for: test_kmod0\n/);
  await assert.rejects(t.readKnob('trigger_config'), (e: unknown) => e instanceof KnobError && e.errno === -13);
  assert.equal(await t.writeKnob('config_num_threads', '0'), -22);
  // a trigger of 50 request_module("test_module") takes virtual time and loads test_module
  const sim = t.system.sim;
  const t0 = sim.now;
  assert.equal(await t.writeKnob('trigger_config', '1'), 1);
  assert.ok(sim.now - t0 > 50_000_000, `trigger took ${sim.now - t0} ns`);
  assert.equal(await t.readKnob('test_result'), '0\n');
  assert.equal(t.system.kernel.moduleState('test_module'), 'live');
  assert.equal((await t.modprobe(['-r', 'test_module'])).exitCode, 0);
  assert.equal(t.system.kernel.moduleState('test_module'), null);
  // the modprobe path, /proc/modules, sections, a missing file
  assert.equal(await t.readModprobePath(), '/sbin/modprobe');
  await t.writeModprobePath('/KMOD_TEST_NONEXISTENT');
  assert.equal(await t.readModprobePath(), '/KMOD_TEST_NONEXISTENT');
  await t.writeModprobePath('/sbin/modprobe');
  assert.match(await t.readFile('/proc/modules'), /^test_kmod \d+ 0 - Live 0x[0-9a-f]{16} \(OE\)$/m);
  assert.match(await t.readFile('/sys/module/test_kmod/sections/.text'), /^0xffff[0-9a-f]{12}\n$/);
  assert.equal(await t.readFile('/sys/module/test_kmod/sections/.text', { dropCapSyslog: true }), '0x0000000000000000\n');
  await assert.rejects(t.readFile('/proc/sys/kernel//kmod-limit'));
  assert.match(await t.date(), /^Thu Jan {2}1 00:00:0\d UTC 1970$/);
  assert.match(await t.kernelLog(), /misc test_kmod0: General test result: 0/);
  // unloading test_kmod removes the device
  assert.equal((await t.modprobe(['-r', 'test_kmod'])).exitCode, 0);
  assert.equal((await t.preconditions()).testKmodPresent, false);
  await t.close();
  await assert.rejects(t.readKnob('config'), /after close/);
});

test('$DIR other than test_kmod0 is "not present": kmod.sh skips with exit 4', async () => {
  const t = createSimTarget({ dir: '/sys/devices/virtual/misc/test_kmod1/' });
  const r = await runSelftest({ target: t, args: ['-t', '0001'], reporter: { line: () => {} } });
  assert.equal(r.exitCode, 4);
});

test('same seed, same bytes: two runs of -t 0003 print identical output', async () => {
  const once = async () => {
    let out = '';
    const t = createSimTarget({ kernel: 'v6.4', seed: 42 });
    await runSelftest({ target: t, args: ['-c', '0005', '2'], reporter: new KmodShReporter((s) => (out += s), (s) => (out += s)) });
    return out + (await t.kernelLog());
  };
  assert.equal(await once(), await once());
});

test('force_init_test through modprobe: tun and btrfs are requested from test_kmod\'s init', async () => {
  // the driver up to v6.15 names tun and btrfs itself (v6.16 dropped them: next test)
  const t = createSimTarget({ kernel: 'v6.11' });
  const r = await t.modprobe(['test_kmod', 'force_init_test=1']);
  assert.equal(r.exitCode, 0, r.stderr);
  const log = await t.kernelLog();
  assert.match(log, /Test driver to load: tun/);
  assert.match(log, /Test filesystem to load: btrfs/);
  assert.match(await t.readKnob('config'), /driver:\ttun\nfs:\tbtrfs\n/);
});

test('force_init_test through modprobe on v6.16+: the start_driver / start_test_fs parameters are tested, no fs test without one', async () => {
  for (const kernel of ['v6.16', 'newest']) {
    let t = createSimTarget({ kernel });
    let r = await t.modprobe(['test_kmod', 'force_init_test=1']);
    assert.equal(r.exitCode, 0, r.stderr);
    let log = await t.kernelLog();
    assert.match(log, /Test driver to load: test_module/, kernel);
    assert.doesNotMatch(log, /tun|btrfs|Test filesystem to load/, kernel);
    assert.match(await t.readKnob('config'), /driver:\ttest_module\nfs:\tEMPTY\n/, kernel);
    await t.close();

    t = createSimTarget({ kernel });
    r = await t.modprobe(['test_kmod', 'force_init_test=1', 'start_driver=test_module', 'start_test_fs=xfs']);
    assert.equal(r.exitCode, 0, r.stderr);
    log = await t.kernelLog();
    assert.match(log, /Test driver to load: test_module[^]*Test filesystem to load: xfs/, kernel);
    assert.match(await t.readKnob('config'), /driver:\ttest_module\nfs:\txfs\n/, kernel);
    await t.close();
  }
});
