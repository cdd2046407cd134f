/**
 * DOC: the kmod.sh port against a fake target: command line, test table, preconditions, the
 * EXIT trap, helpers' writes, environment overrides, failure output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import {
  KMOD_SH_SCRIPTS,
  KMOD_TESTS,
  defaultIterations,
  errno_name_to_val,
  errno_val_to_name,
  list_tests,
  parse_args,
  runSelftest,
  testsForEra,
  usage,
} from '../../src/selftest/index.js';
import { FakeTarget, capture } from './fake-target.js';

const ALL = testsForEra('v5.8');

test('test table: IDs, counts, eras, default iterations', () => {
  assert.deepEqual(
    KMOD_TESTS.map((t) => `${t.id}:${t.count}:${t.enabled ? 1 : 0}`),
    ['0001:3:1', '0002:3:1', '0003:1:1', '0004:1:1', '0005:10:1', '0006:10:1', '0007:5:1', '0008:150:1', '0009:150:1', '0010:1:1', '0011:1:1', '0012:1:1', '0013:1:1'],
  );
  assert.equal(testsForEra('v4.13').length, 9);
  assert.equal(testsForEra('v5.7').length, 11);
  assert.equal(ALL.length, 13);
  assert.equal(defaultIterations(ALL), 337);
  assert.equal(defaultIterations(testsForEra('v4.13')), 333);
});

test('errno name mapping both ways', () => {
  const pairs: [string, string][] = [['256', 'MODULE_NOT_FOUND'], ['0', 'SUCCESS'], ['-1', '-EPERM'], ['-2', '-ENOENT'], ['-22', '-EINVAL'], ['-123456', '-ERR_ANY']];
  for (const [v, n] of pairs) {
    assert.equal(errno_val_to_name(v), n);
    assert.equal(errno_name_to_val(n), v);
  }
  assert.equal(errno_val_to_name('-12'), 'invalid');
  assert.equal(errno_name_to_val('-ENOMEM'), 'invalid');
});

test('parse_args: every form, bad IDs → usage', () => {
  assert.deepEqual(parse_args([], ALL), { kind: 'all' });
  assert.deepEqual(parse_args(['all', 'x'], ALL), { kind: 'all' });
  assert.deepEqual(parse_args(['-t', '0008'], ALL), { kind: 'case', id: '0008', count: 150 });
  assert.deepEqual(parse_args(['-t', '8'], ALL), { kind: 'case', id: '0008', count: 150 });
  assert.deepEqual(parse_args(['-t', '0010'], ALL), { kind: 'case', id: '0010', count: 1 });
  assert.deepEqual(parse_args(['-s', '0005'], ALL), { kind: 'case', id: '0005', count: 1 });
  assert.deepEqual(parse_args(['-c', '0005', '7'], ALL), { kind: 'case', id: '0005', count: 7 });
  assert.deepEqual(parse_args(['-w', '0003'], ALL), { kind: 'watch', id: '0003' });
  assert.deepEqual(parse_args(['-w'], ALL), { kind: 'watch', id: null });
  assert.deepEqual(parse_args(['-l'], ALL), { kind: 'list' });
  for (const bad of [['-h'], ['--help'], ['-t'], ['-t', 'abc'], ['-t', '0014'], ['-t', '0000'], ['-c', '0001'], ['-c', '0001', 'x'], ['-s', '00a1'], ['-w', 'zz'], ['-x']]) {
    assert.deepEqual(parse_args(bad, ALL), { kind: 'usage' }, bad.join(' '));
  }
  // the 4.13 script has no 0010
  assert.deepEqual(parse_args(['-t', '0010'], testsForEra('v4.13')), { kind: 'usage' });
});

test('list_tests and usage text', () => {
  const l = list_tests(ALL);
  assert.equal(l[0], 'Test ID list:');
  assert.ok(l.includes('0001 x 3 - Simple test - 1 thread  for empty string'));
  assert.ok(l.includes('0009 x 150 - multithreaded - push kmod_concurrent over max_modprobes for get_fs_type()'));
  assert.ok(l.includes('0013 x 1 - test /sys/module/*/sections/* visibility under CAP_SYSLOG'));
  const u = usage(ALL, 'v5.8');
  assert.ok(u.includes('Valid tests: 0001-0013'));
  assert.ok(u.includes('    -s      Run test ID once'));
  assert.ok(usage(testsForEra('v4.13'), 'v4.13').includes('Valid tests: 0001-0009'));
  assert.ok(usage(testsForEra('v4.13'), 'v4.13').includes('    -s      Run test ID x test-count number of times'));
});

test('preconditions: each unmet one → its message and exit 4, in kmod.sh order', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ modprobe: false, kmod: false }, 'err: kmod.sh: You need modprobe installed'],
    [{ kmod: false, root: false }, 'err: kmod.sh: You need kmod installed'],
    [{ kmodVersion: 19 }, 'err: kmod.sh: You need at least kmod 20'],
    [{ kmodVersion: null }, 'err: kmod.sh: You need at least kmod 20'],
    [{ root: false }, 'err: must be run as root'],
  ];
  for (const [pre, line] of cases) {
    const t = new FakeTarget({ pre });
    const c = capture();
    const r = await runSelftest({ target: t, args: ['-t', '0001'], reporter: c.reporter });
    assert.equal(r.exitCode, 4, line);
    assert.equal(r.skipped, true);
    assert.equal(c.lines[0], line);
    assert.ok(!c.lines.includes('out: Test completed'));
    assert.ok(!t.calls.some((x) => x.startsWith('write')));
  }
});

test('test_kmod missing: modprobe test_kmod, then the config fragment and exit 4', async () => {
  const t = new FakeTarget({ pre: { testKmodPresent: false } });
  const c = capture();
  const r = await runSelftest({ target: t, args: [], reporter: c.reporter });
  assert.equal(r.exitCode, 4);
  assert.deepEqual(t.calls, ['modprobe test_kmod']);
  assert.deepEqual(c.lines, [
    'err: modprobe: FATAL: Module test_kmod not found in directory /lib/modules/fake',
    'err: kmod.sh: /sys/devices/virtual/misc/test_kmod0/ not present',
    'err: You must have the following enabled in your kernel:',
    'err: CONFIG_TEST_KMOD=m',
    'err: CONFIG_TEST_LKM=m',
    'err: CONFIG_XFS_FS=m',
    'err: CONFIG_TUN=m',
    'err: CONFIG_BTRFS_FS=m',
  ]);
  // loadable: the run goes on
  const t2 = new FakeTarget({ pre: { testKmodPresent: false }, loadable: true });
  const r2 = await runSelftest({ target: t2, args: ['-s', '0003'], reporter: capture().reporter });
  assert.equal(r2.exitCode, 0);
});

test('usage and -l: the EXIT trap still prints "Test completed" (v5.7+), not in the 4.13 script', async () => {
  const c = capture();
  const r = await runSelftest({ target: new FakeTarget(), args: ['-h'], reporter: c.reporter });
  assert.equal(r.exitCode, 1);
  assert.equal(c.lines[0], 'out: Usage: kmod.sh [ -t <4-number-digit> ] | [ -w <4-number-digit> ] |');
  assert.equal(c.lines.at(-1), 'out: Test completed');
  const l = capture();
  assert.equal((await runSelftest({ target: new FakeTarget(), args: ['-l'], reporter: l.reporter })).exitCode, 0);
  assert.equal(l.lines.at(-1), 'out: Test completed');
  const old = capture();
  await runSelftest({ target: new FakeTarget(), args: ['-l'], era: 'v4.13', reporter: old.reporter });
  assert.ok(!old.lines.includes('out: Test completed'));
  assert.ok(old.lines.includes('out: 0009 x 150 - multithreaded - push kmod_concurrent over max_modprobes for get_fs_type()'));
  assert.ok(!old.lines.some((x) => x.includes('0010 x')));
});

test('the helpers write what kmod.sh writes (echo -n, printf NUL, 0002 leaves 50 fs threads)', async () => {
  const t = new FakeTarget();
  const r = await runSelftest({ target: t, args: ['-s', '0002'], reporter: capture().reporter });
  assert.equal(r.exitCode, 0);
  assert.deepEqual(t.calls.filter((c) => !c.startsWith('read')), [
    'write reset "1"',
    'modprobe -r test_module',
    'write config_test_driver "test_module"',
    'write config_test_driver "nope-test_module"',
    'write config_num_threads "1"',
    'write trigger_config "1"',
    'write reset "1"',
    'modprobe -r xfs',
    'write config_test_fs "xfs"',
    'write config_test_case "2"',
    'write config_test_fs "nope-xfs"',
    'write trigger_config "1"',
    'modprobe_path "/sbin/modprobe"',
  ]);
  assert.equal(t.dev!.num_threads, 50);
  const t1 = new FakeTarget();
  await runSelftest({ target: t1, args: ['-s', '0001'], reporter: capture().reporter });
  assert.ok(t1.calls.includes('write config_test_driver "\\u0000"'));
  assert.ok(t1.calls.includes('write config_test_fs "\\u0000"'));
});

test('0008/0009 thread counts: LIMIT + LIMIT/6 and LIMIT + LIMIT/4 (bash division); env and limit file', async () => {
  const threads = async (id: string, env: Record<string, string> = {}, files: Record<string, string> = {}) => {
    const t = new FakeTarget({ files });
    await runSelftest({ target: t, args: ['-s', id], env, reporter: capture().reporter });
    return t.calls.filter((c) => c.startsWith('write config_num_threads')).map((c) => JSON.parse(c.split(' ')[2]!));
  };
  assert.deepEqual(await threads('0008'), ['58']);
  assert.deepEqual(await threads('0009'), ['62']);
  assert.deepEqual(await threads('0008', { MODPROBE_LIMIT: '20' }), ['23']);
  assert.deepEqual(await threads('0009', { MODPROBE_LIMIT: '7' }), ['8']);
  assert.deepEqual(await threads('0008', {}, { '/proc/sys/kernel//kmod-limit': '12\n' }), ['14']);
  assert.deepEqual(await threads('0009', { PROC_DIR: '/x/' }, { '/x//kmod-limit': '100' }), ['125']);
  assert.deepEqual(await threads('0008', { MODPROBE_LIMIT_FILE: '/lim' }, { '/lim': '30' }), ['35']);
});

test('DEFAULT_KMOD_DRIVER / DEFAULT_KMOD_FS overrides', async () => {
  const t = new FakeTarget();
  await runSelftest({ target: t, args: ['-s', '0002'], env: { DEFAULT_KMOD_DRIVER: 'foo', DEFAULT_KMOD_FS: 'ext4' }, reporter: capture().reporter });
  assert.ok(t.calls.includes('modprobe -r foo'));
  assert.ok(t.calls.includes('write config_test_driver "nope-foo"'));
  assert.ok(t.calls.includes('modprobe -r ext4'));
  assert.ok(t.calls.includes('write config_test_fs "nope-ext4"'));
});

test('a failing expectation: FAIL line on stderr, config dump between dashed lines, exit 1, path restored', async () => {
  // before v5.7 an empty modprobe path gives 0: 0011 fails
  const t = new FakeTarget({ emptyPathZero: true });
  const c = capture();
  const r = await runSelftest({ target: t, args: ['-s', '0011'], reporter: c.reporter });
  assert.equal(r.exitCode, 1);
  const i = c.lines.indexOf('err: kmod_test_0011: FAIL, test expects -ENOENT (-2) - got SUCCESS (0)');
  assert.ok(i > 0, c.lines.join('\n'));
  assert.deepEqual(c.lines.slice(i + 1), [
    `out: ${'-'.repeat(52)}`,
    'out: Custom trigger configuration for: test_kmod0',
    'out: Number of threads:\t1',
    'out: Test_case:\tTEST_KMOD_DRIVER (1)',
    'out: driver:\ttest_module',
    'out: fs:\txfs',
    `out: ${'-'.repeat(52)}`,
    'out: Test completed',
  ]);
  assert.equal(t.k.modprobePath, '/sbin/modprobe');
  assert.equal(r.tests[0]!.status, 'fail');
  assert.equal(r.tests[0]!.runs[0]!.failure, 'kmod_test_0011: FAIL, test expects -ENOENT (-2) - got SUCCESS (0)');
});

test('a failing trigger: FAIL - loading should have worked (stdout), dump, exit 1', async () => {
  // kthread_run fails for the 11th thread: the trigger write gets -ENOMEM
  const t = new FakeTarget({ device: { maxKthreads: 10 } });
  const c = capture();
  const r = await runSelftest({ target: t, args: ['-s', '0005'], reporter: c.reporter });
  assert.equal(r.exitCode, 1);
  assert.ok(c.lines.includes('out: kmod_test_0005: FAIL - loading should have worked'));
});

test('a failing helper write: bash\'s write error and the script\'s message, exit 1', async () => {
  const c = capture();
  const r = await runSelftest({ target: new FakeTarget(), args: ['-s', '0008'], env: { MODPROBE_LIMIT: '0' }, reporter: c.reporter });
  assert.equal(r.exitCode, 1);
  assert.ok(c.lines.includes('err: kmod.sh: echo: write error: Invalid argument'), c.lines.join('\n'));
  assert.ok(c.lines.includes('err: kmod.sh: Unable to set to number of threads'));
});

test('modprobe -r failing stops the script with its exit code', async () => {
  const t = new FakeTarget({ modprobe: { '-r xfs': { exitCode: 1, stdout: '', stderr: 'modprobe: FATAL: Module xfs is in use.\n' } } });
  const c = capture();
  const r = await runSelftest({ target: t, args: ['-t', '0003'], reporter: c.reporter });
  assert.equal(r.exitCode, 1);
  assert.ok(c.lines.includes('err: modprobe: FATAL: Module xfs is in use.'));
});

test('stop at the first failure like set -e, or keep going', async () => {
  const stop = await runSelftest({ target: new FakeTarget({ emptyPathZero: true }), args: [], reporter: capture().reporter });
  assert.equal(stop.exitCode, 1);
  assert.deepEqual(stop.tests.map((t) => `${t.id}:${t.status}`).slice(9), ['0010:pass', '0011:fail', '0012:not-run', '0013:not-run']);
  const files = { '/proc/modules': 'test_module 16384 0 - Live 0xffffffffc0a2c000\n', '/sys/module/test_module/sections/.text': '0xffffffffc0a2c000\n' };
  const unprivFiles = { '/proc/modules': 'test_module 16384 0 - Live 0x0000000000000000\n', '/sys/module/test_module/sections/.text': '0x0000000000000000\n' };
  const go = await runSelftest({ target: new FakeTarget({ emptyPathZero: true, files, unprivFiles }), args: [], keepGoing: true, reporter: capture().reporter });
  assert.equal(go.exitCode, 1);
  assert.deepEqual(go.tests.map((t) => `${t.id}:${t.status}`).slice(9), ['0010:pass', '0011:fail', '0012:pass', '0013:pass']);
  assert.equal(go.iterations, 337);
});

test('visibility: the address column as root vs with CAP_SYSLOG dropped; a taint field fails', async () => {
  const ok = capture();
  const files = { '/proc/modules': 'test_module 16384 0 - Live 0xffffffffc0a2c000\nxfs 1 0 - Live 0xffffffffc0000000\n' };
  const unprivFiles = { '/proc/modules': 'test_module 16384 0 - Live 0x0000000000000000\nxfs 1 0 - Live 0x0000000000000000\n' };
  assert.equal((await runSelftest({ target: new FakeTarget({ files, unprivFiles }), args: ['-s', '0012'], reporter: ok.reporter })).exitCode, 0);
  assert.ok(ok.lines.includes('out: kmod_check_visibility: OK!'));
  const bad = capture();
  const taint = { '/proc/modules': 'test_module 16384 0 - Live 0xffffffffc0a2c000 (OE)\n' };
  const taintU = { '/proc/modules': 'test_module 16384 0 - Live 0x0000000000000000 (OE)\n' };
  const t = new FakeTarget({ files: taint, unprivFiles: taintU });
  assert.equal((await runSelftest({ target: t, args: ['-s', '0012'], reporter: bad.reporter })).exitCode, 1);
  assert.ok(t.calls.includes('modprobe test_module'));
  assert.ok(bad.lines.includes("err: kmod_check_visibility: FAIL, /proc/modules visible to unpriv: '(OE)' vs '(OE)'"));
});

test('-w NNNN: clear, date, "Running test" per round until the bound', async () => {
  let clears = 0;
  const lines: string[] = [];
  const r = await runSelftest({
    target: new FakeTarget(),
    args: ['-w', '0003'],
    watchRounds: 3,
    reporter: { line: (_s, t) => lines.push(t), clear: () => clears++ },
  });
  assert.equal(r.exitCode, 0);
  assert.equal(clears, 3);
  assert.deepEqual(lines.filter((l) => l.startsWith('Running')), ['Running test: kmod_test_0003 - run #0', 'Running test: kmod_test_0003 - run #1', 'Running test: kmod_test_0003 - run #2']);
});

test('an abort (Ctrl-C) stops between steps with 130 and still restores the modprobe path', async () => {
  const t = new FakeTarget();
  const ac = new AbortController();
  const c = capture();
  const rep = { line: (s: 'stdout' | 'stderr', x: string) => {
    c.reporter.line(s, x);
    if (x.startsWith('Running test: kmod_test_0010')) {
      t.k.modprobePath = '/KMOD_TEST_NONEXISTENT';
      ac.abort();
    }
  } };
  const r = await runSelftest({ target: t, args: ['-s', '0010'], reporter: rep, signal: ac.signal });
  assert.equal(r.exitCode, 130);
  assert.equal(t.k.modprobePath, '/sbin/modprobe');
  assert.equal(c.lines.at(-1), 'out: Test completed');
});

test('an abort while a target call is in flight rejects it at once (the late answer is dropped); the run leaves no listener on the signal', async () => {
  // a modprobe that takes "minutes" (a real kernel under load): the abort must not wait for it
  class SlowModprobe extends FakeTarget {
    override async modprobe(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
      this.calls.push(`modprobe ${args.join(' ')}`);
      return new Promise((resolve) => setTimeout(() => resolve({ exitCode: 0, stdout: '', stderr: '' }), 60_000).unref());
    }
  }
  const t = new SlowModprobe();
  const ac = new AbortController();
  const c = capture();
  setTimeout(() => ac.abort(), 20);
  const t0 = Date.now();
  const r = await runSelftest({ target: t, args: ['-s', '0005'], reporter: c.reporter, signal: ac.signal });
  assert.ok(Date.now() - t0 < 10_000, 'the abort did not wait for the call in flight');
  assert.equal(r.exitCode, 130);
  assert.equal(r.interrupted?.reason, 'interrupted');
  assert.equal(r.tests[0]!.runs[0]!.interrupted?.exitCode, 130);
  assert.equal(c.lines.at(-1), 'out: Test completed');
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  // a run that ends by itself leaves none either
  const ac2 = new AbortController();
  const r2 = await runSelftest({ target: new FakeTarget(), args: ['-s', '0005'], reporter: capture().reporter, signal: ac2.signal });
  assert.equal(r2.exitCode, 0);
  assert.equal(getEventListeners(ac2.signal, 'abort').length, 0);
});

test('0013 expands sections/.*text like bash: sorted, and an empty .text has no file', async () => {
  // an out-of-tree test_module whose code is all __init/__exit: no .text file (real Debian 6.1)
  const dir = '/sys/module/test_module/sections';
  const t = new FakeTarget({
    files: { [`${dir}/.exit.text`]: '0xffffffffc0334000\n', [`${dir}/.init.text`]: '0xffffffffc0338000\n', [`${dir}/.data`]: '0xffffffffc0336000\n' },
    unprivFiles: { [`${dir}/.exit.text`]: '0x0000000000000000\n', [`${dir}/.init.text`]: '0x0000000000000000\n' },
  });
  const c = capture();
  const r = await runSelftest({ target: t, args: ['-s', '0013'], reporter: c.reporter });
  assert.equal(r.exitCode, 0, c.lines.join("\n"));
  // the first file of the expansion in C-locale order is .exit.text
  assert.equal(r.tests.find((x) => x.id === '0013')!.runs[0]!.steps.at(-1)!.value, "'0xffffffffc0334000' vs '0x0000000000000000'");
  const none = new FakeTarget({ files: {} });
  const c2 = capture();
  const r2 = await runSelftest({ target: none, args: ['-s', '0013'], reporter: c2.reporter });
  assert.equal(r2.exitCode, 1);
  assert.match(c2.lines.join("\n"), /kmod_check_visibility: FAIL, \/sys\/module\/\*\/sections\/\* visible to unpriv: '' vs ''/);
});

test('each era is a script row: the tests it lists, the era each test came with', () => {
  assert.deepEqual(KMOD_SH_SCRIPTS.map((s) => [s.era, s.tests.length, s.finishTrap, s.usageSwapsSC]), [['v4.13', 9, false, true], ['v5.7', 11, true, false], ['v5.8', 13, true, false]]);
  for (const t of KMOD_TESTS) assert.equal(KMOD_SH_SCRIPTS.find((s) => s.tests.includes(t.id))?.era, t.since, t.id);
});
