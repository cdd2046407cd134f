/**
 * DOC: vCPUs are not CPU capacity (issue 17 item 1). The qemu-tcg guest runs its vCPUs on the
 * calibration host's 2 cores (`hostCpus`): at 8 vCPUs the kernel and udev see 8 CPUs, the CPU
 * pool has 2. Checked against data/calibration/cpu-capacity-debian-6.1.md: kmod.sh 0005, 0006
 * and 0009 on the real debian-6.1 at 2 and 8 vCPUs, per-run time (trigger → "Done:" in the
 * kernel log) 8 vs 2 vCPUs, and 0009's outcome at 8 vCPUs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSelftest } from '../../src/selftest/index.js';
import { createSimTarget } from '../../src/targets/sim.js';
import { createSystem } from '../../src/system/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMachine, machinesDir } from '../../src/userspace/machines/load.js';

const quiet = { line: () => {} };

/**
 * measured per-run slowdown 8 vs 2 vCPUs on the real guest (the runs at load average ≤ 8:
 * 0005 2.52/1.76 s; 0006 16.77/8.82 and 18.48/10.57 s; 0009 21.20/10.97 and 102.73/65.97 s)
 */
const MEASURED_RATIO = { '0005': 1.43, '0006': 1.82, '0009': 1.75 } as const;
/** the model within ±20% of it (the real ratios spread ±10% between two runs on a loaded host) */
const TOLERANCE = 0.2;

interface Run {
  seconds: number;
  timeouts: number;
}

/** each run's trigger → "Done:" time from the kernel log, as the calibration measured it */
function runsOf(log: string): Run[] {
  const runs: Run[] = [];
  let t0: number | null = null;
  let timeouts = 0;
  for (const l of log.split('\n')) {
    const ts = Number(/^\[\s*(\d+\.\d+)\]/.exec(l)?.[1]);
    if (/Number of threads to run/.test(l)) {
      t0 = ts;
      timeouts = 0;
    } else if (/cannot be processed, kmod busy/.test(l)) timeouts++;
    else if (/Done: \d+ threads have all run/.test(l) && t0 !== null) {
      runs.push({ seconds: ts - t0, timeouts });
      t0 = null;
    }
  }
  return runs;
}

async function selftest(cpus: number, args: string[], machine = 'qemu-tcg') {
  const target = createSimTarget({ kernel: 'v6.1-stable', machine, cpus });
  const r = await runSelftest({ target, args, era: 'v5.8', reporter: quiet });
  const runs = runsOf(await target.kernelLog());
  await target.close();
  return { r, runs, median: [...runs.map((x) => x.seconds)].sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)]! };
}

test('qemu-tcg: the kernel and udev see the vCPUs, the CPU pool has the 2 host cores', () => {
  const s2 = createSystem({ machine: 'qemu-tcg', cpus: 2, kernel: 'v6.1-stable' });
  const s8 = createSystem({ machine: 'qemu-tcg', cpus: 8, kernel: 'v6.1-stable' });
  assert.equal(s8.machine.cpus, 8);
  assert.equal(s8.uevents().filter((e) => e.subsystem === 'cpu').length, 8);
  assert.equal(s2.uevents().filter((e) => e.subsystem === 'cpu').length, 2);
  // current udev: min(2·CPUs + 16, RAM / 128 MiB) = min(32, 32) and min(20, 32)
  assert.equal(s8.childrenMax, 32);
  assert.equal(s2.childrenMax, 20);
  assert.equal(s8.cpu.cpus, 2);
  assert.equal(s2.cpu.cpus, 2);
});

for (const [id, args] of [
  ['0005', ['-c', '0005', '3']],
  ['0006', ['-c', '0006', '3']],
] as const) {
  test(`kmod.sh ${id} at 8 vs 2 vCPUs: passes at both, per run ${MEASURED_RATIO[id]}× slower (±${TOLERANCE * 100}%) as measured`, async () => {
    const a = await selftest(2, [...args]);
    const b = await selftest(8, [...args]);
    assert.equal(a.r.exitCode, 0);
    assert.equal(b.r.exitCode, 0);
    assert.equal(b.runs.length, 3);
    const ratio = b.median / a.median;
    assert.ok(Math.abs(ratio / MEASURED_RATIO[id] - 1) <= TOLERANCE, `${id}: ${b.median.toFixed(2)} / ${a.median.toFixed(2)} s = ${ratio.toFixed(2)}, measured ${MEASURED_RATIO[id]}`);
  });
}

test('kmod.sh 0009 at 8 vCPUs fails like the real kernel: limiter timeouts, -EINVAL, and a run as much slower as measured', async () => {
  const a = await selftest(2, ['-c', '0009', '1']);
  const b = await selftest(8, ['-c', '0009', '1']);
  // the real 8-vCPU guest: 10 "kmod busy … more than 5 seconds" per run, test_kmod -EINVAL
  assert.equal(b.r.exitCode, 1);
  assert.equal(b.r.tests.find((t) => t.id === '0009')!.runs.at(-1)!.failure, 'kmod_test_0009: FAIL, test expects SUCCESS (0) - got -EINVAL (-22)');
  assert.ok(b.runs[0]!.timeouts >= 5, `timeouts ${b.runs[0]!.timeouts}`);
  const ratio = b.median / a.median;
  assert.ok(Math.abs(ratio / MEASURED_RATIO['0009'] - 1) <= TOLERANCE, `0009: ${b.median.toFixed(2)} / ${a.median.toFixed(2)} s = ${ratio.toFixed(2)}, measured ${MEASURED_RATIO['0009']}`);
});

test('without hostCpus (8 CPUs of capacity) the same profile runs 0006 faster at 8 vCPUs: outside the measurement', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-cap-'));
  const file = path.join(dir, 'qemu-tcg-no-host.json');
  const raw = JSON.parse(fs.readFileSync(path.join(machinesDir(), 'qemu-tcg.json'), 'utf8')) as Record<string, unknown>;
  delete raw.hostCpus;
  fs.writeFileSync(file, JSON.stringify(raw));
  assert.equal(loadMachine(file).hostCpus, undefined);
  const a = await selftest(2, ['-c', '0006', '2'], file);
  const b = await selftest(8, ['-c', '0006', '2'], file);
  fs.rmSync(dir, { recursive: true, force: true });
  const ratio = b.median / a.median;
  assert.ok(ratio < MEASURED_RATIO['0006'] * (1 - TOLERANCE), `ratio ${ratio.toFixed(2)}`);
});
