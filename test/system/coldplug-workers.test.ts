/**
 * `storm --compare` runs each vCPU count on the guest booted at that count. The guest's RAM grows
 * with its vCPUs and current udev's children_max is RAM / 128 MiB, so the 4-vCPU capture of
 * debian-trixie (2018 MiB: 15 workers) run at 16 vCPUs left a cpu uevent waiting for a worker
 * while the 16-vCPU guest (2703 MiB) had 21: that late worker came to the failing per-CPU drivers
 * after their one shared attempt had failed and made attempts of its own. The real 16-vCPU trace
 * (data/calibration/coldplug/debian-trixie-16cpu.data.log.gz, coldplug-debian-trixie.md): 392
 * finit_module calls, one attempt per failing module, 5.20 MiB of failed attempts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { simProfilesByCpus } from '../../src/cli/commands/coldplug.js';
import { devicesAddedByLoads } from '../../src/metrics/coldplug-trace.js';
import { parseFtrace } from '../../src/metrics/ftrace.js';
import { runPoint } from '../../src/experiments/storm.js';
import { addedByLoads, captureProfile, parseDataPort, parseTriggered } from '../../src/targets/qemu/coldplug/record.js';
import { loadMachine } from '../../src/userspace/machines/load.js';
import type { MachineProfile } from '../../src/userspace/machines/schema.js';
import { applyCapturedTrigger } from '../../src/userspace/machines/trigger.js';
import { children_max } from '../../src/userspace/udevd.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/calibration/coldplug');
const MIB = 2 ** 20;

/** the guest's capture as the command makes it (src/targets/qemu/coldplug/index.ts), on this 2-core host */
function captured(cpus: number): MachineProfile {
  const data = parseDataPort(gunzipSync(readFileSync(path.join(dir, `debian-trixie-${cpus}cpu.data.log.gz`))).toString('utf8'));
  const p = captureProfile(data.sections.get('capture')!, { name: 'debian-trixie-q35', release: '6.12.117+deb13-amd64', date: 'test', cpus });
  applyCapturedTrigger(p, parseTriggered(data.sections.get('triggered'))!, addedByLoads(devicesAddedByLoads(parseFtrace(data.sections.get('trace')!))));
  // the per-CPU drivers that failed -ENODEV in both guests
  for (const m of ['intel_cstate', 'intel_uncore', 'intel_uncore_frequency', 'skx_edac']) p.moduleInit[m] = { baseNs: 0, perCpuNs: 0, result: -19 };
  p.hostCpus = 2;
  return p;
}

test('the sim of each vCPU count runs on the guest booted at that count: its RAM, so udev\'s worker limit', () => {
  const runs = [4, 16].map((cpus) => ({ cpus, profile: captured(cpus), udevVersion: 257 }));
  const m = simProfilesByCpus([...runs, { ...runs[0]!, udevVersion: 1 }], loadMachine('qemu-tcg'), { snapshot: 'debian-6.12', kmodVersion: 34 });
  assert.deepEqual([...m.keys()], [4, 16]);
  assert.equal(m.get(4)!.ramBytes, runs[0]!.profile.ramBytes);
  assert.equal(m.get(16)!.ramBytes, runs[1]!.profile.ramBytes);
  assert.equal(m.get(4)!.udev.systemdVersion, 257, 'the first run of a count');
  assert.equal(children_max('current', 16, m.get(4)!.ramBytes), 15);
  assert.equal(children_max('current', 16, m.get(16)!.ramBytes), 21);
});

test('debian-trixie at 16 vCPUs: on its own capture one attempt per failing per-CPU driver, as on the real guest; on the 4-vCPU capture a late worker retries them', async () => {
  const m = simProfilesByCpus([4, 16].map((cpus) => ({ cpus, profile: captured(cpus), udevVersion: 257 })), loadMachine('qemu-tcg'), { snapshot: 'debian-6.12', kmodVersion: 34 });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-cp-workers-'));
  try {
    const run = async (from: number) => {
      const file = path.join(tmp, `c${from}.json`);
      writeFileSync(file, JSON.stringify(m.get(from)));
      return runPoint({ machine: file, cpus: 16, kernel: 'v6.11', seed: 1 });
    };
    const own = await run(16);
    const four = await run(4);
    const ownBytes = own.failedAttemptBytes ?? 0;
    const fourBytes = four.failedAttemptBytes ?? 0;
    // real: 392 calls, 64 ENODEV, 5.20 MiB failed-attempt bytes (4 attempts, each with its 1 MiB xz dictionary)
    assert.ok(Math.abs(own.loadAttempts / 392 - 1) <= 0.1, `${own.loadAttempts} calls`);
    assert.ok(Math.abs(ownBytes / (5.2 * MIB) - 1) <= 0.1, `${ownBytes / MIB} MiB`);
    for (const mod of ['intel_cstate', 'intel_uncore', 'skx_edac']) assert.deepEqual(own.failuresByModule[mod], { ENODEV: 16 }, mod);
    // one cpu uevent waits for a worker: its walk of the cpu list comes late
    assert.ok(fourBytes > 2 * ownBytes, `${fourBytes / MIB} vs ${ownBytes / MIB} MiB`);
    assert.ok(four.loadAttempts < own.loadAttempts, 'late workers skip the modules already LIVE');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
