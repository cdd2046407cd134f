/**
 * DOC: `--results DIR`: the layout DIR/<release>/<run id>/, deterministic ids for seeded
 * simulator runs, and atomicity — a run that fails or is killed leaves no run directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { PendingRun, readResults, runId, withoutResultsOption, type RunCommand } from '../../src/results/results-dir.js';
import { bin, root, runCli } from '../cli/run-cli.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'kmodlab-results-'));
const cmd = (release: string): RunCommand => ({ format: 'kmodlab-results-run', kind: 'selftest', release, target: 'sim', argv: ['selftest', '-t', '0001'], kmodlabVersion: '0' });

test('argv is kept without --results and its directory, in both spellings', () => {
  assert.deepEqual(withoutResultsOption(['selftest', '--results', '/x', '-t', '0001', '--results=/y']), ['selftest', '-t', '0001']);
});

test('run ids: seeded runs are deterministic, others sort by UTC time', () => {
  const c = cmd('sim-newest');
  assert.equal(runId(c, 1), runId(c, 1));
  assert.match(runId(c, 1), /^seed1-[0-9a-f]{10}$/);
  assert.notEqual(runId(c, 1), runId({ ...c, argv: ['selftest', '-t', '0002'] }, 1));
  assert.equal(runId(c, undefined, new Date('2026-12-02T06:05:04.321Z')).slice(0, 16), '20261202T060504Z');
  assert.ok(runId(c, undefined, new Date('2026-12-02T06:05:04Z')) < runId(c, undefined, new Date('2026-12-02T06:05:05Z')));
});

test('a committed run is whole under DIR/<release>/<id>; a discarded one leaves nothing', () => {
  const dir = tmp();
  const p = PendingRun.open(dir);
  p.write('ktap.txt', 'KTAP version 1\n');
  const final = p.commit(cmd('sim-v4.9'), { tests: [] }, 1);
  assert.equal(path.dirname(final), path.join(dir, 'sim-v4.9'));
  assert.deepEqual(readdirSync(final).sort(), ['command.json', 'ktap.txt', 'record.json']);
  assert.deepEqual(readdirSync(dir), ['sim-v4.9']);
  const q = PendingRun.open(dir);
  q.write('ktap.txt', 'half');
  q.discard();
  assert.deepEqual(readdirSync(dir), ['sim-v4.9']);
  // the same seeded run again replaces the old directory
  const r = PendingRun.open(dir);
  r.write('other.txt', 'x');
  assert.equal(r.commit(cmd('sim-v4.9'), { tests: [] }, 1), final);
  assert.deepEqual(readdirSync(final).sort(), ['command.json', 'other.txt', 'record.json']);
  assert.equal(readResults(dir).length, 1);
  rmSync(dir, { recursive: true });
});

test('readers skip temp directories; a directory with no run is bad input', () => {
  const dir = tmp();
  PendingRun.open(dir).write('record.json', '{}');
  assert.throws(() => readResults(dir), (e) => e instanceof InputError && /not a results directory/.test(e.message));
  rmSync(dir, { recursive: true });
});

test('selftest --results on the simulator keeps KTAP, kmod.sh text, dmesg, record and command', async () => {
  const dir = tmp();
  const r = await runCli(['selftest', '-t', '0001', '--kernel', 'v6.1-stable', '--seed', '2', '--results', dir]);
  assert.equal(r.status, 0, r.stderr);
  const [run] = readResults(dir);
  assert.ok(run);
  assert.equal(run.release, 'sim-v6.1-stable');
  assert.match(run.id, /^seed2-/);
  assert.deepEqual(readdirSync(run.dir).sort(), ['command.json', 'dmesg.txt', 'kmod.sh.txt', 'ktap.txt', 'record.json']);
  // the user saw kmod.sh text; the run directory has it, and the KTAP of the same run
  assert.equal(readFileSync(path.join(run.dir, 'kmod.sh.txt'), 'utf8'), r.stdout + r.stderr.replace(/^kmodlab: results in .*\n/m, ''));
  assert.match(readFileSync(path.join(run.dir, 'ktap.txt'), 'utf8'), /^ok 1 kmod_test_0001$/m);
  assert.match(readFileSync(path.join(run.dir, 'dmesg.txt'), 'utf8'), /test_kmod/);
  assert.deepEqual(run.command.argv, ['selftest', '-t', '0001', '--kernel', 'v6.1-stable', '--seed', '2']);
  assert.equal(run.command.kind, 'selftest');
  rmSync(dir, { recursive: true });
});

test('storm --results: one run per preset (coldplug and --parallel), the records inside', async () => {
  const dir = tmp();
  const a = await runCli(['storm', '--cpus', '8', '--kernel', 'v4.9,newest', '--inline', '--no-progress', '--format', 'csv', '--results', dir]);
  assert.equal(a.status, 0, a.stderr);
  const b = await runCli(['storm', '--parallel', '1,4', '--module', 'kml_slow', '--path', 'finit', '--kernel', 'v6.1-stable', '--results', dir]);
  assert.equal(b.status, 0, b.stderr);
  const runs = readResults(dir);
  assert.deepEqual(
    runs.map((r) => [r.release, r.command.kind]),
    [['sim-newest', 'storm'], ['sim-v4.9', 'storm'], ['sim-v6.1-stable', 'dupstorm']],
  );
  const rec = runs[1]!.record as { kernel: string; cpus: number }[];
  assert.deepEqual(rec.map((x) => [x.kernel, x.cpus]), [['v4.9', 8]]);
  const rows = (runs[2]!.record as { rows: { n: number; counts: Record<string, number> }[] }).rows;
  // v6.1-stable: one loader wins, the others wait and get EEXIST (calibration/debian-6.1.md)
  assert.deepEqual(rows.find((x) => x.n === 4)!.counts, { '0': 1, EEXIST: 3 });
  rmSync(dir, { recursive: true });
});

test('a killed run leaves no run directory, only a temp directory readers skip', async () => {
  const dir = tmp();
  const child = spawn(process.execPath, [bin, 'selftest', 'all', '--keep-going', '--results', dir], { cwd: root, stdio: 'ignore' });
  // wait until the run has started writing (its temp directory exists), then kill it
  for (let i = 0; i < 200 && readdirSync(dir).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  assert.ok(readdirSync(dir).every((n) => n.startsWith('.tmp-')), readdirSync(dir).join(','));
  assert.ok(!existsSync(path.join(dir, 'sim-newest')));
  assert.throws(() => readResults(dir), InputError);
  rmSync(dir, { recursive: true });
});

test('bad input to a --results run: one line, exit 2, the directory left empty', async () => {
  const dir = tmp();
  const r = await runCli(['storm', '--parallel', '2', '--module', 'nosuch', '--results', dir]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true });
});
