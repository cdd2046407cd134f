/**
 * DOC: the two changes after v6.11 on the real kernels, each beside the sim model of that kernel
 * (debian-trixie → v6.11, debian-sid → v7.1):
 * - an init that returns -EEXIST (flag initEexistAsEbusy): kml_fail loaded with retval=17 on
 *   6.12 — the loader passes -EEXIST on, and modprobe takes it for "already loaded" and exits 0 —
 *   and on 7.2, where 743f8cae549a turns it into -EBUSY and modprobe fails;
 * - test_kmod's default fs (flag testKmodStartParams): xfs on 6.12, none on 7.2, where an fs
 *   trigger without an fs is -EINVAL.
 *
 * Each kernel runs when it has been prepared (`kmodlab kernel prepare debian-sid`) and skips with
 * the reason otherwise (KMODLAB_QEMU_TESTS promises only debian-6.1). About a minute per kernel
 * under TCG on two host cores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPrepared } from '../../../src/targets/qemu/prepare.js';
import { QemuTarget } from '../../../src/targets/qemu/target.js';
import { kernelSpec } from '../../../src/targets/qemu/kernels.js';
import { stormSystem } from '../../../src/experiments/dupstorm/sim.js';
import { createSimTarget } from '../../../src/targets/sim.js';
import type { Target } from '../../../src/selftest/target.js';

/** test_kmod0 after `modprobe test_kmod`, then an fs trigger of 2 threads without setting the fs */
async function defaultFs(t: Target): Promise<{ fs: string; trigger: number }> {
  assert.equal((await t.loadTestKmod()).exitCode, 0);
  const fs = /\nfs:\t(.*)\n$/.exec(await t.readKnob('config'))![1]!;
  assert.equal(await t.writeKnob('config_test_case', '2'), 1);
  assert.equal(await t.writeKnob('config_num_threads', '2'), 1);
  return { fs, trigger: await t.writeKnob('trigger_config', '1') };
}

/** what the sim model of the kernel answers to the same modprobe */
function simModprobe(kernel: string, args: string[]): { exitCode: number; stderr: string } {
  const sys = stormSystem({ kernel: kernelSpec(kernel).sim.preset });
  const p = sys.modprobe(args);
  sys.sim.runUntil(() => p.done);
  return { exitCode: p.result!.exitCode, stderr: p.result!.stderr };
}

for (const [name, want] of [
  ['debian-trixie', { exitCode: 0, stderr: /^$/, insmod: /File exists/, fs: 'xfs', trigger: 1 }],
  ['debian-sid', { exitCode: 1, stderr: /could not insert 'kml_fail': Device or resource busy/, insmod: /Device or resource busy/, fs: 'EMPTY', trigger: -22 }],
] as const) {
  test(`${name} under QEMU: kml_fail retval=17 (init returns -EEXIST) and test_kmod's default fs, as its preset says`, { timeout: 600_000 }, async (t) => {
    const prepared = readPrepared(name);
    // KMODLAB_QEMU_TESTS promises debian-6.1 (CI prepares it first); these two run where prepared
    if (!prepared) {
      t.skip(`${name} not prepared (run \`kmodlab kernel prepare ${name}\`)`);
      return;
    }
    const args = ['kml_fail', 'msecs=10', 'retval=17'];
    const sim = simModprobe(name, args);
    const target = await QemuTarget.open(`qemu:${name}`, { cpus: 2, memMiB: 2048, timeoutS: 500 });
    try {
      const r = await target.modprobe(args);
      assert.equal(r.exitCode, want.exitCode, r.stderr);
      assert.match(r.stderr.trim(), want.stderr);
      assert.deepEqual({ exitCode: sim.exitCode, stderr: sim.stderr.trim() === '' }, { exitCode: r.exitCode, stderr: r.stderr.trim() === '' }, 'the sim model agrees');
      // the module is not loaded either way; insmod shows the errno itself
      assert.doesNotMatch(await target.readFile('/proc/modules'), /^kml_fail /m);
      const ins = await target.guest.session.exec(['insmod', '/lib/kml/kml_fail.ko', 'msecs=10', 'retval=17']);
      assert.equal(ins.code, 1);
      assert.match(ins.stderr, want.insmod);
      assert.match(await target.kernelLog(), /kml_fail: init fails with -17 after 10 ms/);
      // test_kmod's start defaults, real and modelled
      const real = await defaultFs(target);
      assert.deepEqual(real, { fs: want.fs, trigger: want.trigger });
      const simTarget = createSimTarget({ kernel: kernelSpec(name).sim.preset });
      try {
        assert.deepEqual(await defaultFs(simTarget), real, 'the sim model agrees');
      } finally {
        await simTarget.close();
      }
    } finally {
      await target.close();
    }
    assert.equal(target.outcome().state, 'ran');
  });
}
