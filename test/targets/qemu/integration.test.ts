/**
 * DOC: the real thing: boot debian-6.1 under QEMU and drive test_kmod through QemuTarget.
 *
 * Runs when `kmodlab kernel prepare debian-6.1` has been done (in the default cache or
 * $KMODLAB_CACHE), or whenever KMODLAB_QEMU_TESTS is set, in which case a missing kernel fails
 * instead of skipping. Takes about 30 s under TCG on two host cores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPrepared } from '../../../src/targets/qemu/prepare.js';
import { QemuTarget } from '../../../src/targets/qemu/target.js';
import { runGuestStorm } from '../../../src/targets/qemu/storm.js';
import { KnobError } from '../../../src/selftest/target.js';

const prepared = readPrepared('debian-6.1');
const forced = !!process.env.KMODLAB_QEMU_TESTS;

test('debian-6.1 under QEMU: knobs, modprobe path, CAP_SYSLOG read, a 4-way storm', { timeout: 600_000 }, async (t) => {
  if (!prepared && !forced) {
    t.skip('debian-6.1 not prepared (run `kmodlab kernel prepare debian-6.1`, or set KMODLAB_QEMU_TESTS=1)');
    return;
  }
  assert.ok(prepared, 'KMODLAB_QEMU_TESTS is set but debian-6.1 is not prepared');
  const target = await QemuTarget.open('qemu:debian-6.1', { cpus: 2, memMiB: 2048, timeoutS: 500 });
  try {
    assert.equal(target.kernel, prepared.release);
    const pre = await target.preconditions();
    assert.deepEqual(pre, { root: true, modprobe: true, kmod: true, kmodVersion: 30, testKmodPresent: false });
    assert.equal((await target.loadTestKmod()).exitCode, 0);
    assert.match(await target.readKnob('config'), /^Custom trigger configuration for: test_kmod0\nNumber of threads:\t50\n/);
    // the real parsing rules (spec §6.2)
    assert.equal(await target.writeKnob('config_num_threads', '0'), -22);
    assert.equal(await target.writeKnob('config_num_threads', '-1'), -22);
    assert.equal(await target.writeKnob('config_num_threads', '3\n'), 2);
    assert.equal(await target.readKnob('config_num_threads'), '3\n');
    assert.equal(await target.writeKnob('config_test_case', '3'), -22);
    assert.equal(await target.writeKnob('config_test_driver', 'test_module'), 11);
    assert.equal(await target.writeKnob('trigger_config', '1'), 1);
    assert.equal(await target.readKnob('test_result'), '0\n');
    await assert.rejects(target.readKnob('trigger_config'), (e) => e instanceof KnobError && e.errno === -13);
    // the modprobe path: written like kmod.sh's echo, read back without the newline
    const saved = await target.readModprobePath();
    assert.equal(saved, '/sbin/modprobe');
    await target.writeModprobePath('/KMOD_TEST_NONEXISTENT');
    assert.equal(await target.readModprobePath(), '/KMOD_TEST_NONEXISTENT');
    await target.writeModprobePath(saved);
    // 0012's point: the address column differs with CAP_SYSLOG dropped (kmod.sh reads the last
    // field instead, which is "(OE)" for an out-of-tree module: calibration/debian-6.1.md)
    assert.equal((await target.modprobe(['test_module'])).exitCode, 0);
    const line = (s: string) => s.split('\n').find((l) => l.startsWith('test_module '))!;
    const root = line(await target.readFile('/proc/modules'));
    const unpriv = line(await target.readFile('/proc/modules', { dropCapSyslog: true }));
    assert.match(root, / Live 0x(?!0{16})[0-9a-f]{16} \(OE\)$/);
    assert.match(unpriv, / Live 0x0{16} \(OE\)$/);
    // 6.1: one loader wins, the rest wait for it and get EEXIST
    const r = await runGuestStorm(target.guest, target.prepared, { parallel: [4], modules: ['kml_slow'], modes: ['finit'] });
    assert.deepEqual(r.rows[0]!.counts, { '0': 1, EEXIST: 3 });
    assert.match(await target.kernelLog(), /kml_slow: init done after 1000 ms/);
  } finally {
    await target.close();
  }
  assert.equal(target.outcome().state, 'ran');
});
