import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EEXIST, ENODEV } from '../../src/kernel/errno.js';
import { MODULE_INIT_COMPRESSED_FILE } from '../../src/kernel/api.js';
import { modprobeProgram, runModprobe, type ModprobeResult } from '../../src/userspace/modprobe.js';
import { bench, MS, type Bench, type BenchOptions } from '../system/fixtures.js';

function modprobe(b: Bench, ...args: string[]): ModprobeResult {
  const p = b.sim.spawn('modprobe', runModprobe(b.env, args));
  b.sim.run();
  assert.ok(p.done, 'modprobe finished');
  return p.result!;
}

const calls = (b: Bench) => b.kernel.calls.map((c) => `${c.how} ${c.module} ${c.result}`);

test('not found: exit 1 with kmod\'s message; -q is silent; the kernel sees wait status 256', () => {
  const b = bench();
  assert.deepEqual(modprobe(b, 'nope-test_module'), {
    exitCode: 1,
    stdout: '',
    stderr: 'modprobe: FATAL: Module nope-test_module not found in directory /lib/modules/6.1.0-test\n',
  });
  assert.deepEqual(modprobe(b, '-q', '--', 'nope'), { exitCode: 1, stdout: '', stderr: '' });
  // as the usermode helper runs it
  const prog = modprobeProgram(b.env);
  const p = b.sim.spawn('umh', prog(['/sbin/modprobe', '-q', '--', ''], []));
  b.sim.run();
  assert.equal(p.result, 256);
  assert.deepEqual(b.kernel.calls, []);
});

test('insert: dependencies first, softdeps too; a LIVE module is not loaded again', () => {
  const b = bench();
  assert.equal(modprobe(b, 'fs-xfs').exitCode, 0);
  assert.deepEqual(calls(b), ['finit crc32c_intel 0', 'finit crc32c_generic 0', 'finit libcrc32c 0', 'finit xfs 0']);
  // file opens go by the tree's paths
  assert.equal(b.kernel.calls[3]!.path, '/lib/modules/6.1.0-test/kernel/fs/xfs/xfs.ko');
  assert.equal(modprobe(b, 'xfs').exitCode, 0);
  assert.equal(b.kernel.calls.length, 4, 'initstate live: no syscall');
  // builtin: success without a syscall
  assert.equal(modprobe(b, 'ext4').exitCode, 0);
  assert.equal(b.kernel.calls.length, 4);
});

test('--first-time turns "already loaded" into an error', () => {
  const b = bench();
  b.kernel.forceLive('foo_bar');
  assert.deepEqual(modprobe(b, '--first-time', 'foo-bar'), {
    exitCode: 1,
    stdout: '',
    stderr: "modprobe: ERROR: could not insert 'foo_bar': Module already in kernel\n",
  });
});

test('insert errors: exit 1 with "could not insert"; EEXIST from the kernel is success; softdep failures are ignored', () => {
  const b = bench({ initResult: { acpi_cpufreq: -ENODEV, pcc_cpufreq: -EEXIST, crc32c_intel: -ENODEV } });
  assert.deepEqual(modprobe(b, 'acpi_cpufreq'), { exitCode: 1, stdout: '', stderr: "modprobe: ERROR: could not insert 'acpi_cpufreq': No such device\n" });
  assert.equal(modprobe(b, 'pcc_cpufreq').exitCode, 0, 'init returning -EEXIST looks like "already loaded"');
  assert.equal(modprobe(b, 'xfs').exitCode, 0, 'crc32c_intel (softdep) failed, xfs loaded anyway');
  assert.deepEqual(calls(b).slice(2), ['finit crc32c_intel -19', 'finit crc32c_generic 0', 'finit libcrc32c 0', 'finit xfs 0']);
  // an alias resolving to two modules: both are tried, one failure makes the exit code 1
  const b2 = bench({ initResult: { acpi_cpufreq: -ENODEV } });
  const r = modprobe(b2, 'acpi:ACPI0007:');
  assert.equal(r.exitCode, 1);
  assert.deepEqual(calls(b2), ['finit acpi_cpufreq -19', 'finit pcc_cpufreq 0']);
});

test('module parameters after the name reach the kernel; unknown options are rejected', () => {
  const b = bench();
  assert.equal(modprobe(b, 'foo_bar').exitCode, 0);
  assert.equal(modprobe(b, '--bogus', 'x').exitCode, 1);
  assert.equal(modprobe(b).exitCode, 1);
});

test('modprobe -r: not loaded 0, builtin 1, in use 1, else delete_module and unused dependencies', () => {
  const b = bench();
  assert.deepEqual(modprobe(b, '-r', 'xfs'), { exitCode: 0, stdout: '', stderr: '' });
  assert.deepEqual(modprobe(b, '-r', 'ext4'), { exitCode: 1, stdout: '', stderr: 'modprobe: FATAL: Module ext4 is builtin.\n' });
  assert.equal(modprobe(b, 'xfs').exitCode, 0);
  assert.equal(b.kernel.moduleRefcount('libcrc32c'), 1);
  assert.deepEqual(modprobe(b, '-r', 'libcrc32c'), { exitCode: 1, stdout: '', stderr: 'modprobe: FATAL: Module libcrc32c is in use.\n' });
  assert.equal(modprobe(b, '-r', 'xfs').exitCode, 0);
  assert.equal(b.kernel.moduleState('xfs'), null);
  assert.equal(b.kernel.moduleState('libcrc32c'), null, 'its now unused dependency went too');
  assert.deepEqual(
    b.kernel.calls.filter((c) => c.how === 'delete').map((c) => `${c.module} ${c.result}`),
    ['xfs 0', 'libcrc32c 0'],
  );
  assert.equal(modprobe(b, '-r', 'nope').exitCode, 1);
});

function comingScenario(kmodVersion: number): { b: Bench; r: ModprobeResult } {
  const b = bench({ kmodVersion });
  // foo_bar is being loaded by someone else: /sys/module/foo_bar exists, initstate not yet
  b.kernel.forceComing('foo_bar', false);
  b.sim.at(50 * MS, () => b.kernel.finishComing('foo_bar'));
  const p = b.sim.spawn('modprobe', runModprobe(b.env, ['foo_bar']));
  let doneAt = -1;
  b.sim.spawn('watch', (function* () {
    yield* p.join();
    doneAt = b.sim.now;
  })());
  b.sim.run();
  assert.ok(doneAt >= 0);
  return { b, r: { ...p.result!, stdout: String(doneAt) } };
}

test('kmod ≤ 19: a sysfs directory without initstate counts as built in → success while still loading', () => {
  const old = comingScenario(19);
  assert.equal(old.r.exitCode, 0);
  assert.deepEqual(old.b.kernel.calls, []);
  assert.ok(Number(old.r.stdout) < 50 * MS, 'returned before the module was LIVE');
  const cur = comingScenario(30);
  assert.equal(cur.r.exitCode, 0);
  assert.deepEqual(calls(cur.b), ['finit foo_bar -17']);
  assert.ok(Number(cur.r.stdout) >= 50 * MS, 'waited in the kernel until LIVE');
});

function compressed(o: BenchOptions) {
  const b = bench(o);
  assert.equal(modprobe(b, 'zmod').exitCode, 0);
  return b.kernel.calls[0]!;
}

test('compressed modules: kmod 30 decompresses itself (init_module); kmod ≥ 31 passes them to finit when the kernel decompresses that format', () => {
  const c30 = compressed({ kmodVersion: 30, kernelCompression: 'xz' });
  assert.equal(c30.how, 'init');
  assert.equal(c30.len, 9_000, 'the decompressed image');
  const c31 = compressed({ kmodVersion: 31, kernelCompression: 'xz' });
  assert.equal(c31.how, 'finit');
  assert.equal(c31.flags, MODULE_INIT_COMPRESSED_FILE);
  assert.equal(compressed({ kmodVersion: 34, kernelCompression: null }).how, 'init', 'no /sys/module/compression');
  assert.equal(compressed({ kmodVersion: 34, kernelCompression: 'gzip' }).how, 'init', 'the kernel decompresses another format');
  // an uncompressed module always goes through finit_module with flags 0 …
  const b = bench({ kmodVersion: 34 });
  assert.equal(modprobe(b, 'foo_bar').exitCode, 0);
  assert.deepEqual([b.kernel.calls[0]!.how, b.kernel.calls[0]!.flags], ['finit', 0]);
  // … unless the kernel has no finit_module
  const nf = bench({ kernel: { noFinit: true } });
  assert.equal(modprobe(nf, 'foo_bar').exitCode, 0);
  assert.deepEqual(calls(nf), ['init foo_bar 0']);
});

test('N concurrent modprobes of one module (v6.1-stable same-name check): kernel 1×0 + (N−1)×EEXIST, all exit 0', () => {
  for (const n of [2, 4, 16]) {
    const b = bench({ cpus: 8, initNs: { foo_bar: 30 * MS } });
    const procs = Array.from({ length: n }, (_, i) => b.sim.spawn(`modprobe-${i}`, runModprobe(b.env, ['foo_bar'])));
    b.sim.run();
    assert.deepEqual(procs.map((p) => p.result!.exitCode), Array(n).fill(0));
    const results = b.kernel.calls.map((c) => c.result).sort((a, b2) => b2 - a);
    assert.deepEqual(results, [0, ...Array(n - 1).fill(-EEXIST)]);
  }
});

test('the command line: getopt errors, -- ends the flags, clustered short flags, a lone "-" is a name', () => {
  const b = bench();
  assert.deepEqual(modprobe(b, '--bogus', 'xfs'), { exitCode: 1, stdout: '', stderr: "modprobe: unrecognized option '--bogus'\n" });
  assert.deepEqual(modprobe(b, '-qx', 'xfs'), { exitCode: 1, stdout: '', stderr: "modprobe: invalid option -- 'x'\n" });
  // an unknown flag is named by its whole character, not half of a surrogate pair
  assert.deepEqual(modprobe(b, '-q\u{1F600}', 'xfs'), { exitCode: 1, stdout: '', stderr: "modprobe: invalid option -- '\u{1F600}'\n" });
  assert.deepEqual(modprobe(b, '-q'), { exitCode: 1, stdout: '', stderr: 'modprobe: ERROR: missing parameters. See -h.\n' });
  assert.deepEqual(modprobe(b, '-q', '--'), { exitCode: 1, stdout: '', stderr: 'modprobe: ERROR: missing parameters. See -h.\n' });
  assert.deepEqual(b.kernel.calls, [], 'nothing was loaded');
  // after --, "-r" is a module name (not found, silently with -q); "-" is a name without --
  assert.deepEqual(modprobe(b, '-q', '--', '-r'), { exitCode: 1, stdout: '', stderr: '' });
  assert.deepEqual(modprobe(b, '-'), { exitCode: 1, stdout: '', stderr: 'modprobe: FATAL: Module - not found in directory /lib/modules/6.1.0-test\n' });
  // -qR in one cluster: both flags
  assert.deepEqual(modprobe(b, '-qR', 'fs-xfs'), { exitCode: 0, stdout: 'xfs\n', stderr: '' });
  // -a takes every name; without it the rest are the first one's parameters (not names)
  assert.equal(modprobe(b, '-a', 'xfs', 'nope').exitCode, 1);
  assert.deepEqual(calls(b), ['finit crc32c_intel 0', 'finit crc32c_generic 0', 'finit libcrc32c 0', 'finit xfs 0']);
  assert.equal(modprobe(b, 'foo-bar', 'nope', 'x=1').exitCode, 0);
  assert.deepEqual(calls(b).slice(4), ['finit foo_bar 0']);
});
