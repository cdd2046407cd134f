/**
 * DOC: the machine profile — everything about a machine that decides a boot's module-load storm
 * and is not a property of the kernel or of the module files.
 *
 * CPU count (a default the user overrides), the CPU identity and features (they decide which
 * x86cpu aliases match every CPU's uevent), ACPI and its processor devices, the platform's other
 * devices (modaliases), the cpufreq driver already in use (it makes acpi_cpufreq/pcc_cpufreq fail
 * with -EEXIST), RAM (udev's children_max), the userspace flavours, and timings. Timings are
 * integer nanoseconds or bytes per second; `cpuTimingOverrides` replaces some of them from a CPU
 * count up (single operations an emulated guest does slower with more vCPUs; vCPUs sharing
 * fewer host cores is `hostCpus`, the CPU pool's capacity, not an override), and `moduleInit` gives a
 * module's init duration as base + perCpu·N for modules whose init does per-CPU work.
 * Profiles are JSON files in data/machines/, validated here with zod. The schemas are built on
 * first use with zod's CommonJS build (a synchronous load), so a command that validates no
 * profile file — the shipped ones are known by checksum (shipped.ts) — never loads zod.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { featureNumber } from './cpufeatures.js';

export const X86_VENDORS = { intel: 0, cyrix: 1, amd: 2, umc: 3, centaur: 5, transmeta: 7, nsc: 8, hygon: 9, zhaoxin: 10 } as const;
export type X86Vendor = keyof typeof X86_VENDORS;

function buildSchemas(z: typeof Zod) {
  const ns = z.number().int().nonnegative();
  const bytesPerSec = z.number().int().positive();


  const timingsSchema = z.strictObject({
    /** fork + exec of a small program (the calibration's `true`) */
    forkExecNs: ns,
    /**
     * kthread_run(): kthreadd forking a kernel thread, CPU time. Decides how many of test_kmod's
     * threads overlap (0008's 58 requests exceed v4.9's 50 only if they are created faster than
     * modprobe finishes). Default forkExecNs / 10.
     */
    kthreadCreateNs: ns.optional(),
    /** a modprobe run up to its lookup result: fork+exec, libkmod context, config, index load, lookup */
    modprobeStartNs: ns,
    /** libkmod reading /sys/module/NAME/initstate (or finding it absent) */
    initstateReadNs: ns,
    /** opening the module file */
    fileOpenNs: ns,
    /** kernel_read_file(): bytes of the file per second */
    kernelReadBytesPerSec: bytesPerSec,
    /** decompression (kmod in userspace or the kernel): image bytes produced per second */
    decompressBytesPerSec: bytesPerSec,
    /** module_sig_check(): the fixed part (PKCS#7 verification) for a signed module */
    sigCheckNs: ns,
    /** module_sig_check(): hashing, image bytes per second */
    sigHashBytesPerSec: bytesPerSec,
    /** ELF checks + layout_and_allocate + copying sections: image bytes per second */
    layoutBytesPerSec: bytesPerSec,
    /** simplify_symbols + apply_relocations + module_finalize: image bytes per second */
    relocBytesPerSec: bytesPerSec,
    /** call_usermodehelper: from queueing the work to the helper's exec */
    umhSpawnNs: ns,
    /** a module's init function when moduleInit does not name it */
    initDefaultNs: ns,
    /**
     * udev's per-event costs where measured (unset: estimated from initstateReadNs): udevadm
     * trigger writing one uevent file, udevd's main process handing an event over, a worker running
     * the rules for one event (besides its builtin kmod)
     */
    udevTriggerNs: ns.optional(),
    udevDispatchNs: ns.optional(),
    udevRuleNs: ns.optional(),
    /**
     * one kernel TLB shootdown under vmap_purge_lock (each set_memory_*() call of a load's RWX
     * steps, each vfree of module memory): the fixed part and the part per online CPU (the IPIs).
     * Unset: not modelled
     */
    tlbFlushNs: ns.optional(),
    tlbFlushPerCpuNs: ns.optional(),
    /**
     * one synchronize_rcu() grace period (a failed init's wait in GOING before module_free, the
     * free of init memory). Unset: the kernel's default
     */
    rcuGracePeriodNs: ns.optional(),
    /** free_module()'s synchronize_rcu() with module_mutex held. Unset: not modelled */
    freeModuleSyncRcuNs: ns.optional(),
    /**
     * a woken task's wake→run time as measured, its values at 0, 5, … 95, 99 and 100 % (22,
     * non-decreasing): a module_mutex waiter's and a woken module_wq sleeper's. Unset: FIFO hand-off
     */
    mutexWakeQuantilesNs: z
      .array(ns)
      .length(22)
      .refine((v) => v.every((x, i) => i === 0 || x >= v[i - 1]!), 'must be non-decreasing')
      .optional(),
  });

  const moduleInitSchema = z.strictObject({
    baseNs: ns,
    /** extra init time per online CPU (kvm's per-CPU hardware setup, per-CPU caches) */
    perCpuNs: ns.default(0),
    /** what init returns on this machine when not derived from cpufreq/ACPI: 0 or -errno (e.g. -19 ENODEV) */
    result: z.number().int().max(0).min(-4095).optional(),
  });

  const deviceSchema = z.union([
    z.string().min(1),
    z.strictObject({
      modalias: z.string().min(1),
      devpath: z.string().startsWith('/sys/devices/').optional(),
      subsystem: z.string().min(1).optional(),
      /** the uevent's DEVTYPE (udev rules match on it: Debian loads sg for every scsi_device) */
      devtype: z.string().min(1).optional(),
      /** the driver bound when the event is handled */
      driver: z.string().min(1).optional(),
      /** other uevent properties udev's module-loading rules match on */
      properties: z.record(z.string().regex(/^[A-Z0-9_]+$/), z.string()).optional(),
      /**
       * the module whose load creates the device (intel_rapl_common's init adds intel_rapl_msr.0,
       * virtio_pci's probe virtio0): it is not there at the trigger, and its "add" uevent comes
       * when that module's init runs
       */
      createdBy: z.string().regex(/^[A-Za-z0-9_]+$/, 'a module name with "_" (not "-")').optional(),
    }),
  ]);

  /** one uevent of the trigger that carries no MODALIAS (a class device, a bus, a driver) */
  const plainEventSchema = z.strictObject({
    /** its syspath; "%d" in a per-CPU device's (machinecheck%d): one event per CPU */
    devpath: z.string().startsWith('/sys/'),
    subsystem: z.string().min(1).optional(),
  });

  const machineSchema = z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_", "-"'),
      description: z.string().min(1),
      cpus: z.number().int().min(1).max(8192),
      /**
       * the physical CPUs that run the vCPUs, when fewer: a TCG guest on a 2-core host has `cpus`
       * CPUs for the kernel, udev and test_kmod to see, but 2 CPUs' worth of work gets done
       * (unset: every CPU is a real one)
       */
      hostCpus: z.number().int().min(1).max(8192).optional(),
      ramBytes: z.number().int().positive(),
      /**
       * RAM that comes with each CPU when the profile is run at another CPU count (a VM sized per
       * vCPU): RAM = max(ramBytes, cpus × ramBytesPerCpu). It matters because current udev's
       * children_max is capped by RAM / 128 MiB.
       */
      ramBytesPerCpu: z.number().int().positive().optional(),
      cpu: z.strictObject({
        vendor: z.enum(Object.keys(X86_VENDORS) as [X86Vendor, ...X86Vendor[]]),
        family: z.number().int().min(0).max(0xffff),
        model: z.number().int().min(0).max(0xffff),
        /** /proc/cpuinfo names, kernel feature numbers, or "0x85"-style hex numbers */
        features: z.array(z.union([z.string(), z.number()])),
        /** use this modalias verbatim instead of building it (non-x86 hosts, exotic formats) */
        modalias: z.string().startsWith('cpu:type:').optional(),
      }),
      acpi: z.strictObject({
        enabled: z.boolean(),
        /** the _HID of the processor devices: Device(ACPI0007) objects or legacy Processor() (LNXCPU) */
        processorHid: z.enum(['ACPI0007', 'LNXCPU']).default('ACPI0007'),
        /** the sysfs directory the processor devices sit in (captured: q35 puts LNXCPU under ACPI0010:00) */
        processorParent: z.string().startsWith('/sys/devices/').optional(),
      }),
      /** the cpufreq driver registered when modules are loaded: intel_pstate, acpi-cpufreq, amd-pstate, none, ... */
      cpufreq: z.strictObject({ driver: z.string().min(1) }),
      /** the platform's other devices (one coldplug uevent each) */
      devices: z.array(deviceSchema),
      /**
       * what `udevadm trigger` emits besides the devices with a MODALIAS (captured from a real
       * trigger): the `--type=subsystems` pass (every bus, bus driver and module directory, emitted
       * first) and the devices without one. Neither loads a module, but each costs udevd a dispatch
       * and a worker's rule run, between the events that do. Unset: only the MODALIAS events.
       */
      trigger: z
        .strictObject({
          subsystems: z.array(plainEventSchema),
          devices: z.array(plainEventSchema),
        })
        .optional(),
      /** module-set snapshot name (data/modules/<name>.json.gz) */
      moduleSet: z.string().min(1).default('debian-6.1'),
      /** a real module tree to use instead (set by `machines capture` when the host has one) */
      modulesDir: z.string().optional(),
      udev: z.strictObject({
        /** children_max formula: old udevd 8 + 2·CPUs; current systemd min(2·CPUs + 16, max(RAM/128 MiB, 10), 2048) */
        flavour: z.enum(['old', 'current']),
        systemdVersion: z.number().int().positive().optional(),
        /** udev.children_max= / udev.conf override */
        childrenMax: z.number().int().positive().optional(),
      }),
      kmod: z.strictObject({ version: z.number().int().positive() }),
      timings: timingsSchema,
      moduleInit: z.record(z.string().regex(/^[A-Za-z0-9_]+$/, 'a module name with "_" (not "-")'), moduleInitSchema).default({}),
      cpuTimingOverrides: z
        .array(
          z.strictObject({
            minCpus: z.number().int().min(1),
            timings: timingsSchema.partial().default({}),
            moduleInit: z.record(z.string(), moduleInitSchema).default({}),
          }),
        )
        .default([]),
      /** where the numbers come from */
      notes: z.array(z.string()).default([]),
      captured: z
        .strictObject({
          date: z.string(),
          release: z.string(),
          modulesDirExists: z.boolean(),
          cpuModalias: z.string().optional(),
          /** the module-loading udev rules ("FILE:LINE") the captured devices' add events hit, and how many */
          udevRuleHits: z.record(z.string(), z.number().int().positive()).optional(),
        })
        .optional(),
    })
    .superRefine((m, ctx) => {
      m.cpu.features.forEach((f, i) => {
        if (featureNumber(f) === undefined)
          ctx.addIssue({ code: 'custom', path: ['cpu', 'features', i], message: `unknown CPU feature ${JSON.stringify(f)} (use a /proc/cpuinfo name or a number)` });
      });
    });
  return { timingsSchema, moduleInitSchema, machineSchema };
}

type MachineSchemas = ReturnType<typeof buildSchemas>;
let schemas: MachineSchemas | undefined;

/** the profile schemas (zod loaded and the schemas built on the first call) */
export function machineSchemas(): MachineSchemas {
  return (schemas ??= buildSchemas((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z));
}

export type Timings = Zod.infer<MachineSchemas['timingsSchema']>;

/** A profile as written in a file (defaults not yet applied). */
export type MachineProfileInput = Zod.input<MachineSchemas['machineSchema']>;
/** A validated profile with defaults applied. */
export type MachineProfile = Zod.output<MachineSchemas['machineSchema']>;
