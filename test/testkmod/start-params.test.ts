/**
 * DOC: the v6.16 test_kmod driver ("lib/test_kmod: do not hardcode/depend on any filesystem"):
 * no built-in default fs, the start_driver / start_test_fs module parameters, the -EINVAL of an
 * fs trigger without an fs, and force_init_test testing what is configured — each beside what
 * the ≤ v6.15 driver does with the same input, since that is where the two releases part.
 * (Facts: lib/test_kmod.c of Debian's linux-source-7.2 7.2.13 against 6.12.117,
 * data/calibration/debian-sid-source.md.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, type Proc } from '../../src/sim/index.js';
import { startParams, TestKmodDevice, testKmodModule, type TestKmodDeviceOptions, type TestKmodStartParams } from '../../src/testkmod/index.js';
import type { Task } from '../../src/kernel/api.js';
import { FakeKernel, type FakeKernelOptions } from './fake-kernel.js';

const EINVAL = -22;

function setup(k: FakeKernelOptions, d: TestKmodDeviceOptions, start?: TestKmodStartParams) {
  const sim = new Sim({ seed: 1 });
  const kernel = new FakeKernel(sim, k);
  const dev = new TestKmodDevice(sim, kernel, d, start);
  const run = <R>(gen: Proc<R>): R => {
    const p = sim.spawn('sh', gen);
    sim.runUntil(() => p.done);
    assert.ok(p.done, 'knob access did not finish');
    return p.result as R;
  };
  return { kernel, dev, write: (knob: string, data: string) => run(dev.write(knob, data)), read: (knob: string) => run(dev.read(knob)) };
}

const configText = (driver: string, fs: string) =>
  `Custom trigger configuration for: test_kmod0\nNumber of threads:\t50\nTest_case:\tTEST_KMOD_DRIVER (1)\ndriver:\t${driver}\nfs:\t${fs}\n`;

test('the default fs: xfs up to v6.15, none from v6.16 (after load and after reset)', () => {
  for (const [startParamsFlag, fs] of [[false, 'xfs'], [true, 'EMPTY']] as const) {
    const { read, write } = setup({}, { startParams: startParamsFlag });
    assert.equal(read('config'), configText('test_module', fs));
    assert.equal(write('config_test_fs', 'btrfs'), 5);
    assert.equal(write('reset', '1'), 1);
    assert.equal(read('config'), configText('test_module', fs), `after reset, startParams ${startParamsFlag}`);
    // an unset fs reads back as the kernel's "%s" of NULL
    assert.equal(read('config_test_fs'), startParamsFlag ? '(null)\n' : 'xfs\n');
  }
});

test('v6.16: start_driver / start_test_fs are the defaults a reset returns to', () => {
  const { read, write } = setup({}, { startParams: true }, { start_driver: 'tun', start_test_fs: 'btrfs' });
  assert.equal(read('config'), configText('tun', 'btrfs'));
  assert.equal(write('config_test_driver', 'x'), 1);
  assert.equal(write('reset', '1'), 1);
  assert.equal(read('config'), configText('tun', 'btrfs'));
});

test('an fs trigger without an fs: -EINVAL on v6.16 with no thread started; a set fs runs as before', () => {
  const { kernel, dev, read, write } = setup({ fs: (n) => n === 'xfs' }, { startParams: true });
  assert.equal(write('config_test_case', '2'), 1);
  assert.equal(write('trigger_config', '1'), EINVAL);
  assert.equal(kernel.calls.length, 0);
  assert.equal(dev.kthreadsStarted, 0);
  assert.ok(dev.log.some((l) => l.msg.endsWith("No fs type specified, can't run the test")));
  // not an OOM state: the next trigger with an fs set runs
  assert.equal(write('config_test_fs', 'xfs'), 3);
  assert.equal(write('trigger_config', '1'), 1);
  assert.equal(read('test_result'), '0\n');
  assert.equal(dev.kthreadsStarted, 50);
});

test('the start parameters out of the argument string: last one wins, a name without a value is -EINVAL', () => {
  assert.deepEqual(startParams(''), { start_driver: null, start_test_fs: null });
  assert.deepEqual(startParams('force_init_test=1 start-driver=a start_test_fs=xfs start_driver=b'), { start_driver: 'b', start_test_fs: 'xfs' });
  assert.equal(startParams('start_test_fs'), null);
});

test('force_init_test at module init: tun + btrfs up to v6.15; the configured driver, and the fs only if set, from v6.16', () => {
  const cases: { opts: TestKmodDeviceOptions; args: string; calls: string[]; fs: string | null }[] = [
    { opts: {}, args: 'force_init_test=1', calls: ['request:tun', 'fs:btrfs'], fs: 'btrfs' },
    // the ≤ v6.15 driver does not know the start parameters: the kernel ignores them
    { opts: {}, args: 'force_init_test=1 start_driver=test_module start_test_fs=xfs', calls: ['request:tun', 'fs:btrfs'], fs: 'btrfs' },
    { opts: { startParams: true }, args: 'force_init_test=1', calls: ['request:test_module'], fs: null },
    { opts: { startParams: true }, args: 'force_init_test=1 start_test_fs=xfs', calls: ['request:test_module', 'fs:xfs'], fs: 'xfs' },
    { opts: { startParams: true }, args: 'force_init_test=1 start_driver=tun', calls: ['request:tun'], fs: null },
  ];
  for (const c of cases) {
    const sim = new Sim({ seed: 1 });
    const kernel = new FakeKernel(sim, { request: () => 0, fs: () => true });
    const mod = testKmodModule(c.opts);
    const task = { comm: 'modprobe', capSysModule: true, capSyslog: true } as Task;
    const p = sim.spawn('modprobe', mod.behaviour.init!({ task, kernel, module: 'test_kmod', args: c.args }));
    task.proc = p;
    sim.runUntil(() => p.done);
    assert.equal(p.result, 0, c.args);
    assert.deepEqual([...new Set(kernel.calls.map((x) => `${x.kind}:${x.name}`))], c.calls, `${c.args} startParams ${c.opts.startParams ?? false}`);
    assert.equal(mod.device(kernel)!.test_fs, c.fs);
  }
  // a charp parameter without a value fails the v6.16 load; the older driver never sees it
  for (const [opts, ret] of [[{ startParams: true }, EINVAL], [{}, 0]] as const) {
    const sim = new Sim({ seed: 1 });
    const kernel = new FakeKernel(sim, {});
    const mod = testKmodModule(opts);
    const task = { comm: 'modprobe', capSysModule: true, capSyslog: true } as Task;
    const p = sim.spawn('modprobe', mod.behaviour.init!({ task, kernel, module: 'test_kmod', args: 'start_test_fs' }));
    task.proc = p;
    sim.runUntil(() => p.done);
    assert.equal(p.result, ret);
  }
});
