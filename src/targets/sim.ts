/**
 * DOC: SimTarget — the kmod.sh port against the simulated kernel.
 *
 * One virtual machine per run (kernel preset, machine profile, CPU count, seed), kept for the
 * whole run, so state carries over between tests as on a real machine: a module loaded by 0005
 * is still there for 0006, the autoload-dups cache of 0003 still answers in 0004, the virtual
 * clock only moves forward. Every Target call runs as a simulated user process to completion:
 * a knob write is the shell's `echo -n 1 > …` (a builtin: a syscall's cost, then the driver's
 * store, which for trigger_config takes as long as the test), a knob read is `cat` (fork+exec of
 * the machine profile, then the driver's show), `modprobe` is the simulated kmod modprobe,
 * `date` reads the virtual clock (printed as UTC from the epoch: the first run of a fresh
 * machine shows "Thu Jan  1 00:00:00 UTC 1970"-ish times).
 *
 * What the target needs from the assembled machine is the small SimSystem interface below;
 * `createSimTarget` builds one with the project's createCoreSystem() (src/system/core.ts: the
 * machine without udevd, which kmod.sh never uses).
 */
import type { KernelApi } from '../kernel/api.js';
import { ENOENT } from '../kernel/errno.js';
import { resolvePreset, timestamp, type KernelFlags, type KernelPreset } from '../kernel/index.js';
import type { Proc, Sim } from '../sim/index.js';
import { createCoreSystem, modulePath, type CoreSystem } from '../system/core.js';
import type { TestKmodDevice } from '../testkmod/index.js';
import { KnobError, type Preconditions, type ProcessResult, type Target, type WriteResult } from '../selftest/target.js';

/** What SimTarget drives: one assembled simulated machine. */
export interface SimSystem {
  readonly sim: Sim;
  readonly kernel: KernelApi;
  /** preset name, for Target.kernel */
  readonly release: string;
  /** `modprobe ARGS` in the machine's userspace, as a process body */
  modprobe(args: readonly string[]): Proc<ProcessResult>;
  /** test_kmod0 while test_kmod is loaded, else null */
  testKmod(): TestKmodDevice | null;
  /** the kmod version `kmod --version` prints */
  readonly kmodVersion: number;
  /** fork + exec of a small program (cat, grep, capsh, date), ns */
  readonly forkExecNs: number;
  /** the kernel log, formatted like dmesg */
  dmesg(): string[];
}

export interface SimTargetOptions {
  /** the test_kmod0 directory kmod.sh was told to use ($DIR); anything else is "not present" */
  dir?: string;
  /** a shell builtin redirect (`echo -n X > file`): open + write + close, ns (default 30 µs) */
  builtinWriteNs?: number;
}

const DEFAULT_DIR = '/sys/devices/virtual/misc/test_kmod0/';
const DAYS = ['Thu', 'Fri', 'Sat', 'Sun', 'Mon', 'Tue', 'Wed'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `date` in the C locale, UTC, for a virtual time in ns since the epoch */
export function formatDate(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const d = new Date(ms);
  const day = DAYS[Math.floor(ms / 86_400_000) % 7]!;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${day} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

export class SimTarget implements Target {
  readonly name: string;
  readonly kernel: string;
  private readonly dirOk: boolean;
  private readonly builtinWriteNs: number;
  private closed = false;

  constructor(
    readonly system: SimSystem,
    opts: SimTargetOptions = {},
  ) {
    this.name = `sim:${system.release}`;
    this.kernel = system.release;
    const dir = opts.dir ?? DEFAULT_DIR;
    this.dirOk = (dir.endsWith('/') ? dir : `${dir}/`) === DEFAULT_DIR;
    this.builtinWriteNs = opts.builtinWriteNs ?? 30_000;
  }

  /** run `body` as a user process until it returns */
  private exec<R>(name: string, body: Proc<R>): R {
    if (this.closed) throw new Error('sim target: used after close()');
    const { sim } = this.system;
    const p = sim.spawn(name, body);
    sim.runUntil(() => p.done);
    if (!p.done) throw new Error(`sim target: ${name} never finished (every process is blocked)`);
    return p.result as R;
  }

  private device(): TestKmodDevice | null {
    return this.dirOk ? this.system.testKmod() : null;
  }

  async preconditions(): Promise<Preconditions> {
    return { root: true, modprobe: true, kmod: true, kmodVersion: this.system.kmodVersion, testKmodPresent: this.device() !== null };
  }

  async loadTestKmod(): Promise<ProcessResult> {
    return this.modprobe(['test_kmod']);
  }

  async readKnob(knob: string): Promise<string> {
    const r = this.exec('cat', this.catKnob(knob));
    if (typeof r === 'number') throw new KnobError(knob, r);
    return r;
  }

  /** `cat $DIR/KNOB`: fork+exec, then the driver's show */
  private *catKnob(knob: string): Proc<string | number> {
    yield this.system.sim.delay(this.system.forkExecNs);
    const dev = this.device();
    if (dev === null) return -ENOENT;
    return yield* dev.read(knob);
  }

  async writeKnob(knob: string, data: string): Promise<WriteResult> {
    return this.exec('sh', this.echoKnob(knob, data));
  }

  /** `echo -n DATA > $DIR/KNOB`: a builtin, so only the open + write + close */
  private *echoKnob(knob: string, data: string): Proc<number> {
    yield this.system.sim.delay(this.builtinWriteNs);
    const dev = this.device();
    if (dev === null) return -ENOENT;
    return yield* dev.write(knob, data);
  }

  async modprobe(args: string[]): Promise<ProcessResult> {
    return this.exec('modprobe', this.system.modprobe(args));
  }

  async readModprobePath(): Promise<string> {
    return this.system.kernel.modprobePath;
  }

  async writeModprobePath(path: string): Promise<void> {
    const sys = this.system;
    this.exec('sh', (function* (): Proc<void> {
      yield sys.sim.delay(30_000);
      // echo adds the newline; proc_dostring stops at it
      sys.kernel.modprobePath = `${path}\n`;
    })());
  }

  async readFile(path: string, opts: { dropCapSyslog?: boolean } = {}): Promise<string> {
    const sys = this.system;
    const capSyslog = !(opts.dropCapSyslog ?? false);
    // grep/awk, cat/head, and capsh: a fork+exec each
    const execs = opts.dropCapSyslog ? 2 : 1;
    const r = this.exec('cat', (function* (): Proc<string | null> {
      yield sys.sim.delay(sys.forkExecNs * execs);
      return readSimFile(sys.kernel, path, capSyslog);
    })());
    if (r === null) throw new Error(`${path}: No such file or directory`);
    return r;
  }

  async listDir(path: string): Promise<string[]> {
    return listSimDir(this.system.kernel, path);
  }

  async date(): Promise<string> {
    const sys = this.system;
    return formatDate(this.exec('date', (function* (): Proc<number> {
      yield sys.sim.delay(sys.forkExecNs);
      return sys.sim.now;
    })()));
  }

  async kernelLog(): Promise<string> {
    const l = this.system.dmesg();
    return l.length === 0 ? '' : `${l.join('\n')}\n`;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** the few files kmod.sh reads besides the knobs: /proc/modules and section addresses */
export function readSimFile(kernel: KernelApi, path: string, capSyslog: boolean): string | null {
  if (path === '/proc/modules') return kernel.procModules(capSyslog);
  const m = /^\/sys\/module\/([^/]+)\/sections\/([^/]+)$/.exec(path);
  if (m !== null) return kernel.moduleSections(m[1]!, capSyslog)?.get(m[2]!) ?? null;
  return null;
}

/** the directories kmod.sh globs in: /sys/module/NAME/sections */
export function listSimDir(kernel: KernelApi, path: string): string[] {
  const m = /^\/sys\/module\/([^/]+)\/sections\/?$/.exec(path);
  if (m === null) return [];
  return [...(kernel.moduleSections(m[1]!, true)?.keys() ?? [])];
}

export type TestModuleBuild = 'out-of-tree' | 'in-tree';

export interface CreateSimTargetOptions extends SimTargetOptions {
  /** kernel preset name or object (default 'newest') */
  kernel?: string | KernelPreset;
  /** flag overrides on top of the preset */
  kernelFlags?: Partial<KernelFlags>;
  /** machine profile (default 'qemu-tcg', the calibration guest) */
  machine?: string;
  cpus?: number;
  seed?: number;
  /**
   * How test_module.ko / test_kmod.ko were built. 'out-of-tree' (default, like the calibration
   * guest): unsigned and out of tree, so loading them taints O and E and /proc/modules lines end
   * in "(OE)" — kmod.sh 0012 then fails as on the real Debian 6.1 run. 'in-tree': signed, no
   * taint, the address is the last field, 0012 passes.
   */
  testModules?: TestModuleBuild;
  /** module set: a snapshot name or file (default: the machine profile's) */
  modules?: string;
  /** userspace kmod version (default: the machine profile's) */
  kmodVersion?: number;
}

/** the assembled machine's view SimTarget needs */
export function simSystemOf(system: CoreSystem): SimSystem {
  const { kernel } = system;
  return {
    sim: system.sim,
    kernel,
    release: kernel.release,
    modprobe: (args) => system.runModprobe(args),
    testKmod: () => system.testKmod.device(kernel),
    kmodVersion: system.kmodVersion,
    forkExecNs: system.machine.timings.forkExecNs,
    dmesg: () => mergeLogs(kernel.dmesg(), system.testKmod.device(kernel)?.log ?? []),
  };
}

/** dmesg lines ("[    5.123456] msg") and test_kmod's own lines, in time order */
function mergeLogs(kernelLines: string[], dev: readonly { t: number; msg: string }[]): string[] {
  const at = (l: string): number => {
    const m = /^\[\s*(\d+)\.(\d{6})\]/.exec(l);
    return m ? Number(m[1]) * 1e9 + Number(m[2]) * 1e3 : 0;
  };
  const all = [...kernelLines.map((l) => ({ t: at(l), l })), ...dev.map((d) => ({ t: d.t, l: timestamp(d.t) + d.msg }))];
  return all.sort((a, b) => a.t - b.t).map((x) => x.l);
}

/** One fresh simulated machine for a selftest run. */
export function createSimTarget(opts: CreateSimTargetOptions = {}): SimTarget {
  const preset = resolvePreset(opts.kernel, opts.kernelFlags);
  const system = createCoreSystem({
    kernel: preset,
    machine: opts.machine ?? 'qemu-tcg',
    ...(opts.cpus !== undefined ? { cpus: opts.cpus } : {}),
    seed: opts.seed ?? 1,
    ...(opts.modules !== undefined ? { modules: opts.modules } : {}),
    // kmod.sh looks up a handful of names: a shipped snapshot is read only if it asks for another
    moduleSlice: true,
    ...(opts.kmodVersion !== undefined ? { kmodVersion: opts.kmodVersion } : {}),
    testKmodOptions: { legacyShow: preset.flags.testKmodLegacyShow },
  });
  const build = opts.testModules ?? 'out-of-tree';
  for (const rel of ['extra/test_module.ko', 'extra/test_kmod.ko']) {
    const path = modulePath(system, rel);
    const f = system.fs.open(path);
    if (typeof f === 'number') continue;
    const image = build === 'out-of-tree' ? { ...f.image, signed: false, outOfTree: true } : { ...f.image, signed: true, outOfTree: false };
    system.fs.addModuleFile(path, { size: f.size, compression: f.compression, ...(f.compressionWindow !== undefined ? { compressionWindow: f.compressionWindow } : {}), image });
  }
  return new SimTarget(simSystemOf(system), opts);
}
