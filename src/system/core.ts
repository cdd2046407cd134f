/**
 * DOC: one simulated machine, assembled — kernel, CPUs, files and modprobe (./system.ts adds udevd).
 *
 * Why it exists: the selftest's sim target and the storm both need "a machine booted with
 * kernel preset K, machine profile M at N CPUs, module set S": a Sim, a CpuPool of N CPUs shared
 * by the kernel and userspace, the kernel built with the profile's timings, a file system holding
 * the module tree (plus test_module.ko and test_kmod.ko under extra/) and /sbin/modprobe (a
 * symlink to /bin/kmod, as on Debian), the usermode-helper host that execs it for
 * request_module; and udevd for coldplug, which ./system.ts adds (createSystem). The selftest's
 * target takes the machine without it (createCoreSystem): udevd and the udev rules are ~47 M
 * instructions of imports a kmod.sh run never uses. Everything here is wiring; the behaviour
 * lives in src/kernel/ and src/userspace/.
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
import { forCpus, loadMachine, type Machine } from '../userspace/machines/load.js';
import type { MachineProfile } from '../userspace/machines/schema.js';
import { modprobeProgram, runModprobe, type ModprobeEnv, type ModprobeResult } from '../userspace/modprobe.js';
import type { AliasEntry, ModuleInfo, ModuleSet } from '../userspace/moduleset.js';
import type { UdevRules } from '../userspace/udev-rules/index.js';
import { loadModuleSlice, SlicedKmodIndex, type ModuleSliceJson } from './module-slice.js';
import type { UdevFlavour, UdevTimings } from '../userspace/udevd.js';

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

/** a machine without udevd (./system.ts's System adds it) */
export interface CoreSystem {
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
  /** start `modprobe ARGS…` as a process now */
  modprobe(args: readonly string[]): Process<ModprobeResult>;
  /** `modprobe ARGS…` from inside a simulated process */
  runModprobe(args: readonly string[]): Proc<ModprobeResult>;
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
    ...(t.freeModuleSyncRcuNs !== undefined ? { freeModuleSyncRcuNs: t.freeModuleSyncRcuNs } : {}),
    ...(t.mutexWakeQuantilesNs !== undefined ? { mutexWakeQuantilesNs: t.mutexWakeQuantilesNs } : {}),
  };
}

/** the CPU pool's round-robin slice */
export const CPU_SLICE_NS = 3_000_000;

export function createCoreSystem(o: SystemOptions = {}): CoreSystem {
  const base: MachineProfile = typeof o.machine === 'object' ? o.machine : loadMachine(o.machine ?? 'qemu-tcg');
  const machine = forCpus(base, o.cpus ?? base.cpus);
  const snapshotName = typeof o.modules === 'object' ? null : (o.modules ?? machine.moduleSet);
  const extra = [...(o.testModules === false ? [] : TEST_MODULES), ...(o.extraModules ?? [])];
  const shipped = o.moduleSlice === true && process.env.KMODLAB_FULL_INDEX !== '1' && snapshotName !== null && (SNAPSHOT_NAMES as readonly string[]).includes(snapshotName) && o.extraAliases === undefined;
  // an extra module's file takes the place of the set's module of its name: the slice must know whether there is one
  const slice = shipped ? sliceFor(loadModuleSlice(snapshotName!), extra) : null;
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

  const fs = new ModuleFs();
  let index: KmodIndex;
  if (slice !== null) {
    // the files of the slice's modules now, the rest once something needs the full index
    // each file at the inode the whole tree gives it (the tree's first + its place in the index's order)
    const sliced = new SlicedKmodIndex(slice, { extra }, (full) => {
      const have = new Set<string>();
      for (const m of sliced.slicedModules()) have.add(m.name);
      const rest: ModuleInfo[] = [];
      const at: number[] = [];
      let i = 0;
      for (const m of full.allModules()) {
        if (!have.has(m.name)) {
          rest.push(m);
          at.push(i);
        }
        i++;
      }
      fs.addModulesAt(full.dirname, treeFirst, rest, at, imageFor);
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

  let treeFirst = 0;
  if (index instanceof SlicedKmodIndex) {
    const tree = index.slicedTree();
    treeFirst = fs.reserveInodes(tree.count);
    fs.addModulesAt(index.dirname, treeFirst, tree.modules, tree.positions, imageFor);
  } else fs.addModuleTree(index.dirname, index.allModules(), imageFor);
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

  const system: CoreSystem = {
    sim, cpu, kernel, fs, index, machine, platform,
    get moduleSet(): ModuleSet {
      return set ?? loadSnapshot(snapshotName!);
    },
    moduleSetSummary: slice !== null ? { release: slice.release, modules: slice.moduleCount } : { release: set!.release, modules: set!.modules.size },
    kmodVersion, modprobeEnv, umh, testKmod,
    modprobe: (args) => sim.spawn(`modprobe ${args.join(' ')}`, runModprobe(modprobeEnv, args)),
    runModprobe: (args) => runModprobe(modprobeEnv, args),
  };
  return system;
}

/** the slice, when it answers every extra module's name (so it knows which set module each replaces) */
function sliceFor(slice: ModuleSliceJson | null, extra: readonly ModuleInfo[]): ModuleSliceJson | null {
  return slice !== null && extra.every((x) => Object.hasOwn(slice.names, x.name)) ? slice : null;
}

/** the path modprobe files are found under, for callers that add their own */
export function modulePath(system: Pick<CoreSystem, 'index'>, rel: string): string {
  return joinPath(system.index.dirname, rel);
}
