/**
 * DOC: a real guest stopped from outside (issue 13): `kmodlab selftest --target qemu:debian-6.1`
 * gets SIGTERM on its whole process group mid-test, as kselftest's timeout(1) sends it. QEMU runs
 * in a group of its own, so it is not killed under kmodlab; kmodlab closes its KTAP (`# ERROR
 * interrupted by SIGTERM`), restores the modprobe path, reads dmesg, powers the guest off, keeps
 * console.log, dmesg.log and results.json with the runs that finished, and exits 143 — not 5: it
 * was no panic. Gated like the other real-kernel tests: runs when debian-6.1 is prepared, or
 * fails when KMODLAB_QEMU_TESTS is set and it is not. One boot, about a minute under TCG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPrepared } from '../../../src/targets/qemu/prepare.js';
import { bin, root } from '../../cli/run-cli.js';

const prepared = readPrepared('debian-6.1');
const forced = !!process.env.KMODLAB_QEMU_TESTS;

test('debian-6.1: SIGTERM to the process group mid-test → guest shut down, logs kept, KTAP closed, exit 143', { timeout: 400_000 }, async (t) => {
  if (!prepared && !forced) {
    t.skip('debian-6.1 not prepared (run `kmodlab kernel prepare debian-6.1`, or set KMODLAB_QEMU_TESTS=1)');
    return;
  }
  assert.ok(prepared, 'KMODLAB_QEMU_TESTS is set but debian-6.1 is not prepared');
  const dir = mkdtempSync(join(tmpdir(), 'kmodlab-qint-'));
  try {
    // its own process group, like the command timeout(1) runs: the group gets the signal
    const child = spawn(process.execPath, [bin, 'selftest', '--target', 'qemu:debian-6.1', '--ktap', '-t', '0005', '--timeout', '300', '--log-dir', dir], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let sentAt = 0;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // streamed: the second run's result is out while 0005 goes on
      if (!sentAt && out.includes('    ok 2 run 1\n')) {
        sentAt = Date.now();
        process.kill(-child.pid!, 'SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.ok(sentAt, `the signal was sent mid-test (stderr: ${err})`);
    assert.equal(code, 143, err);
    assert.ok(Date.now() - sentAt < 60_000, 'shut down within the grace period');
    assert.match(out, /^ {4}1\.\.10$/m);
    assert.match(out, /^not ok 1 kmod_test_0005 # ERROR interrupted by SIGTERM$/m);
    assert.match(out, /^ {4}ok 10 run 9 # SKIP not run: interrupted by SIGTERM$/m);
    assert.match(out, /^# Test completed$/m, "kmod.sh's EXIT trap ran (the modprobe path is back)");
    assert.match(out, /^# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1$/m);
    assert.match(err, /qemu:debian-6\.1: interrupted: kmodlab received SIGTERM and shut the guest down \(exit 143\)/);
    assert.doesNotMatch(err, /kernel-panic/);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { outcome: { state: string; signal?: string }; exitCode: number; tests: { id: string; okRuns: number; runs: number }[] };
    assert.deepEqual([results.outcome.state, results.outcome.signal, results.exitCode], ['interrupted', 'SIGTERM', 143]);
    assert.ok(results.tests[0]!.okRuns >= 2, `finished runs kept: ${JSON.stringify(results.tests[0])}`);
    const session = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as { outcome: { state: string } };
    assert.equal(session.outcome.state, 'interrupted');
    // dmesg was read from the live guest after the signal; the console is whole
    assert.match(readFileSync(join(dir, 'dmesg.log'), 'utf8'), /Linux version 6\.1\./);
    assert.match(readFileSync(join(dir, 'console.log'), 'utf8'), /reboot: Power down/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
