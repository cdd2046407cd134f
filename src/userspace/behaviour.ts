/**
 * DOC: what each module's init function does on one machine (ModuleBehaviour).
 *
 * Behaviour is not a property of the .ko file but of the machine it is loaded on: how long init
 * runs (the profile's moduleInit, base + perCpu·N for modules like kvm_intel that do per-CPU
 * hardware setup), and what it returns. Most modules return 0 or what the profile says. A few
 * are *exclusive* and decide their result from the platform at the moment they run (spec §8.3):
 *
 * - acpi_cpufreq / pcc_cpufreq: -ENODEV with ACPI off; -EEXIST if any cpufreq driver is already
 *   registered (intel_pstate is built in and registered before any module loads; or the other of
 *   the two got there first); then the profile's result if it gives one; otherwise they register
 *   if the profile names them as the machine's cpufreq driver, and -ENODEV (no _PSS / no PCCH)
 *   if it does not.
 * - EDAC drivers (*_edac): only one may own the EDAC core; a later one gets -EBUSY; then the
 *   profile's result; without one, in a guest (CPU feature "hypervisor") there is no memory
 *   controller to drive: -ENODEV; else the driver becomes the owner.
 *
 * Filesystems: a module that declares the alias fs-NAME registers NAME from its init (xfs
 * registers "xfs", btrfs "btrfs"), which is what get_fs_type() looks for after request_module.
 *
 * Devices: a module whose load creates devices (the profile's `createdBy`: intel_rapl_common's
 * init adds the intel_rapl_msr platform device, virtio_pci's probe the virtio devices) adds them
 * from its init; the kernel sends their "add" uevents as init finishes (addsDevices).
 *
 * The platform registries (PlatformState) belong to one simulated machine; init functions that
 * consult them are `init` hooks, which spend their CPU time on the machine's CpuPool themselves.
 */
import type { KernelUevent, ModuleBehaviour, ModuleInitContext } from '../kernel/api.js';
import { EBUSY, EEXIST, ENODEV } from '../kernel/errno.js';
import type { CpuPool, Proc } from '../sim/index.js';
import { createdDevices, type Uevent } from './machines/coldplug.js';
import { initDurationNs, initResult, type Machine } from './machines/load.js';

/** What early-failing init paths cost (a check and a return) */
const EARLY_FAIL_NS = 20_000;

/** Kernel names of cpufreq drivers vs the module names that provide them. */
const CPUFREQ_MODULES: Record<string, string> = { acpi_cpufreq: 'acpi-cpufreq', pcc_cpufreq: 'pcc-cpufreq' };

/** Registries a module init consults: one per simulated machine. */
export class PlatformState {
  /** the registered cpufreq driver (cpufreq_register_driver), null if none */
  cpufreqDriver: string | null;
  /** the module owning the EDAC core (edac_get_owner), null if none */
  edacOwner: string | null = null;
  readonly acpi: boolean;
  /** the cpufreq driver the profile says this machine ends up with (kernel spelling, '-' kept) */
  readonly profileCpufreq: string;
  readonly guest: boolean;

  constructor(machine: Machine) {
    this.acpi = machine.acpi.enabled;
    this.profileCpufreq = machine.cpufreq.driver;
    // built-in drivers (intel_pstate, amd-pstate) are registered before userspace starts; the
    // modular ones register only when their module's init succeeds
    const modular = Object.values(CPUFREQ_MODULES).includes(this.profileCpufreq) || this.profileCpufreq === 'none';
    this.cpufreqDriver = modular ? null : this.profileCpufreq;
    this.guest = machine.cpu.features.includes('hypervisor');
  }
}

export function isEdacDriver(name: string): boolean {
  return name.endsWith('_edac') && name !== 'edac_core' && name !== 'ghes_edac';
}

export interface BehaviourFactoryOptions {
  machine: Machine;
  cpu: CpuPool;
  platform: PlatformState;
  /** filesystems a module registers: from its fs-NAME aliases */
  filesystemsOf: (module: string) => string[];
  /** explicit behaviours that win over everything (test_kmod's driver, experiments) */
  overrides?: ReadonlyMap<string, ModuleBehaviour>;
}

/** Returns the behaviour maker for one machine (cached per module name). */
export function behaviourFactory(o: BehaviourFactoryOptions): (module: string) => ModuleBehaviour {
  const cache = new Map<string, ModuleBehaviour>();
  const created = createdDevices(o.machine);
  return (module) => {
    let b = cache.get(module);
    if (b === undefined) {
      b = o.overrides?.get(module) ?? makeBehaviour(module, o);
      const devices = created.get(module);
      if (devices !== undefined && b.addsDevices === undefined) b = { ...b, addsDevices: devices.map(kernelUevent) };
      cache.set(module, b);
    }
    return b;
  };
}

function makeBehaviour(module: string, o: BehaviourFactoryOptions): ModuleBehaviour {
  const { machine, cpu, platform } = o;
  const duration = initDurationNs(machine, module);
  // the profile's result: what init returns when nothing else decides (no hardware → -ENODEV)
  const fixed = initResult(machine, module);
  const fs = o.filesystemsOf(module);
  const base: ModuleBehaviour = { initCpuNs: duration, initSleepNs: 0, initResult: fixed ?? 0, exitCpuNs: 20_000 };
  if (fs.length > 0) base.registersFs = fs;

  const driver = CPUFREQ_MODULES[module];
  if (driver !== undefined) {
    base.init = function* cpufreqInit(_ctx: ModuleInitContext): Proc<number> {
      if (!platform.acpi) return yield* early(cpu, -ENODEV);
      if (platform.cpufreqDriver !== null) return yield* early(cpu, -EEXIST);
      yield* cpu.compute(duration);
      if (fixed !== undefined && fixed !== 0) return fixed;
      // no ACPI P-state objects (_PSS) / no PCCH: the driver finds nothing to drive
      if (fixed === undefined && platform.profileCpufreq !== driver) return -ENODEV;
      // cpufreq_register_driver() under its lock: a driver that registered meanwhile wins
      if (platform.cpufreqDriver !== null) return -EEXIST;
      platform.cpufreqDriver = driver;
      return 0;
    };
    base.initResult = !platform.acpi ? -ENODEV : platform.cpufreqDriver !== null ? -EEXIST : (fixed ?? (platform.profileCpufreq === driver ? 0 : -ENODEV));
    return base;
  }

  if (isEdacDriver(module)) {
    base.init = function* edacInit(_ctx: ModuleInitContext): Proc<number> {
      if (platform.edacOwner !== null && platform.edacOwner !== module) return yield* early(cpu, -EBUSY);
      if (fixed !== undefined && fixed !== 0) return yield* early(cpu, fixed);
      if (fixed === undefined && platform.guest) return yield* early(cpu, -ENODEV);
      yield* cpu.compute(duration);
      if (platform.edacOwner !== null && platform.edacOwner !== module) return -EBUSY;
      platform.edacOwner = module;
      return 0;
    };
    base.initResult = fixed ?? (platform.guest ? -ENODEV : 0);
  }
  return base;
}

/** a profile device as the uevent device_add() sends (MODALIAS and the rest in its environment) */
export function kernelUevent(ev: Uevent): KernelUevent {
  const env: Record<string, string> = { ...ev.properties };
  if (ev.devtype !== undefined) env.DEVTYPE = ev.devtype;
  if (ev.driver !== undefined) env.DRIVER = ev.driver;
  if (ev.modalias !== '') env.MODALIAS = ev.modalias;
  return { action: 'add', devpath: ev.devpath, subsystem: ev.subsystem, env };
}

function* early(cpu: CpuPool, r: number): Proc<number> {
  yield* cpu.compute(EARLY_FAIL_NS);
  return r;
}
