/**
 * DOC: `selftest --target qemu:debian-6.1 -t 0001 --results DIR` keeps the guest's logs with the
 * KTAP under the guest's `uname -r`. Runs when debian-6.1 is prepared, or whenever
 * KMODLAB_QEMU_TESTS is set (then a missing kernel fails instead of skipping). About 20 s under TCG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPrepared } from '../../src/targets/qemu/prepare.js';
import { readResults } from '../../src/results/results-dir.js';
import { runCli } from '../cli/run-cli.js';

const prepared = readPrepared('debian-6.1');
const forced = !!process.env.KMODLAB_QEMU_TESTS;

test('qemu:debian-6.1 selftest -t 0001 --results: dmesg, console and KTAP under uname -r', { timeout: 600_000 }, async (t) => {
  if (!prepared && !forced) {
    t.skip('debian-6.1 not prepared (run `kmodlab kernel prepare debian-6.1`, or set KMODLAB_QEMU_TESTS=1)');
    return;
  }
  assert.ok(prepared, 'KMODLAB_QEMU_TESTS is set but debian-6.1 is not prepared');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-qres-'));
  try {
    const r = await runCli(['selftest', '--target', 'qemu:debian-6.1', '--cpus', '2', '-t', '0001', '--timeout', '500', '--results', dir]);
    assert.equal(r.status, 0, r.stderr);
    const [run] = readResults(dir);
    assert.ok(run);
    assert.equal(run.release, prepared.release);
    assert.match(run.id, /^\d{8}T\d{6}Z-[0-9a-f]{10}$/);
    const files = readdirSync(run.dir);
    for (const f of ['ktap.txt', 'kmod.sh.txt', 'dmesg.log', 'console.log', 'record.json', 'command.json']) assert.ok(files.includes(f), `${f} missing: ${files.join(', ')}`);
    assert.match(readFileSync(path.join(run.dir, 'ktap.txt'), 'utf8'), /^ok 1 kmod_test_0001$/m);
    assert.match(readFileSync(path.join(run.dir, 'dmesg.log'), 'utf8'), /Linux version 6\.1\./);
    assert.equal(run.command.target, 'qemu:debian-6.1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
