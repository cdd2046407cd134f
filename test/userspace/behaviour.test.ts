import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelApi, ModuleBehaviour, Task } from '../../src/kernel/api.js';
import { EBUSY, EEXIST, ENODEV } from '../../src/kernel/errno.js';
import { CpuPool, Sim } from '../../src/sim/index.js';
import { behaviourFactory, PlatformState } from '../../src/userspace/behaviour.js';
import { forCpus, loadMachine, type Machine } from '../../src/userspace/machines/load.js';

/** run the inits of `names` concurrently (or one after the other) and collect their results */
function initOf(machine: Machine, names: string[], fs: Record<string, string[]> = {}, sequential = false) {
  const sim = new Sim();
  const cpu = new CpuPool(sim, machine.cpus);
  const platform = new PlatformState(machine);
  const of = behaviourFactory({ machine, cpu, platform, filesystemsOf: (m) => fs[m] ?? [] });
  const results: Record<string, number> = {};
  const run = (b: ModuleBehaviour, name: string) =>
    sim.spawn(name, (function* () {
      const task: Task = { proc: sim.current!, comm: 'x', capSysModule: true, capSyslog: true };
      results[name] = b.init ? yield* b.init({ task, kernel: {} as KernelApi, module: name, args: '' }) : b.initResult;
    })());
  for (const n of names) {
    run(of(n), n);
    if (sequential) sim.run();
  }
  sim.run();
  return { results, platform, of };
}

test('cpufreq drivers: intel_pstate registered → -EEXIST, ACPI off → -ENODEV, the profile\'s own driver registers first-come', () => {
  const sr950 = forCpus(loadMachine('sr950'), 8);
  assert.deepEqual(initOf(sr950, ['acpi_cpufreq', 'pcc_cpufreq']).results, { acpi_cpufreq: -EEXIST, pcc_cpufreq: -EEXIST });
  const off = { ...sr950, acpi: { ...sr950.acpi, enabled: false } };
  assert.deepEqual(initOf(off, ['acpi_cpufreq', 'pcc_cpufreq']).results, { acpi_cpufreq: -ENODEV, pcc_cpufreq: -ENODEV });
  const acpi = { ...sr950, cpufreq: { driver: 'acpi-cpufreq' } };
  const r = initOf(acpi, ['acpi_cpufreq', 'pcc_cpufreq'], {}, true);
  assert.deepEqual(r.results, { acpi_cpufreq: 0, pcc_cpufreq: -EEXIST });
  assert.equal(r.platform.cpufreqDriver, 'acpi-cpufreq');
  // at the same time: pcc_cpufreq probes, finds no PCCH and gives up before acpi_cpufreq registers
  assert.deepEqual(initOf(acpi, ['acpi_cpufreq', 'pcc_cpufreq']).results, { acpi_cpufreq: 0, pcc_cpufreq: -ENODEV });
  const none = { ...sr950, cpufreq: { driver: 'none' } };
  assert.deepEqual(initOf(none, ['acpi_cpufreq']).results, { acpi_cpufreq: -ENODEV });
});

test('EDAC drivers are exclusive; in a guest they find no memory controller', () => {
  const sr950 = forCpus(loadMachine('sr950'), 8);
  const r = initOf(sr950, ['skx_edac', 'i10nm_edac'], {}, true);
  assert.deepEqual(r.results, { skx_edac: 0, i10nm_edac: -EBUSY });
  assert.equal(r.platform.edacOwner, 'skx_edac');
  // concurrently, the one whose init finishes first owns the core
  assert.deepEqual(initOf(sr950, ['skx_edac', 'i10nm_edac']).results, { skx_edac: -EBUSY, i10nm_edac: 0 });
  const guest = forCpus(loadMachine('kvm-guest'), 8);
  assert.deepEqual(initOf(guest, ['sb_edac']).results, { sb_edac: -ENODEV });
});

test('init durations grow with the CPU count where the profile says so; fs aliases become registrations', () => {
  const at = (cpus: number) => initOf(forCpus(loadMachine('kvm-guest'), cpus), [], { xfs: ['xfs'] }).of;
  assert.equal(at(8)('kvm_intel').initCpuNs, 20_000_000 + 8 * 500_000);
  assert.equal(at(255)('kvm_intel').initCpuNs, 20_000_000 + 255 * 500_000);
  assert.deepEqual(at(8)('xfs').registersFs, ['xfs']);
  assert.equal(at(8)('intel_cstate').initResult, -ENODEV);
  assert.equal(at(8)('virtio_net').initResult, 0);
});
