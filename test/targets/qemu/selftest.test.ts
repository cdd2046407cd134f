/**
 * DOC: runQemuSelftest (src/targets/qemu/selftest.ts) — the four session outcomes kept apart in
 * the exit code, and the logs kept — with a fake guest: the simulated kernel behind the Target
 * interface, which can be told to time out, panic or die at the K-th request, or to never boot.
 * The real guest's wire protocol is covered by session.test.ts; --compare by
 * test/experiments/selftest-compare.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync as mkdtempRaw, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQemuSelftest } from '../../../src/targets/qemu/selftest.js';
import { GuestSessionError } from '../../../src/targets/qemu/session.js';
import type { SessionOutcome } from '../../../src/targets/qemu/outcome.js';
import { fakeGuest, io, type Fake } from './fake-qemu-target.js';

// the log directories the runs write into go when the file's tests are done
const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function mkdtempSync(prefix: string): string {
  const d = mkdtempRaw(prefix);
  made.push(d);
  return d;
}

test('tests ran and passed → 0; the summary names the kernel', async () => {
  const g = fakeGuest();
  const o = io();
  const { exitCode: code } = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0001'], open: g.open }, o.io);
  assert.equal(code, 0);
  assert.ok(g.closed());
  assert.match(o.out.join(''), /kmod_test_0001_driver: OK! - Return value: 256 \(MODULE_NOT_FOUND\)/);
  assert.match(o.err.join(''), /qemu:debian-6\.1 \(6\.1\.0-fake\): 1 passed, 0 failed/);
});

test('tests ran and one failed → 1 (0012: "(OE)" vs "(OE)" with an out-of-tree test_module)', async () => {
  const o = io();
  const { exitCode: code } = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0012'], open: fakeGuest().open }, o.io);
  assert.equal(code, 1);
  assert.match(o.err.join(''), /kmod_check_visibility: FAIL, \/proc\/modules visible to unpriv: '\(OE\)' vs '\(OE\)'/);
});

const failures: [string, SessionOutcome, number][] = [
  ['a request ran past its deadline → 124', { state: 'timeout', detail: 'a request or the session ran past its deadline' }, 124],
  ['a kernel panic mid-test → 5', { state: 'kernel-panic', detail: 'Kernel panic - not syncing: Fatal exception' }, 5],
  ['the guest died mid-test without a panic message → 1, not 5', { state: 'guest-died', detail: 'the guest died without a panic message (reset or agent killed)' }, 1],
];
for (const [name, outcome, exit] of failures) {
  test(name, async () => {
    const g = fakeGuest({ at: 12, outcome });
    const o = io();
    const dir = mkdtempSync(join(tmpdir(), 'kmodlab-qst-'));
    const { exitCode: code } = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0005'], open: g.open, logDir: dir }, o.io);
    assert.equal(code, exit);
    assert.ok(g.closed(), 'the target is closed even after a failure');
    assert.match(o.err.join(''), new RegExp(`${outcome.state}: .*\\(exit ${exit}\\)`));
    const report = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { outcome: SessionOutcome; exitCode: number };
    assert.deepEqual(report.outcome, outcome);
    assert.equal(report.exitCode, exit);
  });
}

test('boot failure (no agent hello) → 3, before any test', async () => {
  const o = io();
  const open: Fake = async () => {
    throw new GuestSessionError({ state: 'boot-failure', detail: 'no agent hello before the boot deadline (last console line: none)' });
  };
  assert.equal((await runQemuSelftest({ spec: 'qemu:debian-6.1', args: [], open }, o.io)).exitCode, 3);
  assert.match(o.err.join(''), /boot-failure: no agent hello/);
  assert.equal(o.out.join(''), '');
});

test('the kernel log is written to --dmesg, results.json beside the run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmodlab-qst-'));
  const o = io();
  const { exitCode: code } = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0003'], open: fakeGuest().open, logDir: dir, dmesg: join(dir, 'd.log') }, o.io);
  assert.equal(code, 0);
  assert.ok(existsSync(join(dir, 'd.log')));
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { tests: { id: string; status: string; results: string[] }[] };
  assert.deepEqual(r.tests.map((t) => [t.id, t.status, t.results]), [['0003', 'pass', ['kmod_test_0003=0']]]);
});

test('compare: load addresses are compared as visible or not, never by value', async () => {
  const { comparableValue } = await import('../../../src/targets/qemu/selftest.js');
  assert.equal(comparableValue("'0xffffffffc0334000' vs '0x0000000000000000'"), "'0x<address>' vs '0x0000000000000000'");
  assert.equal(comparableValue('-22'), '-22');
  assert.equal(comparableValue("'(OE)' vs '(OE)'"), "'(OE)' vs '(OE)'");
});

test('SIGTERM mid-run (kselftest timeout): KTAP closed, trap run, results.json keeps the finished tests, exit 143', async () => {
  const g = fakeGuest();
  const o = io();
  const dir = mkdtempSync(join(tmpdir(), 'kmodlab-qst-'));
  // 0005 passes in full, then the signal arrives while 0009's 150 runs go on
  let sent = false;
  const io2 = { ...o.io, stdout: (s: string) => {
    o.out.push(s);
    if (!sent && s.includes('# Running test: kmod_test_0009 - run #3')) {
      sent = true;
      setImmediate(() => process.emit('SIGTERM', 'SIGTERM'));
    }
  } };
  const listeners = process.listenerCount('SIGTERM');
  const run = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['all'], ktap: true, keepGoing: true, open: g.open, logDir: dir }, io2);
  assert.ok(sent);
  assert.equal(run.exitCode, 143);
  assert.ok(g.closed());
  assert.equal(process.listenerCount('SIGTERM'), listeners, 'the handlers are gone');
  const ktap = o.out.join('');
  assert.match(ktap, /^ok 5 kmod_test_0005$/m);
  assert.match(ktap, /^ {4}1\.\.150$/m);
  assert.match(ktap, /^not ok 9 kmod_test_0009 # ERROR interrupted by SIGTERM$/m);
  assert.match(ktap, /^ok 13 kmod_test_0013 # SKIP not run: interrupted by SIGTERM$/m);
  assert.match(ktap, /^# Test completed$/m);
  assert.match(ktap, /^# Totals: pass:8 fail:0 xfail:0 xpass:0 skip:4 error:1$/m);
  const report = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { exitCode: number; tests: { id: string; status: string; runs: number }[] };
  assert.equal(report.exitCode, 143);
  assert.deepEqual(report.tests.slice(0, 8).map((t) => t.status), Array(8).fill('pass'));
  assert.equal(report.tests[8]!.status, 'fail');
  assert.ok(report.tests[8]!.runs >= 4 && report.tests[8]!.runs < 150);
  assert.equal(report.tests[12]!.status, 'not-run');
});

test('a panic mid-run: the KTAP is closed with # ERROR kernel-panic, every level, exit 5', async () => {
  const g = fakeGuest({ at: 40, outcome: { state: 'kernel-panic', detail: 'Kernel panic - not syncing: Fatal exception' } });
  const o = io();
  const run = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-t', '0005'], ktap: true, open: g.open }, o.io);
  assert.equal(run.exitCode, 5);
  const ktap = o.out.join('');
  assert.match(ktap, /^ {4}not ok \d+ run \d+ # ERROR kernel-panic: Kernel panic - not syncing: Fatal exception$/m);
  assert.match(ktap, /^ {4}ok \d+ run \d+ # SKIP not run: kernel-panic: Kernel panic - not syncing: Fatal exception$/m);
  assert.match(ktap, /^not ok 1 kmod_test_0005 # ERROR kernel-panic: Kernel panic - not syncing: Fatal exception$/m);
  assert.match(ktap, /^# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1$/m);
});
