/**
 * DOC: the selftest comparison sim vs real (src/experiments/selftest-compare.ts): a run of the
 * fake guest (the v6.1-stable model behind the qemu adapter) set beside sim v6.1-stable, and the
 * comparison's rules — every difference is a finding except a limiter timeout the real kernel's
 * log shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSelftest, compareWithSim, limiterTimeouts } from '../../src/experiments/selftest-compare.js';
import { runQemuSelftest } from '../../src/targets/qemu/selftest.js';
import { GuestSessionError } from '../../src/targets/qemu/session.js';
import { fakeGuest, io, type Fake } from '../targets/qemu/fake-qemu-target.js';

test('--compare: the fake (v6.1-stable) against sim v6.1-stable agrees; a difference is marked', async () => {
  const o = io();
  const run = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0010'], open: fakeGuest().open, keepKernelLog: true, cpus: 2 }, o.io);
  const r = await compareWithSim(run, { name: 'debian-6.1', args: ['-s', '0010'], env: {} });
  assert.equal(r.kind, 'compared');
  // what the CLI does with it
  if (r.kind === 'compared') o.io.stdout(r.text);
  const code = r.kind === 'compared' ? r.exitCode : run.exitCode;
  assert.equal(code, 0);
  assert.match(o.out.join(''), /# --compare: qemu:debian-6\.1 .* vs sim v6\.1-stable/);
  assert.match(o.out.join(''), /no differences: 1 rows agree/);
  const rec = (status: 'pass' | 'fail', v: string) => ({
    target: 't', kernel: 'k', outcome: { state: 'ran' as const, detail: '' }, exitCode: 0, seconds: 1,
    tests: [{ id: '0010', status, runs: 1, okRuns: status === 'pass' ? 1 : 0, results: [`kmod_test_0010=${v}`], failure: null, seconds: 1 }],
  });
  const c = compareSelftest(rec('pass', '-2'), rec('fail', '0'));
  assert.equal(c.unexplained, 2);
  assert.match(c.text, /≠ status; ≠ results/);
});

test('--compare: a limiter timeout in the real log explains an -EINVAL/-ETIME failure, nothing else', () => {
  const rec = (id: string, status: 'pass' | 'fail', v: string) => ({
    target: 't', kernel: 'k', outcome: { state: 'ran' as const, detail: '' }, exitCode: 0, seconds: 1,
    tests: [{ id, status, runs: 1, okRuns: status === 'pass' ? 1 : 0, results: [`kmod_test_${id}=${v}`], failure: null, seconds: 1 }],
  });
  const log = '[ 1145.011311] request_module: modprobe fs-xfs cannot be processed, kmod busy with 50 threads for more than 5 seconds now\n'.repeat(3);
  assert.equal(limiterTimeouts(log), 3);
  const explained = compareSelftest(rec('0009', 'fail', '-22'), rec('0009', 'pass', '0'), { limiterTimeouts: limiterTimeouts(log) });
  assert.equal(explained.unexplained, 0);
  assert.match(explained.text, /~ status \[1\]; ~ results \[1\]/);
  assert.match(explained.text, /expired 3 times/);
  // without the log line, or with another value, it is a finding
  assert.equal(compareSelftest(rec('0009', 'fail', '-22'), rec('0009', 'pass', '0')).unexplained, 2);
  assert.equal(compareSelftest(rec('0009', 'fail', '-12'), rec('0009', 'pass', '0'), { limiterTimeouts: 3 }).unexplained, 2);
});

test('--compare: nothing to compare when the guest never booted', async () => {
  const open: Fake = async () => {
    throw new GuestSessionError({ state: 'boot-failure', detail: 'no agent hello before the boot deadline (last console line: none)' });
  };
  const run = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: [], open }, io().io);
  assert.deepEqual(await compareWithSim(run, { name: 'debian-6.1', args: [], env: {} }), { kind: 'none' });
});
