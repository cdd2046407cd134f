/**
 * A run that never settles ends, in bounded time, with one line naming the run, its seed and what
 * was still waiting — exit 124 — instead of hanging the sweep or reporting a boot that did not
 * happen (0 loaded, 0 wasted, exit 0): a policy that leaves every load waiting, one that sleeps
 * forever in steps (the virtual-time deadline), one that spins the simulator at one instant (the
 * run's own wall-clock budget), and one that never returns to the simulator at all (V8 stops it
 * a little after the budget: in a worker thread, with --inline, in stats and in trace alike, where
 * nothing else could; Ctrl-C ends it at once on the main thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_TIMEOUT } from '../../src/errors.js';
import { bin, runCli } from './run-cli.js';

/** the line of a run whose policy never returns to the simulator, whichever path ran it */
const LOOPS_LINE =
  /^kmodlab: run run_kvm-guest_c8_v6\.4%2Bloops_s1 \(seed 1\) did not settle: its wall-clock budget of 1 s ran out while systemd-udevd-worker-\d+ had not returned to the simulator \(stopped after 2 s: a policy that loops\?\); 39 of 39 uevents unfinished at t=\d+ns; \d+ processes still waiting: /;
const LOOPS = "export default { name: 'loops', *check(ctx) { try { for (;;) {} } catch { return 0; } } };\n";

const policies: { name: string; check: string; line: RegExp; timeout: string }[] = [
  {
    name: 'waits',
    check: 'yield* ctx.waitFinished({ cond: () => false }); return 0;',
    timeout: '30',
    line: /^kmodlab: run run_kvm-guest_c8_v6\.4%2Bwaits_s1 \(seed 1\) did not settle: nothing left to run; \d+ of 39 uevents unfinished at t=\d+ns; \d+ processes still waiting: systemd-udevd-worker-\d+ \(module_wq:\w+\)/,
  },
  {
    name: 'sleeps',
    check: 'for (;;) yield* ctx.waitFinished({ timeoutNs: 10e9, cond: () => false });',
    timeout: '30',
    line: /^kmodlab: run run_kvm-guest_c8_v6\.4%2Bsleeps_s1 \(seed 1\) did not settle: still busy at its virtual-time deadline of 3600 s; \d+ of 39 uevents unfinished at t=\d+ns; \d+ processes still waiting: systemd-udevd-worker-\d+ \(module_wq:\w+\)/,
  },
  {
    name: 'spins',
    check: 'for (;;) yield* ctx.waitFinished({ timeoutNs: 0, cond: () => false });',
    timeout: '1',
    line: /^kmodlab: run run_kvm-guest_c8_v6\.4%2Bspins_s1 \(seed 1\) did not settle: its wall-clock budget of 1 s ran out; \d+ of 39 uevents unfinished at t=\d+ns; \d+ processes still waiting: /,
  },
  {
    name: 'loops',
    check: 'for (;;) {}',
    timeout: '1',
    line: LOOPS_LINE,
  },
];

for (const p of policies) {
  test(`a policy that ${p.name} forever: exit 124 in bounded time, one line naming the run, its seed and the waiting`, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-watchdog-'));
    try {
      const file = path.join(tmp, `${p.name}.mjs`);
      writeFileSync(file, `export default { name: '${p.name}', *check(ctx) { ${p.check} } };\n`);
      const out = path.join(tmp, 'out');
      const started = Date.now();
      const r = await runCli(['storm', '--cpus', '8', '--kernel', 'v6.4', '--policy', file, '--run-timeout', p.timeout, '--no-progress', '--out', out]);
      const s = (Date.now() - started) / 1000;
      assert.equal(r.status, EXIT_TIMEOUT, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      assert.match(r.stderr, p.line);
      assert.ok(s < 60, `ended after ${s} s`);
      assert.deepEqual(readdirSync(out), ['manifest.json'], 'no record of the run that did not happen');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

// the in-process paths: nothing but V8 can stop code that never returns here, and it must
const inProcess: { name: string; args: (tmp: string) => string[] }[] = [
  { name: 'storm --inline', args: () => ['storm', '--inline', '--cpus', '8', '--kernel', 'v6.4', '--no-progress'] },
  { name: 'stats', args: () => ['stats', '--cpus', '8', '--kernel', 'v6.4'] },
  { name: 'trace', args: (tmp) => ['trace', '--cpus', '8', '--kernel', 'v6.4', '--out', path.join(tmp, 't.json')] },
];

for (const c of inProcess) {
  test(`${c.name}: a policy that loops in its check (even in a try/catch) ends with exit 124 and the named run within bounded time`, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-watchdog-'));
    try {
      const file = path.join(tmp, 'loops.mjs');
      writeFileSync(file, LOOPS);
      const started = Date.now();
      const r = await runCli([...c.args(tmp), '--policy', file, '--run-timeout', '1']);
      const s = (Date.now() - started) / 1000;
      assert.equal(r.status, EXIT_TIMEOUT, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      assert.match(r.stderr, LOOPS_LINE);
      assert.ok(s < 60, `ended after ${s} s`);
      assert.deepEqual(readdirSync(tmp), ['loops.mjs'], 'no output file of the run that did not happen');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  // the runs that never settle while returning to the simulator: the same line as in a worker thread
  test(`${c.name}: policies that wait forever, sleep forever or spin in steps end with exit 124 and the worker's line`, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-watchdog-'));
    try {
      for (const p of policies.filter((x) => x.name !== 'loops')) {
        const file = path.join(tmp, `${p.name}.mjs`);
        writeFileSync(file, `export default { name: '${p.name}', *check(ctx) { ${p.check} } };\n`);
        const started = Date.now();
        const r = await runCli([...c.args(tmp), '--policy', file, '--run-timeout', p.timeout]);
        const s = (Date.now() - started) / 1000;
        assert.equal(r.status, EXIT_TIMEOUT, `${p.name}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.split('\n').length, 2, `${p.name}, one line: ${r.stderr}`);
        assert.match(r.stderr, p.line, p.name);
        assert.ok(s < 60, `${p.name} ended after ${s} s`);
      }
      assert.deepEqual(readdirSync(tmp).sort(), ['sleeps.mjs', 'spins.mjs', 'waits.mjs'], 'no output file of a run that did not happen');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('storm --inline: Ctrl-C stops a policy that loops at once (exit 130), long before its budget', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-watchdog-'));
  try {
    const file = path.join(tmp, 'loops.mjs');
    writeFileSync(file, LOOPS);
    const child = spawn(process.execPath, [bin, 'storm', '--inline', '--cpus', '8', '--kernel', 'v6.4', '--no-progress', '--policy', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // the run is in the policy's loop once the process is up and busy: wait, then Ctrl-C
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const started = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 130, stderr);
    assert.ok(Date.now() - started < 20_000, 'ended soon after Ctrl-C');
    assert.match(stderr, /^kmodlab: interrupted by SIGINT: 0 of 1 runs done/m);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the largest --run-timeout is a budget, not a timer that fires at once (Node\'s timers end at 2^31 - 1 ms)', async () => {
  for (const args of [['storm', '--cpus', '1,2', '--kernel', 'v6.4', '--no-progress', '--format', 'csv'], ['stats', '--cpus', '2']]) {
    const r = await runCli([...args, '--run-timeout', '1000000']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning|did not finish/);
  }
});
