/**
 * DOC: runQemuSelftest (src/targets/qemu/selftest.ts) — the four session outcomes kept apart in
 * the exit code, and the logs kept — with a fake guest: the simulated kernel behind the Target
 * interface, which can be told to time out, panic or die at the K-th request, or to never boot.
 * The real guest's wire protocol is covered by session.test.ts; --compare by
 * test/experiments/selftest-compare.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQemuSelftest } from '../../../src/targets/qemu/selftest.js';
import { GuestSessionError } from '../../../src/targets/qemu/session.js';
import type { SessionOutcome } from '../../../src/targets/qemu/outcome.js';
import { fakeGuest, io, type Fake } from './fake-qemu-target.js';

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
  ['the guest died mid-test → 5', { state: 'kernel-panic', detail: 'the guest died without a panic message (reset or agent killed)' }, 5],
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
