/**
 * A device a module's init creates gets its "add" uevent then, not at the trigger: the simulated
 * coldplug of debian-6.1's captured guest (data/calibration/coldplug/debian-6.1-2cpu-devadd.data.log.gz,
 * run at 8 CPUs with qemu-tcg's timings as `storm --compare` runs it). The real 8-vCPU traces
 * (data/calibration/coldplug-debian-6.1.md) show intel_rapl_common tried by every cpu worker —
 * it is the last entry of the cpu modalias's module list — and intel_rapl_msr loaded once,
 * after intel_rapl_common's init added its platform device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { simProfileFrom } from '../../src/cli/commands/coldplug.js';
import { LoadCounter } from '../../src/metrics/loads.js';
import { observeSimLog } from '../../src/metrics/sim.js';
import { isUdevWorker } from '../../src/metrics/storm.js';
import { devicesAddedByLoads } from '../../src/metrics/coldplug-trace.js';
import { parseFtrace } from '../../src/metrics/ftrace.js';
import { createSystem } from '../../src/system/index.js';
import { addedByLoads, captureProfile, parseDataPort, parseTriggered } from '../../src/targets/qemu/coldplug/record.js';
import { loadMachine } from '../../src/userspace/machines/load.js';
import type { MachineProfile } from '../../src/userspace/machines/schema.js';
import { applyCapturedTrigger } from '../../src/userspace/machines/trigger.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/calibration/coldplug/debian-6.1-2cpu-devadd.data.log.gz');
const data = parseDataPort(gunzipSync(readFileSync(file)).toString('utf8'));

function guest(): MachineProfile {
  const p = captureProfile(data.sections.get('capture')!, { name: 'debian-6.1-q35', release: '6.1.0-50-amd64', date: 'test', cpus: 2 });
  applyCapturedTrigger(p, parseTriggered(data.sections.get('triggered'))!, addedByLoads(devicesAddedByLoads(parseFtrace(data.sections.get('trace')!))));
  p.moduleInit = { acpi_cpufreq: { baseNs: 0, perCpuNs: 0, result: -19 }, pcc_cpufreq: { baseNs: 0, perCpuNs: 0, result: -19 } };
  return simProfileFrom(p, loadMachine('qemu-tcg'), { snapshot: 'debian-6.1', kmodVersion: 30, udevVersion: 252 });
}

function coldplug(profile: MachineProfile, cpus: number) {
  const s = createSystem({ machine: profile, cpus, kernel: 'v6.1-stable', seed: 1 });
  const loads = new LoadCounter(isUdevWorker);
  observeSimLog(s.sim.log, loads.observe);
  const initStart = new Map<string, number>();
  const firstFinit = new Map<string, number>();
  s.sim.log.on((r) => {
    const m = r.fields.module as string | undefined;
    if (m === undefined) return;
    if (r.kind === 'init' && r.fields.phase === 'start' && !initStart.has(m)) initStart.set(m, r.t);
    if (r.kind === 'finit' && r.fields.phase === 'enter' && !firstFinit.has(m)) firstFinit.set(m, r.t);
  });
  const st = s.runColdplug();
  return { st, loads, initStart, firstFinit };
}

test('intel_rapl_msr\'s device comes from intel_rapl_common\'s init: its load follows that init, and the cpu workers try intel_rapl_common', () => {
  const profile = guest();
  const { st, loads, initStart, firstFinit } = coldplug(profile, 8);
  assert.ok(firstFinit.get('intel_rapl_msr')! > initStart.get('intel_rapl_common')!, 'intel_rapl_msr is loaded after intel_rapl_common\'s init began');
  // the cpu workers reach it, not one platform-device worker (real 8-vCPU boots: 1, 5, 6, 7, 5 tries):
  // those that arrive while the first load runs get -EEXIST, the others find it LIVE
  const tries = loads.attempts.intel_rapl_common!;
  assert.ok(tries > 1 && tries <= 8, `tries ${tries}`);
  assert.deepEqual(loads.failures.intel_rapl_common, { EEXIST: tries - 1 });
  assert.equal(loads.attempts.intel_rapl_msr, 1);
  // lpc_ich's watchdog cell: iTCO_wdt only once lpc_ich's init ran
  assert.ok(firstFinit.get('iTCO_wdt')! > initStart.get('lpc_ich')!);
  // settle waited for the kernel's events too: each created device's event was handled
  const created = profile.devices.filter((d) => typeof d !== 'string' && d.createdBy !== undefined).length;
  assert.equal(created, 6);
  assert.equal(st.finished, st.uevents + created);
  assert.equal(st.insertedByModule.intel_rapl_msr, 1);
});

test('the same machine with its devices all present at the trigger (no createdBy): intel_rapl_msr pulls intel_rapl_common in early and it is tried once', () => {
  const profile = guest();
  profile.devices = profile.devices.map((d) => {
    if (typeof d === 'string') return d;
    const { createdBy: _drop, ...rest } = d;
    return rest;
  });
  const { loads } = coldplug(profile, 8);
  // the model before createdBy (the calibration's table: 1 try in sim, 8 on real): the platform
  // device's worker loads intel_rapl_common as intel_rapl_msr's dependency long before the cpu
  // workers reach the end of their list, and they all find it LIVE
  assert.equal(loads.attempts.intel_rapl_common, 1);
});
