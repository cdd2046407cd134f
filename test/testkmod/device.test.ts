/**
 * DOC: test_kmod0's knobs against a fake kernel — parsing and error rules, the config text,
 * kernel threads, locks, aggregation, force_init_test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, type Proc } from '../../src/sim/index.js';
import { TestKmodDevice, testKmodModule, type TestKmodDeviceOptions } from '../../src/testkmod/index.js';
import type { Task } from '../../src/kernel/api.js';
import { FakeKernel, type FakeKernelOptions } from './fake-kernel.js';

const MS = 1_000_000;

function setup(k: FakeKernelOptions = {}, d: TestKmodDeviceOptions = {}) {
  const sim = new Sim({ seed: 1 });
  const kernel = new FakeKernel(sim, k);
  const dev = new TestKmodDevice(sim, kernel, d);
  /** run one knob access as its own process to completion */
  const run = <R>(gen: Proc<R>): R => {
    const p = sim.spawn('sh', gen);
    sim.runUntil(() => p.done);
    assert.ok(p.done, 'knob access did not finish');
    return p.result as R;
  };
  const write = (knob: string, data: string) => run(dev.write(knob, data));
  const read = (knob: string) => run(dev.read(knob));
  return { sim, kernel, dev, run, write, read };
}

test('defaults and the config text', () => {
  const { read } = setup();
  assert.equal(
    read('config'),
    'Custom trigger configuration for: test_kmod0\nNumber of threads:\t50\nTest_case:\tTEST_KMOD_DRIVER (1)\ndriver:\ttest_module\nfs:\txfs\n',
  );
  assert.equal(read('config_test_driver'), 'test_module\n');
  assert.equal(read('config_test_fs'), 'xfs\n');
  assert.equal(read('config_num_threads'), '50\n');
  assert.equal(read('config_test_case'), '1\n');
  assert.equal(read('test_result'), '0\n');
});

test('legacy (4.13) show formatting: EMTPY and the NUL in string reads', () => {
  const { read, write } = setup({}, { legacyShow: true });
  assert.equal(read('config_test_driver'), 'test_module\n\0');
  assert.equal(write('config_test_case', '2'), 1);
  assert.match(read('config') as string, /Test_case:\tTEST_KMOD_FS_TYPE \(2\)/);
});

test('config_test_driver keeps a trailing newline (kstrndup) and stops at a NUL', () => {
  const { read, write } = setup();
  assert.equal(write('config_test_driver', 'foo\n'), 4);
  assert.equal(read('config_test_driver'), 'foo\n\n');
  assert.match(read('config') as string, /driver:\tfoo\n\nfs:/);
  assert.equal(write('config_test_driver', '\0'), 1);
  assert.equal(read('config_test_driver'), '\n');
  assert.match(read('config') as string, /driver:\t\nfs:/);
  assert.equal(write('config_test_fs', 'ab\0cd'), 5);
  assert.equal(read('config_test_fs'), 'ab\n');
});

test('config_num_threads: kstrtouint errors, 0 → -EINVAL with the old value kept', () => {
  const { read, write } = setup();
  const cases: [string, number][] = [
    ['7', 1],
    ['8\n', 2],
    ['+9', 2],
    ['abc', -22],
    ['-1', -22],
    [' 5', -22],
    ['5 ', -22],
    ['5\n\n', -22],
    ['0x10', -22],
    ['4294967296', -34],
    ['99999999999999999999', -34],
    ['99999999999999999999x', -34],
    ['4294967296x', -22],
    ['0', -22],
    ['\n', -22],
  ];
  for (const [input, want] of cases) assert.equal(write('config_num_threads', input), want, JSON.stringify(input));
  assert.equal(read('config_num_threads'), '9\n');
  // too big for vzalloc (N × 48 bytes > 1 GiB): -EINVAL, old value kept
  assert.equal(write('config_num_threads', '4294967295'), -22);
  assert.equal(read('config_num_threads'), '9\n');
});

test('config_test_case must be 1 or 2; test_result is a signed int stored as is', () => {
  const { read, write } = setup();
  assert.equal(write('config_test_case', '3'), -22);
  assert.equal(write('config_test_case', '0'), -22);
  assert.equal(write('config_test_case', '-1'), -22);
  assert.equal(write('config_test_case', '99999999999'), -34);
  assert.equal(write('config_test_case', '2\n'), 2);
  assert.match(read('config') as string, /Test_case:\tTEST_KMOD_FS_TYPE \(2\)/);
  assert.equal(write('test_result', '-123456'), 7);
  assert.equal(read('test_result'), '-123456\n');
  assert.equal(write('test_result', '2147483648'), -34);
  assert.equal(write('test_result', '-2147483648'), 11);
  assert.equal(write('test_result', '--1'), -22);
  assert.equal(write('test_result', '-+1'), -22);
  assert.equal(read('test_result'), '-2147483648\n');
});

test('sysfs rules: zero-byte write, modes, unknown knobs, PAGE_SIZE cut', () => {
  const { read, write } = setup();
  assert.equal(write('trigger_config', ''), 0);
  assert.equal(write('config', 'x'), -13);
  assert.equal(read('trigger_config'), -13);
  assert.equal(read('reset'), -13);
  assert.equal(read('nope'), -2);
  assert.equal(write('nope', '1'), -2);
  assert.equal(write('config_test_driver', 'a'.repeat(5000)), 4096);
  assert.equal((read('config_test_driver') as string).length, 4095);
});

test('reset restores every default and clears test_is_oom', () => {
  const { read, write, dev } = setup({}, { maxKthreads: 2 });
  write('config_test_driver', 'x');
  write('config_test_fs', 'y');
  write('config_num_threads', '3');
  write('config_test_case', '2');
  write('test_result', '5');
  assert.equal(write('trigger_config', '1'), -12); // thread 2 cannot be created
  assert.equal(dev.test_is_oom, true);
  assert.equal(write('trigger_config', '1'), -12); // refused at once while oom
  assert.equal(write('reset', '1'), 1);
  assert.equal(dev.test_is_oom, false);
  assert.equal(
    read('config'),
    'Custom trigger configuration for: test_kmod0\nNumber of threads:\t50\nTest_case:\tTEST_KMOD_DRIVER (1)\ndriver:\ttest_module\nfs:\txfs\n',
  );
  assert.equal(read('test_result'), '0\n');
});

test('trigger: one kthread per thread named test_kmod-<idx>; the last non-zero value in index order', () => {
  const results = [0, 256, 0, -2, 0];
  const { kernel, write, read } = setup({ request: (_n, comm) => results[Number(comm.split('-')[1])]! });
  assert.equal(write('config_num_threads', '5'), 1);
  assert.equal(write('trigger_config', '1'), 1);
  assert.deepEqual(
    kernel.calls.map((c) => c.comm),
    ['test_kmod-0', 'test_kmod-1', 'test_kmod-2', 'test_kmod-3', 'test_kmod-4'],
  );
  assert.ok(kernel.calls.every((c) => c.kind === 'request' && c.name === 'test_module'));
  assert.equal(read('test_result'), '-2\n');
  // errors are never overwritten by a later success
  results.splice(0, 5, 0, 0, 0, 256, 0);
  assert.equal(write('trigger_config', 'anything'), 8);
  assert.equal(read('test_result'), '256\n');
});

test('trigger, FS case: NULL → -EINVAL, found → 0, the reference dropped at once', () => {
  const { kernel, write, read } = setup({ fs: (_n, comm) => comm !== 'test_kmod-1' });
  write('config_test_case', '2');
  write('config_num_threads', '3');
  assert.equal(write('trigger_config', '1'), 1);
  assert.equal(read('test_result'), '-22\n');
  assert.equal(kernel.puts, 2);
  assert.ok(kernel.calls.every((c) => c.kind === 'fs' && c.name === 'xfs'));
});

test('config writes and reads wait for a running trigger; parse errors do not', () => {
  const { sim, dev } = setup({ delayNs: 1000 * MS });
  const log: string[] = [];
  sim.spawn('trigger', (function* () {
    const r = yield* dev.write('trigger_config', '1');
    log.push(`trigger ${r} @${sim.now / MS}`);
  })());
  sim.spawn('writer', (function* () {
    yield sim.delay(500 * MS);
    const bad = yield* dev.write('config_num_threads', 'junk');
    log.push(`junk ${bad} @${sim.now / MS}`);
    const ok = yield* dev.write('config_num_threads', '3');
    log.push(`threads ${ok} @${sim.now / MS}`);
    const c = yield* dev.read('config_test_case');
    log.push(`read ${JSON.stringify(c)} @${sim.now / MS}`);
  })());
  sim.run();
  const at = (prefix: string) => Number(log.find((l) => l.startsWith(prefix))!.split('@')[1]);
  assert.ok(at('junk -22') < 501, log.join('; '));
  assert.ok(at('threads 1') >= at('trigger 1'), log.join('; '));
  assert.ok(at('read') >= at('trigger 1'));
});

test('force_init_test: tun then btrfs at init; a trigger setup failure fails init', () => {
  const sim = new Sim({ seed: 1 });
  const kernel = new FakeKernel(sim, { request: (n) => (n === 'tun' ? 256 : 0), fs: (n) => n === 'btrfs' });
  const mod = testKmodModule();
  const init = (args: string, m = mod) => {
    const task = { comm: 'modprobe', capSysModule: true, capSyslog: true } as Task;
    const p = sim.spawn('modprobe', m.behaviour.init!({ task, kernel, module: 'test_kmod', args }));
    task.proc = p;
    sim.runUntil(() => p.done);
    return p.result;
  };
  assert.equal(init(''), 0);
  assert.equal(kernel.calls.length, 0);
  assert.notEqual(mod.device(kernel), null);
  // 256 for tun is only the test's result: init still succeeds
  assert.equal(init('force_init_test=1'), 0);
  const names = [...new Set(kernel.calls.map((c) => `${c.kind}:${c.name}`))];
  assert.deepEqual(names, ['request:tun', 'fs:btrfs']);
  const dev = mod.device(kernel)!;
  assert.equal(dev.test_driver, 'tun');
  assert.equal(dev.test_fs, 'btrfs');
  assert.equal(dev.test_case, 2);
  // no thread can be created: -ENOMEM from the trigger fails init
  const failing = testKmodModule({ maxKthreads: 0 });
  assert.equal(init('force_init_test', failing), -12);
  assert.equal(init('force_init_test=maybe'), -22);
  // the device disappears with the module
  kernel.state = null;
  assert.equal(mod.device(kernel), null);
});
