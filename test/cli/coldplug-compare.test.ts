/**
 * --compare's tables on the recorded 2-vCPU debian-6.1 coldplug (test/fixtures/coldplug) against
 * an edited copy of itself as the "sim" side: medians, min–max spread, the ratio, and the
 * per-module notes (per-CPU on one side only, modules on one side only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareTable, moduleTable, simProfileFrom } from '../../src/cli/commands/coldplug.js';
import { captureProfile, coldplugRecord, parseDataPort } from '../../src/targets/qemu/coldplug/record.js';
import { loadMachine } from '../../src/userspace/machines/load.js';
import type { StormRunRecord } from '../../src/results/record.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/coldplug');
const data = parseDataPort(readFileSync(path.join(fixtures, 'debian-6.1-2cpu.data'), 'utf8'));
const sizeTable = JSON.parse(readFileSync(path.join(fixtures, 'debian-6.1-2cpu.sizes.json'), 'utf8')) as Record<string, number>;
const real = coldplugRecord({ data, kernelName: 'debian-6.1', machine: 'm', cpus: 2, seed: 1, kernel: { earlySameNameCheck: false, idempotentFinit: false }, sizes: (p) => (sizeTable[p] ? { file: sizeTable[p]!, image: sizeTable[p]! } : undefined) });

function edited(f: (r: StormRunRecord) => void, seed = 1): StormRunRecord {
  const r = structuredClone(real);
  r.seed = seed;
  f(r);
  return r;
}

test('compare: median with min–max over runs, and sim/real', () => {
  const reals = [real, edited((r) => (r.loadAttempts = 80), 2), edited((r) => (r.loadAttempts = 90), 3)];
  const sim = [edited((r) => { r.loadAttempts = 43; r.source = 'simulated'; })];
  const t = compareTable(reals, sim, [2]);
  const row = t.split('\n').find((l) => l.includes('load attempts'))!;
  assert.match(row, new RegExp(`${real.loadAttempts} \\(80–90\\)\\s+43\\s+${(43 / real.loadAttempts).toFixed(2)}`));
  assert.match(t, /failed EEXIST/);
});

test('module table: a module tried once per vCPU on one side only is named so; one side only is counted', () => {
  const sim = edited((r) => {
    r.loadAttemptsByModule.intel_rapl_common = 1;
    delete r.failuresByModule.intel_rapl_common;
    delete r.loadAttemptsByModule.evdev;
    delete r.failuresByModule.evdev;
    r.loadAttemptsByModule.kvm = 2;
  });
  const t = moduleTable([real], [sim], 2);
  assert.match(t, /^intel_rapl_common\s+2\s+EEXIST 1\s+1\s+-\s+per-CPU on real$/m);
  assert.match(t, /^kvm\s+0\s+-\s+2\s+-\s+sim only$/m);
  assert.match(t, /1 only on real, 1 only in sim/);
});

test('the sim machine is the guest as captured with the base profile\'s timings and the init results the guest showed', () => {
  const captured = captureProfile(data.sections.get('capture')!, { name: 'g', release: '6.1.0-50-amd64', date: 'd', cpus: 2 });
  captured.moduleInit.intel_cstate = { baseNs: 0, perCpuNs: 0, result: -19 };
  captured.moduleInit.nfit = { baseNs: 0, perCpuNs: 0, result: -19 };
  const base = loadMachine('qemu-tcg');
  const p = simProfileFrom(captured, base, { snapshot: 'debian-6.1', kmodVersion: 30, udevVersion: 252 });
  assert.deepEqual(p.cpu, captured.cpu);
  assert.deepEqual(p.devices, captured.devices);
  assert.deepEqual(p.timings, base.timings);
  assert.equal(p.moduleInit.intel_cstate?.result, -19);
  // the init's duration is the base profile's where it states one (qemu-tcg: measured), else its default
  assert.equal(p.moduleInit.intel_cstate?.baseNs, base.moduleInit.intel_cstate!.baseNs);
  assert.equal(p.moduleInit.nfit?.result, -19);
  assert.equal(p.moduleInit.nfit?.baseNs, base.timings.initDefaultNs);
  assert.equal(p.udev.systemdVersion, 252);
});
