/**
 * DOC: duplicate-load storms on the simulator — the sim's DupStormTarget for `kmodlab storm --parallel`.
 *
 * The same plan as the guest's kml-storm (src/targets/qemu/storm.ts): for each module, load
 * path and N, a machine where the module is not loaded, N loads of it released at the same
 * virtual instant, the count of what each returned, and the peak of VmallocUsed during the storm.
 * Each (module, path, N) runs on a fresh machine (createSystem, machine profile qemu-tcg by
 * default), which is what the guest's rmmod before every storm gives.
 *
 * Load paths, as in the guest (src/results/dupstorm.ts):
 *   finit             N tasks each open the same plain .ko (one inode) and call finit_module(fd, 0)
 *   finit-compressed  the same on an .ko.xz with MODULE_INIT_COMPRESSED_FILE
 *   init              init_module(image) from N tasks (no inode: never deduplicated by finit)
 *   modprobe          N `modprobe NAME` processes of the machine's kmod on the installed module
 *                     (kmod < 31 decompresses a .ko.xz itself and calls init_module)
 * Modules: xfs (from the module-set snapshot; its dependencies loaded first, as the guest does
 * with modprobe; for a live storm the module itself too, with modprobe, before the baseline is
 * read), kml_slow (init sleeps 1000 ms, succeeds) and kml_fail (init sleeps 500 ms,
 * returns -ENODEV, or -N when loaded with retval=N as the real one), added as extra modules with
 * behaviour overrides.
 *
 * VmallocUsed: Linux counts every vmalloc'd page, module_alloc's included, so the peak is of the
 * simulated vmalloc plus module areas together, sampled every 1 ms like the guest's sampler —
 * less the vmap()ed pages of a decompressed image, which are alloc_page'd and not counted
 * (src/kernel/decompress.ts); the decompressor's own workspace is a vmalloc and counts.
 * Outcomes use the guest's names ("0", "EEXIST", "exit 1 EBUSY") so the two tables compare.
 */
import type { KFile, ModuleBehaviour, Task } from '../../kernel/api.js';
import { MODULE_INIT_COMPRESSED_FILE } from '../../kernel/api.js';
import { errnoName } from '../../kernel/errno.js';
import type { Proc } from '../../sim/index.js';
import { createSystem, modulePath, type System } from '../../system/index.js';
import type { ModuleInfo, ModuleSet } from '../../userspace/moduleset.js';
import { InputError } from '../../errors.js';
import { modprobeErrno } from '../../userspace/libkmod.js';
import { DEFAULT_FAIL_MSECS, DEFAULT_SLOW_MSECS, moduleParams, statesFor, type DupStormMode, type DupStormPlan, type DupStormRow, type DupStormState, type DupStormTarget } from '../../results/dupstorm.js';
import type { SimKernelModel } from '../../targets/qemu/kernels.js';

/** The simulated machine a storm runs on (each storm gets a fresh one). */
export interface SimStormMachine {
  /** kernel preset (default newest) */
  kernel?: string;
  /** snapshot name or file (default the machine profile's) */
  snapshot?: string;
  /** a module set already read (`--modules DIR`); wins over snapshot */
  moduleSet?: ModuleSet;
  /** in-kernel decompression (default: the preset's) */
  moduleCompression?: 'xz' | null;
  kmodVersion?: number;
  /** machine profile (default qemu-tcg) */
  machine?: string;
  /** CPUs (default 2, the guest's) */
  cpus?: number;
  seed?: number;
}

export interface SimDupStormResult {
  kernel: string;
  machine: string;
  cpus: number;
  kmodVersion: number;
  rows: DupStormRow[];
}

/** The machine of a real kernel's sim model (src/targets/qemu/kernels.ts), with the guest's CPUs. */
export function simMachineOf(model: SimKernelModel, cpus: number): SimStormMachine {
  return { kernel: model.preset, snapshot: model.snapshot, moduleCompression: model.moduleCompression, kmodVersion: model.kmodVersion, machine: model.machine, cpus };
}

/** real sizes of the project's test modules as built (with debug info); image about half */
const KML_FILE = 190_248;
const KML_XZ = 40_960;
/** xz ratio of xfs.ko on Debian 6.12 (752,104 of 4,216,065 bytes), for a 6.1 .ko turned .xz */
const XZ_RATIO = 752_104 / 4_216_065;

function kmlInfo(name: string, compressed: boolean): ModuleInfo {
  return {
    name,
    path: `extra/${name}.ko${compressed ? '.xz' : ''}`,
    fileSize: compressed ? KML_XZ : KML_FILE,
    compression: compressed ? 'xz' : 'none',
    imageSize: KML_FILE,
    signed: false,
    deps: [],
    softdeps: { pre: [], post: [] },
  };
}

function behaviours(p: Pick<DupStormPlan, 'slowMsecs' | 'failMsecs'>): Record<string, ModuleBehaviour> {
  return {
    kml_slow: { initCpuNs: 50_000, initSleepNs: (p.slowMsecs ?? DEFAULT_SLOW_MSECS) * 1e6, initResult: 0 },
    // like the real module: -ENODEV unless the load passes retval=N (then -N)
    kml_fail: { initCpuNs: 50_000, initSleepNs: (p.failMsecs ?? DEFAULT_FAIL_MSECS) * 1e6, initResult: -19, initResultParam: 'retval' },
  };
}

/** One machine for one storm. */
export function stormSystem(p: SimStormMachine, plan: Pick<DupStormPlan, 'slowMsecs' | 'failMsecs'> = {}, compressedSet: boolean | null = null): System {
  const probe = compressedSet ?? false;
  return createSystem({
    machine: p.machine ?? 'qemu-tcg',
    cpus: p.cpus ?? 2,
    kernel: p.kernel ?? 'newest',
    ...(p.moduleSet !== undefined ? { modules: p.moduleSet } : p.snapshot !== undefined ? { modules: p.snapshot } : {}),
    ...(p.moduleCompression !== undefined ? { kernelOptions: { moduleCompression: p.moduleCompression } } : {}),
    ...(p.kmodVersion !== undefined ? { kmodVersion: p.kmodVersion } : {}),
    seed: p.seed ?? 1,
    behaviours: behaviours(plan),
    extraModules: [kmlInfo('kml_slow', probe), kmlInfo('kml_fail', probe)],
  });
}

/** "0", or the errno's name ("EEXIST") for a negative return */
export function outcomeName(ret: number): string {
  if (ret === 0) return '0';
  // errno.ts names what the model returns today; EOPNOTSUPP is what the real stub returns
  if (ret === -95) return 'EOPNOTSUPP';
  return ret < 0 ? errnoName(ret) : String(ret);
}

function task(sys: System, comm: string): Task {
  return { proc: sys.sim.current!, comm, capSysModule: true, capSyslog: true };
}

/** The files the guest's kml-storm uses: a plain copy and an xz copy, one inode each. */
function stormFiles(sys: System, info: ModuleInfo): { plain: string; xz: string; installed: string } {
  const installed = modulePath(sys, info.path);
  const f = sys.fs.open(installed);
  if (typeof f === 'number') throw new Error(`${info.name}: ${installed} missing in the simulated tree`);
  const plain = `/lib/kml/${info.name}.ko`;
  const xz = `/lib/kml/${info.name}.ko.xz`;
  sys.fs.addModuleFile(plain, { size: info.imageSize, compression: 'none', image: f.image });
  const xzSize = info.compression === 'xz' ? info.fileSize : Math.max(4096, Math.round(info.fileSize * XZ_RATIO));
  sys.fs.addModuleFile(xz, { size: xzSize, compression: 'xz', image: f.image });
  return { plain, xz, installed };
}

function used(sys: System): number {
  const m = sys.kernel.memory;
  return m.vmalloc.used - m.vmalloc.mapped + m.module.used;
}

/** One storm on a fresh machine; `state` live loads the module (modprobe) before it. */
export function runSimStorm(
  p: SimStormMachine,
  plan: Pick<DupStormPlan, 'slowMsecs' | 'failMsecs'>,
  module: string,
  mode: DupStormMode,
  n: number,
  state: DupStormState = 'cold',
): DupStormRow {
  let sys = stormSystem(p, plan);
  let info = sys.index.dep(module);
  // a module set given with --snapshot FILE or --modules DIR may lack it: that is the input's fault
  if (!info) throw new InputError(`storm module ${module}: not in the module set (${sys.moduleSet.release})`);
  // the kml_* modules ship like the set's own modules: xz in a compressed tree (debian-6.12)
  const compressedSet = sys.index.dep('xfs')?.compression === 'xz';
  if (compressedSet) {
    sys = stormSystem(p, plan, true);
    info = sys.index.dep(module)!;
  }
  const { sim } = sys;
  const files = stormFiles(sys, info);
  const params = moduleParams(plan, module);

  // dependencies first (the guest modprobes them before the storm)
  for (const d of [...info.deps].reverse()) {
    const pr = sys.modprobe([sys.index.dep(d)?.name ?? d]);
    sim.runUntil(() => pr.done);
  }
  if (state === 'live') {
    const pr = sys.modprobe([module, ...(params ? [params] : [])]);
    sim.runUntil(() => pr.done);
    if (sys.kernel.moduleState(module) !== 'live') throw new Error(`sim storm ${module}: not LIVE after modprobe (${sys.kernel.moduleState(module) ?? 'not loaded'})`);
  }
  sim.runUntil(() => true, sim.now + 10_000_000); // let the deps' init memory go
  const baseline = used(sys);
  let peak = baseline;
  const calls: { result: string; us: number }[] = [];
  let remaining = n;
  const t0 = sim.now;
  // init_module: the guest reads (and decompresses) the image once, before the barrier
  const initFile = mode === 'init' ? (sys.fs.open(files.plain) as KFile) : null;

  for (let i = 0; i < n; i++) {
    const idx = i;
    const body = function* (): Proc<void> {
      let result: string;
      if (mode === 'modprobe') {
        const r = yield* sys.runModprobe([module, ...(params ? [params] : [])]);
        const errno = r.exitCode === 0 ? null : modprobeErrno(r.stderr);
        result = `exit ${r.exitCode}${errno ? ` ${errno}` : ''}`;
      } else {
        const t = task(sys, `kml-storm-${idx}`);
        let ret: number;
        if (mode === 'init') ret = yield* sys.kernel.init_module(t, initFile!, initFile!.image.imageSize, params);
        else {
          const f = sys.fs.open(mode === 'finit' ? files.plain : files.xz);
          if (typeof f === 'number') ret = f;
          else ret = yield* sys.kernel.finit_module(t, f, params, mode === 'finit-compressed' ? MODULE_INIT_COMPRESSED_FILE : 0);
        }
        result = outcomeName(ret);
      }
      calls[idx] = { result, us: Math.round((sim.now - t0) / 1000) };
      remaining--;
    };
    sim.spawn(mode === 'modprobe' ? `modprobe ${module}` : `kml-storm-${idx}`, body());
  }
  // the guest's sampler: VmallocUsed every 1 ms while the storm runs
  sim.spawn(
    'vmalloc-sampler',
    (function* (): Proc<void> {
      while (remaining > 0) {
        peak = Math.max(peak, used(sys));
        yield sim.delay(1_000_000);
      }
    })(),
  );
  sim.runUntil(() => remaining === 0);
  if (remaining > 0) throw new Error(`sim storm ${module} ${mode} N=${n}: ${remaining} loads never returned`);
  peak = Math.max(peak, used(sys));
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.result] = (counts[c.result] ?? 0) + 1;
  return {
    module,
    mode,
    n,
    ...(state === 'live' ? { state } : {}),
    counts,
    baselineVmallocKiB: Math.round(baseline / 1024),
    peakVmallocKiB: Math.round(peak / 1024),
    spanUs: Math.max(0, ...calls.map((c) => c.us)),
    calls,
  };
}

/** The whole plan: modules × paths × states × N, in the guest's order. */
export function runSimDupStorm(p: SimStormMachine, plan: DupStormPlan, onRow?: (row: DupStormRow) => void): SimDupStormResult {
  const rows: DupStormRow[] = [];
  for (const module of plan.modules)
    for (const mode of plan.modes)
      for (const state of statesFor(plan, module))
        for (const n of plan.parallel) {
          const row = runSimStorm(p, plan, module, mode, n, state);
          rows.push(row);
          onRow?.(row);
        }
  const sys = stormSystem(p, plan);
  return { kernel: sys.kernel.release, machine: sys.machine.name, cpus: sys.machine.cpus, kmodVersion: sys.kmodVersion, rows };
}

/** The simulator as the storm's target: one machine description, a fresh machine per storm. */
export function simDupStormTarget(p: SimStormMachine): DupStormTarget<SimDupStormResult> {
  return { run: (plan, onRow) => runSimDupStorm(p, plan, onRow) };
}
