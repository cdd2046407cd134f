/**
 * DOC: runQemuSelftest (src/targets/qemu/selftest.ts) — the four session outcomes kept apart in
 * the exit code, the logs kept, and --compare — with a fake guest: the simulated kernel behind
 * the Target interface, which can be told to time out, panic or die at the K-th request, or to
 * never boot. The real guest's wire protocol is covered by session.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQemuSelftest, compareSelftest, limiterTimeouts, type QemuSelftestOptions } from '../../../src/targets/qemu/selftest.js';
import { GuestSessionError } from '../../../src/targets/qemu/session.js';
import type { SessionOutcome } from '../../../src/targets/qemu/outcome.js';
import { createSimTarget } from '../../../src/targets/sim.js';
import type { Target } from '../../../src/selftest/target.js';

type Fake = NonNullable<QemuSelftestOptions['open']>;

/** a guest running the v6.1-stable model that fails with `fail` at request number `at` */
function fakeGuest(fail?: { at: number; outcome: SessionOutcome }): { open: Fake; closed: () => boolean } {
  let closed = false;
  const open: Fake = async () => {
    const sim = createSimTarget({ kernel: 'v6.1-stable', machine: 'qemu-tcg', cpus: 2 });
    let n = 0;
    let dead: GuestSessionError | null = null;
    const guard = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      if (dead) throw dead;
      if (fail && ++n >= fail.at) throw (dead = new GuestSessionError(fail.outcome));
      return f(...a);
    };
    const t: Target = {
      name: 'qemu:debian-6.1',
      kernel: '6.1.0-fake',
      preconditions: guard(() => sim.preconditions()),
      loadTestKmod: guard(() => sim.loadTestKmod()),
      readKnob: guard((k: string) => sim.readKnob(k)),
      writeKnob: guard((k: string, d: string) => sim.writeKnob(k, d)),
      modprobe: guard((a: string[]) => sim.modprobe(a)),
      readModprobePath: guard(() => sim.readModprobePath()),
      writeModprobePath: guard((p: string) => sim.writeModprobePath(p)),
      readFile: guard((p: string, o?: { dropCapSyslog?: boolean }) => sim.readFile(p, o)),
      listDir: guard((p: string) => sim.listDir(p)),
      date: guard(() => sim.date()),
      kernelLog: guard(() => sim.kernelLog()),
      close: async () => {
        closed = true;
        await sim.close();
      },
    };
    return Object.assign(t, { outcome: (): SessionOutcome => dead?.outcome ?? { state: 'ran', detail: 'powered off' } }) as Awaited<ReturnType<Fake>>;
  };
  return { open, closed: () => closed };
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: {} } };
}

test('tests ran and passed → 0; the summary names the kernel', async () => {
  const g = fakeGuest();
  const o = io();
  const code = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0001'], open: g.open }, o.io);
  assert.equal(code, 0);
  assert.ok(g.closed());
  assert.match(o.out.join(''), /kmod_test_0001_driver: OK! - Return value: 256 \(MODULE_NOT_FOUND\)/);
  assert.match(o.err.join(''), /qemu:debian-6\.1 \(6\.1\.0-fake\): 1 passed, 0 failed/);
});

test('tests ran and one failed → 1 (0012: "(OE)" vs "(OE)" with an out-of-tree test_module)', async () => {
  const o = io();
  const code = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0012'], open: fakeGuest().open }, o.io);
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
    const code = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0005'], open: g.open, logDir: dir }, o.io);
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
  assert.equal(await runQemuSelftest({ spec: 'qemu:debian-6.1', args: [], open }, o.io), 3);
  assert.match(o.err.join(''), /boot-failure: no agent hello/);
  assert.equal(o.out.join(''), '');
});

test('the kernel log is written to --dmesg, results.json beside the run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmodlab-qst-'));
  const o = io();
  const code = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0003'], open: fakeGuest().open, logDir: dir, dmesg: join(dir, 'd.log') }, o.io);
  assert.equal(code, 0);
  assert.ok(existsSync(join(dir, 'd.log')));
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { tests: { id: string; status: string; results: string[] }[] };
  assert.deepEqual(r.tests.map((t) => [t.id, t.status, t.results]), [['0003', 'pass', ['kmod_test_0003=0']]]);
});

test('--compare: the fake (v6.1-stable) against sim v6.1-stable agrees; a difference is marked', async () => {
  const o = io();
  const code = await runQemuSelftest({ spec: 'qemu:debian-6.1', args: ['-s', '0010'], open: fakeGuest().open, compare: true, cpus: 2 }, o.io);
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

test('compare: load addresses are compared as visible or not, never by value', async () => {
  const { comparableValue } = await import('../../../src/targets/qemu/selftest.js');
  assert.equal(comparableValue("'0xffffffffc0334000' vs '0x0000000000000000'"), "'0x<address>' vs '0x0000000000000000'");
  assert.equal(comparableValue('-22'), '-22');
  assert.equal(comparableValue("'(OE)' vs '(OE)'"), "'(OE)' vs '(OE)'");
});
