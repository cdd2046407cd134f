/**
 * A run that never settles ends, in bounded time, with one line naming the run, its seed and what
 * was still waiting — exit 124 — instead of hanging the sweep or reporting a boot that did not
 * happen (0 loaded, 0 wasted, exit 0): a policy that leaves every load waiting, one that sleeps
 * forever in steps (the virtual-time deadline), one that spins the simulator at one instant (the
 * run's own wall-clock budget), and one that never returns to the simulator at all (the sweep's
 * watchdog stops its worker thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_TIMEOUT } from '../../src/errors.js';
import { runCli } from './run-cli.js';

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
    line: /^kmodlab: run run_kvm-guest_c8_v6\.4%2Bloops_s1 \(machine kvm-guest, cpus 8, kernel v6\.4\+loops, seed 1\) did not finish within 6 s of wall-clock time: its worker thread was stopped/,
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
