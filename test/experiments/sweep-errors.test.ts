/**
 * Errors keep their kind across the worker-thread boundary (issue 12, item 1): an InputError in
 * a piscina worker reaches the CLI as the same InputError — same line, same exit code — as with
 * --inline or in `stats`; inputs the runs share are checked before any run starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.js';
import { runPoints } from '../../src/experiments/points.js';
import { runSweep } from '../../src/experiments/sweep.js';
import { errorOfTask, runTask, taskError } from '../../src/experiments/sweep-worker.js';
import { runCli } from '../cli/run-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const worker = path.join(here, '../fixtures/report/sleepy-worker.js');
const params = { machine: 'kvm-guest', cpus: [1, 2, 4], kernels: ['v6.4'], seeds: [1], command: 'test' };

for (const mode of ['pool', 'inline'] as const) {
  test(`${mode}: a worker's InputError arrives whole (message and exit code, no wrapping)`, async () => {
    const points = runPoints(params).map((p) => ({ ...p, inputFail: 2 }));
    await assert.rejects(runSweep({ points, worker, mode, threads: 2, progress: false, handleSigint: false }), (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.equal(err.message, '--snapshot nope: bad input found in the worker');
      assert.equal(err.exitCode, 2);
      return true;
    });
  });
  test(`${mode}: any other error is named after the run`, async () => {
    const points = runPoints(params).map((p) => ({ ...p, fail: true }));
    await assert.rejects(runSweep({ points, worker, mode, threads: 2, progress: false, handleSigint: false }), (err: unknown) => {
      assert.ok(!(err instanceof InputError));
      assert.match((err as Error).message, /^run run_kvm-guest_c\d_v6\.4_s1 \(machine kvm-guest, cpus \d, kernel v6\.4, seed 1\) failed: simulated failure$/);
      return true;
    });
  });
}

test('the failure reported is the first in run order, as --inline meets it, not the first to happen', async () => {
  // the run order is largest CPU counts first: c4 (fails after 400 ms), c2 (fine), then c1 (fails
  // at once) — the pool starts c1 first (startOrder) and it fails long before c4 does; c2 still runs
  const timed = runPoints(params).map((p) => ({ ...p, ...(p.cpus === 4 ? { delayMs: 400, fail: true } : p.cpus === 1 ? { inputFail: 2 } : {}) }));
  for (const mode of ['pool', 'inline'] as const) {
    const out = mkdtempSync(path.join(tmpdir(), 'kmodlab-werr-'));
    try {
      const sweep = { points: timed, worker, mode, threads: 2, progress: false, handleSigint: false, outDir: out, params: { ...params, cpus: [1, 2, 4], seeds: [1] } };
      await assert.rejects(runSweep(sweep), (err: unknown) => {
        assert.ok(!(err instanceof InputError), `${mode}: ${String(err)}`);
        assert.match((err as Error).message, /^run run_kvm-guest_c4_v6\.4_s1 \(machine kvm-guest, cpus 4, kernel v6\.4, seed 1\) failed: simulated failure$/, mode);
        return true;
      });
      // in the pool, the run that started beside the failing one finished and is kept; inline stopped at c4
      assert.deepEqual(readdirSync(out).sort(), mode === 'pool' ? ['manifest.json', 'run_kvm-guest_c2_v6.4_s1.json'] : ['manifest.json'], mode);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
});

test('a task error survives a structured clone with its kind', async () => {
  const e = errorOfTask(structuredClone(taskError(new InputError('x: bad', 4))));
  assert.ok(e instanceof InputError);
  assert.equal(e.exitCode, 4);
  const r = await runTask({ url: new URL(`file://${worker}`).href, exportName: 'runPoint', point: { machine: 'm', cpus: 1, kernel: 'k', seed: 1, inputFail: 2 } });
  assert.deepEqual(r, { ok: false, error: { kind: 'input', name: 'InputError', message: '--snapshot nope: bad input found in the worker', exitCode: 2 } });
});

const bad: [string, string[]][] = [
  ['unknown snapshot', ['--snapshot', 'bogus']],
  ['missing modules tree', ['--modules', '/nonexistent/lib/modules/9.9']],
  ['a modules "tree" that is a file', ['--modules', '/etc/hostname']],
];
for (const [what, args] of bad) {
  test(`${what}: the same line and exit 2 from the pool, --inline and stats, before any run`, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'kmodlab-werr-'));
    try {
      const pool = await runCli(['storm', '--cpus', '1,2', '--kernel', 'v6.4', '--out', path.join(out, 'r'), '--no-progress', ...args]);
      const inline = await runCli(['storm', '--cpus', '1,2', '--kernel', 'v6.4', '--inline', '--no-progress', ...args]);
      const stats = await runCli(['stats', '--cpus', '1', ...args]);
      for (const r of [pool, inline, stats]) {
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('#')).length, 1, r.stderr);
      }
      assert.equal(pool.stderr, inline.stderr);
      assert.equal(stats.stderr, pool.stderr);
      assert.doesNotMatch(pool.stderr, /^kmodlab: run /);
      // checked before the sweep: no run was stored
      assert.deepEqual(readdirSync(out), [], 'the result directory was not even made');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

// a plug-in's bad answer or its own exception, met inside a run: one line naming the run and the
// plug-in as the user named it (not the compiled module a worker imports), the same on every path
const plugins: [string, string, string, RegExp][] = [
  ['a .ts plug-in answering "banana"', 'banana.ts', "export default { name: 'banana', *check(ctx: unknown): Generator<unknown, unknown> { return 'banana'; } };\n", /^kmodlab: run run_kvm-guest_c2_v6\.4%2Bbanana_s1 \(seed 1\): policy banana\.ts: check returned "banana": want 0 or a negative errno/],
  ['a .js plug-in that throws', 'throws.js', "export default {\n  name: 'throws',\n  *check(ctx) { throw new TypeError('no such field'); },\n};\n", /^kmodlab: run run_kvm-guest_c2_v6\.4%2Bthrows_s1 \(seed 1\): policy throws\.js:3: threw TypeError: no such field \(in process systemd-udevd-worker-\d+\)\n$/],
  ['a plug-in whose built-in call throws', 'parse.mjs', "export default { name: 'parse', *check(ctx) { return JSON.parse('{'); } };\n", /^kmodlab: run run_kvm-guest_c2_v6\.4%2Bparse_s1 \(seed 1\): policy parse\.mjs:1: threw SyntaxError: /],
];
for (const [what, name, source, line] of plugins) {
  test(`${what}: exit 2, the same line from the pool, --inline, stats and trace`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-werr-'));
    try {
      writeFileSync(path.join(dir, name), source);
      const runs = await Promise.all([
        runCli(['storm', '--cpus', '2', '--kernel', 'v6.4', '--no-progress', '--policy', name], { cwd: dir }),
        runCli(['storm', '--cpus', '2', '--kernel', 'v6.4', '--no-progress', '--inline', '--policy', name], { cwd: dir }),
        runCli(['stats', '--cpus', '2', '--kernel', 'v6.4', '--policy', name], { cwd: dir }),
        runCli(['trace', '--cpus', '2', '--kernel', 'v6.4', '--policy', name, '--out', 't.json'], { cwd: dir }),
      ]);
      for (const r of runs) {
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, line);
        assert.equal(r.stderr, runs[0]!.stderr, 'the same line on every path');
        assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      }
      assert.deepEqual(readdirSync(dir), [name], 'no output of the failed run');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
