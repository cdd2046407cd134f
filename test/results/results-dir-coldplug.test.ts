/**
 * `storm --target qemu:NAME --results DIR` in coldplug mode (no --parallel): DIR/<uname -r>/<run
 * id>/ holds the command, the real runs' records and each boot's kept logs (the trace, the
 * record, the captured profile), and `baseline diff` reads it. No boot: the run is rebuilt with
 * --reuse-logs from the committed 2-vCPU debian-6.1 trace (test/fixtures/coldplug), laid out as
 * --log-dir keeps it. Needs debian-6.1 prepared (its module tree gives the sizes); skipped
 * otherwise, or fails when KMODLAB_QEMU_TESTS promises it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPrepared } from '../../src/targets/qemu/prepare.js';
import { root, runCli } from '../cli/run-cli.js';

const env = { ...process.env, KMODLAB_RESULTS_COMMIT: 'off' };

test('storm --target qemu:debian-6.1 --reuse-logs --results DIR: DIR/<release>/<run id>/ with the command, records and logs; baseline diff reads it', async (t) => {
  const prepared = readPrepared('debian-6.1');
  if (prepared === null) {
    assert.ok(!process.env.KMODLAB_QEMU_TESTS, 'KMODLAB_QEMU_TESTS is set but debian-6.1 is not prepared');
    t.skip('debian-6.1 not prepared (run `kmodlab kernel prepare debian-6.1`)');
    return;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-results-coldplug-'));
  try {
    const logs = path.join(tmp, 'logs');
    mkdirSync(path.join(logs, 'c2-s1'), { recursive: true });
    copyFileSync(path.join(root, 'test/fixtures/coldplug/debian-6.1-2cpu.data'), path.join(logs, 'c2-s1', 'data.log'));
    const res = path.join(tmp, 'res');
    const args = ['storm', '--target', 'qemu:debian-6.1', '--cpus', '2', '--reuse-logs', '--log-dir', logs, '--format', 'json', '--no-progress'];
    const r = await runCli([...args, '--results', res], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /rebuilt from the kept trace/);
    assert.deepEqual(readdirSync(res), [prepared.release], 'one directory per kernel release (uname -r)');
    const runs = readdirSync(path.join(res, prepared.release));
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /^\d{8}T\d{6}Z-[0-9a-f]+$/, 'a real kernel run id is its UTC time and a hash');
    const dir = path.join(res, prepared.release, runs[0]!);
    assert.match(r.stderr, new RegExp(`^kmodlab: results in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.deepEqual(readdirSync(dir).sort(), ['c2-s1', 'command.json', 'record.json']);
    assert.deepEqual(readdirSync(path.join(dir, 'c2-s1')).sort(), ['data.log', 'profile.json', 'record.json']);
    assert.equal(readFileSync(path.join(dir, 'c2-s1', 'data.log'), 'utf8'), readFileSync(path.join(logs, 'c2-s1', 'data.log'), 'utf8'));
    const command = JSON.parse(readFileSync(path.join(dir, 'command.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(command, { format: 'kmodlab-results-run', kind: 'storm', release: prepared.release, target: 'qemu:debian-6.1', argv: args, kmodlabVersion: command.kmodlabVersion });
    // the record is what was printed: the real runs
    const printed = JSON.parse(r.stdout) as { loadAttempts: number; source: string }[];
    const record = JSON.parse(readFileSync(path.join(dir, 'record.json'), 'utf8')) as typeof printed;
    assert.deepEqual(record, printed);
    assert.equal(record.length, 1);
    assert.equal(record[0]!.source, 'measured');

    // the same run twice: an empty diff; an injected regression: one line, exit 1
    const same = await runCli(['baseline', 'diff', res, res], { env });
    assert.equal(same.status, 0, same.stderr);
    assert.equal(same.stdout, '');
    const bad = path.join(tmp, 'bad');
    cpSync(res, bad, { recursive: true });
    const badRecord = path.join(bad, prepared.release, runs[0]!, 'record.json');
    writeFileSync(badRecord, JSON.stringify([{ ...record[0]!, loadAttempts: record[0]!.loadAttempts + 5 }], null, 2) + '\n');
    const d = await runCli(['baseline', 'diff', res, bad], { env });
    assert.equal(d.stdout.split('\n').filter(Boolean).length, 1, d.stdout);
    assert.match(d.stdout, new RegExp(`^REGRESSED ${prepared.release.replace(/\./g, '\\.')} storm debian-6\\.1-q35-cascadelake-server c2 s1: loadAttempts ${record[0]!.loadAttempts} -> ${record[0]!.loadAttempts + 5}`));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('storm --target qemu:debian-6.1 --results: a bad DIR is one line before anything runs', async (t) => {
  if (readPrepared('debian-6.1') === null) return void t.skip('debian-6.1 not prepared');
  const r = await runCli(['storm', '--target', 'qemu:debian-6.1', '--cpus', '2', '--reuse-logs', '--log-dir', '/nonexistent-kmodlab/logs', '--results', '/proc/kmodlab-x']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  assert.match(r.stderr, /^kmodlab: --results \/proc\/kmodlab-x: /);
});

test('storm --target qemu:debian-6.1 --reuse-logs: a --log-dir with none of the runs\' traces is one line, before any boot or file', async (t) => {
  if (readPrepared('debian-6.1') === null) return void t.skip('debian-6.1 not prepared');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-reuse-none-'));
  try {
    const logs = path.join(tmp, 'logs');
    mkdirSync(path.join(logs, 'c2-s1'), { recursive: true });
    // an incomplete copy: the trace of a boot that never finished its settle
    writeFileSync(path.join(logs, 'c2-s1', 'data.log'), 'KML-FACT release 6.1.0\n');
    const out = path.join(tmp, 'out');
    const r = await runCli(['storm', '--target', 'qemu:debian-6.1', '--cpus', '2,4', '--seeds', '2', '--reuse-logs', '--log-dir', logs, '--out', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `kmodlab: --reuse-logs: ${logs} holds no finished trace of c2-s1, c2-s2, c4-s1, c4-s2; without --reuse-logs they boot\n`);
    assert.deepEqual(readdirSync(tmp).sort(), ['logs'], 'no --out store was made');
    // one kept run is enough: the others boot, as --reuse-logs's help says (not run here)
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
