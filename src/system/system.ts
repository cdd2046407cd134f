/**
 * DOC: one simulated machine, assembled — kernel, CPUs, files, modprobe and udevd.
 *
 * Why it exists: the selftest's sim target and the storm both need "a machine booted with
 * kernel preset K, machine profile M at N CPUs, module set S": a Sim, a CpuPool of N CPUs shared
 * by the kernel and userspace, the kernel built with the profile's timings, a file system holding
 * the module tree (plus test_module.ko and test_kmod.ko under extra/) and /sbin/modprobe (a
 * symlink to /bin/kmod, as on Debian), the usermode-helper host that execs it for
 * request_module, and udevd for coldplug. Everything here is wiring; the behaviour lives in
 * src/kernel/ and src/userspace/.
 *
 * Module behaviour (init durations and results) comes from the machine profile via
 * userspace/behaviour.ts; `behaviours` replaces it for named modules (experiments, tests).
 */
import { createKernel, type Kernel, type KernelFlags, type KernelOptions, type KernelPreset, type ModuleBehaviour, type ModuleImage, type UsermodeHelperHost } from '../kernel/index.js';
import { CpuPool, Sim, type CpuPlacement, type Proc, type Process, type TieBreak } from '../sim/index.js';
import { testKmodModule, type TestKmodModule, type TestKmodModuleOptions } from '../testkmod/module.js';
import { behaviourFactory, PlatformState } from '../userspace/behaviour.js';
import { loadSnapshot, SNAPSHOT_NAMES } from '../userspace/depmod/snapshot.js';
import { joinPath, ModuleFs } from '../userspace/fs.js';
import { KmodIndex, type KmodConfig, type KmodHost } from '../userspace/libkmod.js';
import { coldplugDevices } from '../userspace/machines/coldplug.js';
import { forCpus, loadMachine, type Machine } from '../userspace/machines/load.js';
import type { MachineProfile } from '../userspace/machines/schema.js';
import { modprobeProgram, runModprobe, type ModprobeEnv, type ModprobeResult } from '../userspace/modprobe.js';
import type { AliasEntry, ModuleInfo, ModuleSet } from '../userspace/moduleset.js';
import { udevRulesFor, type UdevRules } from '../userspace/udev-rules/index.js';
import { loadModuleSlice, SlicedKmodIndex } from './module-slice.js';
import { children_max, Udevd, type ColdplugStats, type UdevFlavour, type UdevTimings, type Uevent } from '../userspace/udevd.js';

export interface SystemOptions {
  /** machine profile: a name in data/machines, a path, or a profile object (default 'qemu-tcg') */
  machine?: string | MachineProfile;
  /** CPU count (default the profile's) */
  cpus?: number;
  /** kernel preset name or object (default 'newest') */
  kernel?: string | KernelPreset;
  kernelFlags?: Partial<KernelFlags>;
  /** anything else createKernel takes (memory sizes, sig_enforce, moduleCompression, policy, …) */
  kernelOptions?: Omit<KernelOptions, 'preset' | 'flags' | 'cpu' | 'umh'>;
  /** module set object, or snapshot name/path (default the profile's moduleSet) */
  modules?: ModuleSet | string;
  /**
   * a shipped snapshot is read only when something looks up a name its shipped slice does not
   * answer (./module-slice.ts: kmod.sh's names and the shipped machines' coldplug names); the
   * answers are the same (default false; KMODLAB_FULL_INDEX=1 in the environment turns it off)
   */
  moduleSlice?: boolean;
  seed?: number;
  /** keep the typed event log */
  log?: boolean;
  /** the order of events at equal virtual time (the explorer's chooser; default FIFO) */
  tieBreak?: TieBreak;
  /** who gets a freed CPU when several processes wait for one (the explorer's chooser; default FIFO) */
  cpuPlacement?: CpuPlacement;
  /** relative ± jitter on userspace and kernel CPU costs, from the seeded "userspace" and "kernel" streams (default 0.2; 0 = exact) */
  jitter?: number;
  /** kmod version of the userspace (default the profile's) */
  kmodVersion?: number;
  /** /etc/modprobe.d */
  modprobeConfig?: KmodConfig;
  /** behaviours that replace the profile's for these modules */
  behaviours?: Record<string, ModuleBehaviour>;
  /** the test_kmod driver model (default testKmodModule() on this machine's CPUs) */
  testKmod?: TestKmodModule;
  /** options for the default test_kmod model (show format, limits) */
  testKmodOptions?: TestKmodModuleOptions;
  /** install test_module.ko and test_kmod.ko under extra/ (default true) */
  testModules?: boolean;
  /** more module files (under the tree, by their path) and their aliases */
  extraModules?: ModuleInfo[];
  extraAliases?: AliasEntry[];
  udev?: {
    flavour?: UdevFlavour;
    childrenMax?: number;
    timings?: Partial<UdevTimings>;
    keepJournal?: boolean;
    /** the module-loading rules (default: the shipped set of the profile's udev.systemdVersion) */
    rules?: UdevRules;
  };
}

export interface ColdplugOptions {
  /** uevents to replay (default: every device of the profile at the system's CPU count) */
  events?: Uevent[];
  keepJournal?: boolean;
  /** virtual time (ns) the run may not pass: a boot still busy then is stopped soon after (within 4096 events) */
  untilNs?: number;
  /** checked now and then (every few thousand events): false stops the run where it is (a wall-clock watchdog) */
  keepGoing?: () => boolean;
  /** called with udevd once it started: a caller whose run is stopped from outside (a wall-clock watchdog) still reads its stats */
  started?: (udevd: Udevd) => void;
}

export interface System {
  sim: Sim;
  cpu: CpuPool;
  kernel: Kernel;
  fs: ModuleFs;
  /** the shared read-only index of /lib/modules/<release> */
  index: KmodIndex;
  machine: Machine;
  /** the whole module set (read on first use when the machine runs on a slice) */
  moduleSet: ModuleSet;
  /** the module set's release and module count, without reading a set the slice stands for */
  moduleSetSummary: { release: string; modules: number };
  platform: PlatformState;
  kmodVersion: number;
  /** what modprobe processes run with */
  modprobeEnv: ModprobeEnv;
  /** the usermode-helper host plugged into the kernel */
  umh: UsermodeHelperHost;
  testKmod: TestKmodModule;
  /** udev timings in effect */
  udevTimings: UdevTimings;
  /** udevd's worker limit on this machine */
  childrenMax: number;
  /** start `modprobe ARGS…` as a process now */
  modprobe(args: readonly string[]): Process<ModprobeResult>;
  /** `modprobe ARGS…` from inside a simulated process */
  runModprobe(args: readonly string[]): Proc<ModprobeResult>;
  /** the coldplug uevents of the profile at this CPU count */
  uevents(): Uevent[];
  /** start udevd and `udevadm trigger --action=add` now */
  coldplug(opts?: ColdplugOptions): Udevd;
  /** coldplug, run the simulation until nothing is left to do, return the stats */
  runColdplug(opts?: ColdplugOptions): ColdplugStats;
}

/** test_module.ko / test_kmod.ko as built out of tree (unsigned); sizes of the right order */
export const TEST_MODULES: readonly ModuleInfo[] = [
  { name: 'test_module', path: 'extra/test_module.ko', fileSize: 12_288, compression: 'none', imageSize: 12_288, signed: false, deps: [], softdeps: { pre: [], post: [] } },
  { name: 'test_kmod', path: 'extra/test_kmod.ko', fileSize: 61_440, compression: 'none', imageSize: 61_440, signed: false, deps: [], softdeps: { pre: [], post: [] } },
];

/** the kernel's timings from a machine profile's */
export function kernelTimingsOf(m: Machine): NonNullable<KernelOptions['timings']> {
  const t = m.timings;
  const xz = t.decompressBytesPerSec;
  return {
    kernelReadBytesPerSec: t.kernelReadBytesPerSec,
    // the profile has one decompression speed (xz's); keep the kernel defaults' ratios for the others
    decompressBytesPerSec: { xz, gzip: xz * 3, zstd: xz * 8 },
    sigVerifyNs: t.sigCheckNs,
    sigHashBytesPerSec: t.sigHashBytesPerSec,
    sectionCopyBytesPerSec: t.layoutBytesPerSec,
    relocationNsPerKiB: Math.max(1, Math.round(1024e9 / t.relocBytesPerSec)),
    umhQueueDelayNs: t.umhSpawnNs,
    tlbFlushNs: Math.round((t.tlbFlushNs ?? 0) + (t.tlbFlushPerCpuNs ?? 0) * m.cpus),
    ...(t.rcuGracePeriodNs !== undefined ? { rcuGracePeriodNs: t.rcuGracePeriodNs } : {}),
  };
}

/** udev's own costs: the profile's measured ones, else derived from its other timings (estimates) */
export function udevTimingsOf(m: Machine): UdevTimings {
  const t = m.timings;
  return {
    // writing "add" to one uevent file ≈ one sysfs access, plus the netlink send
    triggerNs: t.udevTriggerNs ?? t.initstateReadNs,
    dispatchNs: t.udevDispatchNs ?? Math.round(t.initstateReadNs / 2),
    // fork without exec
    forkNs: Math.round(t.forkExecNs / 2),
    // a worker's libkmod context + index load: modprobe's start without its fork+exec
    workerKmodInitNs: Math.max(0, t.modprobeStartNs - t.forkExecNs),
    // the rules: a handful of sysfs reads and property matches
    ruleNs: t.udevRuleNs ?? t.initstateReadNs * 5,
  };
}

/** the CPU pool's round-robin slice */
export const CPU_SLICE_NS = 3_000_000;

export function createSystem(o: SystemOptions = {}): System {
  const base: MachineProfile = typeof o.machine === 'object' ? o.machine : loadMachine(o.machine ?? 'qemu-tcg');
  const machine = forCpus(base, o.cpus ?? base.cpus);
  const snapshotName = typeof o.modules === 'object' ? null : (o.modules ?? machine.moduleSet);
  const slice = o.moduleSlice === true && process.env.KMODLAB_FULL_INDEX !== '1' && snapshotName !== null && (SNAPSHOT_NAMES as readonly string[]).includes(snapshotName) && o.extraAliases === undefined ? loadModuleSlice(snapshotName) : null;
  const set = slice !== null ? null : typeof o.modules === 'object' ? o.modules : loadSnapshot(snapshotName!);
  const kmodVersion = o.kmodVersion ?? machine.kmod.version;

  const sim = new Sim({ seed: o.seed ?? 1, log: o.log ?? false, ...(o.tieBreak ? { tieBreak: o.tieBreak } : {}) });
  // time-sliced like the kernel's fair scheduler (EEVDF's base slice is 0.75 ms × (1 + log2 CPUs),
  // capped at 8 CPUs: ~3 ms), so short work is not stuck behind long bursts
  // the pool has the capacity of the CPUs that do the work; the kernel still sees machine.cpus
  const cpu = new CpuPool(sim, Math.min(machine.cpus, machine.hostCpus ?? machine.cpus), { sliceNs: CPU_SLICE_NS, ...(o.cpuPlacement ? { placement: o.cpuPlacement } : {}) });
  const kernel = createKernel(sim, {
    jitter: o.jitter ?? 0.2,
    ...o.kernelOptions,
    preset: o.kernel ?? 'newest',
    flags: o.kernelFlags,
    cpu,
    timings: { ...kernelTimingsOf(machine), ...o.kernelOptions?.timings },
  });

  const extra = [...(o.testModules === false ? [] : TEST_MODULES), ...(o.extraModules ?? [])];
  const fs = new ModuleFs();
  let index: KmodIndex;
  if (slice !== null) {
    // the files of the slice's modules now, the rest once something needs the full index
    const sliced = new SlicedKmodIndex(slice, { extra }, (full) => {
      const have = new Set<string>();
      for (const m of sliced.slicedModules()) have.add(m.name);
      fs.addModuleTree(full.dirname, [...full.allModules()].filter((m) => !have.has(m.name)), imageFor);
    });
    index = sliced;
  } else {
    index = KmodIndex.forSet(set!, { extra, extraAliases: o.extraAliases });
  }
  // kthread_run = kthreadd forking a thread, as CPU work on this machine's CPUs
  const kthreadCreateNs = machine.timings.kthreadCreateNs ?? Math.round(machine.timings.forkExecNs / 10);
  // the driver of the kernel's release: its show format (K3) and where its start defaults come from (v6.16)
  const testKmod =
    o.testKmod ??
    testKmodModule({
      cpu,
      kthreadCreateNs,
      legacyShow: kernel.preset.flags.testKmodLegacyShow,
      startParams: kernel.preset.flags.testKmodStartParams,
      ...o.testKmodOptions,
    });
  const overrides = new Map<string, ModuleBehaviour>(Object.entries(o.behaviours ?? {}));
  if (!overrides.has('test_kmod')) overrides.set('test_kmod', testKmod.behaviour);
  const platform = new PlatformState(machine);
  const behaviourOf = behaviourFactory({ machine, cpu, platform, filesystemsOf: (m) => index.filesystemsOf(m), overrides });
  const imageFor = (info: ModuleInfo): ModuleImage => {
    const img: ModuleImage = { name: info.name, imageSize: info.imageSize, signed: info.signed, symbolDeps: info.deps, behaviour: behaviourOf(info.name) };
    if (info.sections) img.sections = info.sections;
    return img;
  };

  fs.addModuleTree(index.dirname, index instanceof SlicedKmodIndex ? index.slicedModules() : index.allModules(), imageFor);
  const t = machine.timings;
  const host: KmodHost = {
    sim,
    cpu,
    kernel,
    fs,
    timings: {
      initstateReadNs: t.initstateReadNs,
      fileOpenNs: t.fileOpenNs,
      readBytesPerSec: t.kernelReadBytesPerSec,
      decompressBytesPerSec: t.decompressBytesPerSec,
      forkExecNs: t.forkExecNs,
    },
    kernelCompression: kernel.moduleCompression,
    jitter: o.jitter ?? 0.2,
    userspaceRng: sim.rng.stream('userspace'),
  };
  const modprobeEnv: ModprobeEnv = { host, index, kmodVersion, startNs: t.modprobeStartNs, config: o.modprobeConfig };
  // Debian: /sbin/modprobe → /bin/kmod, a multi-call binary
  fs.addProgram('/bin/kmod', modprobeProgram(modprobeEnv));
  fs.symlink('/bin/kmod', '/sbin/modprobe');

  const umh: UsermodeHelperHost = {
    exec(path, argv, envp) {
      const prog = fs.execTarget(path);
      if (typeof prog === 'number') return prog;
      return sim.spawn(`modprobe ${argv[argv.length - 1] ?? ''}`, prog(argv, envp));
    },
  };
  kernel.setUsermodeHelper(umh);

  const udevTimings = { ...udevTimingsOf(machine), ...o.udev?.timings };
  const childrenMax = children_max(o.udev?.flavour ?? machine.udev.flavour, machine.cpus, machine.ramBytes, o.udev?.childrenMax ?? machine.udev.childrenMax);

  const system: System = {
    sim, cpu, kernel, fs, index, machine, platform,
    get moduleSet(): ModuleSet {
      return set ?? loadSnapshot(snapshotName!);
    },
    moduleSetSummary: slice !== null ? { release: slice.release, modules: slice.moduleCount } : { release: set!.release, modules: set!.modules.size },
    kmodVersion, modprobeEnv, umh, testKmod, udevTimings, childrenMax,
    modprobe: (args) => sim.spawn(`modprobe ${args.join(' ')}`, runModprobe(modprobeEnv, args)),
    runModprobe: (args) => runModprobe(modprobeEnv, args),
    uevents: () => coldplugDevices(machine, machine.cpus),
    coldplug(co = {}) {
      const u = new Udevd({
        host, index, kmodVersion, events: co.events ?? system.uevents(), childrenMax, timings: udevTimings, config: o.modprobeConfig,
        rules: o.udev?.rules ?? udevRulesFor(machine.udev.systemdVersion),
        keepJournal: co.keepJournal ?? o.udev?.keepJournal ?? false,
      });
      // udevd's netlink socket: the uevents of devices a module's init adds reach it from now on
      kernel.setUeventListener((ev) => u.kernelUevent(ev));
      u.start();
      return u;
    },
    runColdplug(co = {}) {
      const u = system.coldplug(co);
      co.started?.(u);
      const keepGoing = co.keepGoing;
      const untilNs = co.untilNs;
      if (keepGoing === undefined && untilNs === undefined) sim.run();
      else {
        // checked every 4096 events, not through run(untilNs), which would move the clock of a
        // finished boot on to the deadline (and the record's MODULE_STATS snapshot with it)
        let n = 0;
        sim.runUntil(() => (++n & 4095) === 0 && ((untilNs !== undefined && sim.now > untilNs) || (keepGoing !== undefined && !keepGoing())));
      }
      return u.stats();
    },
  };
  return system;
}

/** the path modprobe files are found under, for callers that add their own */
export function modulePath(system: System, rel: string): string {
  return joinPath(system.index.dirname, rel);
}
