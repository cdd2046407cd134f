/**
 * DOC: the simulated kernel — one object wiring the module loader's parts (KernelApi).
 *
 * Each concern lives in its own file, named like the kernel's: main.ts (module records, states,
 * load pipeline, delete_module), kmod.ts (request_module and its limiter), umh.ts (the usermode
 * helper), dups.ts, idempotent.ts, stats.ts, memory.ts, filesystems.ts, sysfs.ts, printk.ts,
 * presets.ts, which holds every difference between releases, and policy.ts, the same-name
 * plug-in interface the unmerged proposals of whatif/ implement. The Kernel below owns one of
 * each, built from a preset, and hands itself to each as the KernelInternal of internal.ts (what
 * the parts share; none of them imports this file). It implements the KernelApi of api.ts that
 * userspace (modprobe, udevd), test_kmod and the selftest targets call.
 *
 * Typed event-log records (sim.log, only when enabled) — the trace and storm reports consume
 * them; `pid`/`proc` of a record name the process it is about:
 *   'request_module'  {name, wait, phase: 'start'|'end', ret?}
 *   'limiter'         {name, action: 'fail', ret}                     (v4.9 -ENOMEM)
 *   'wait'            {on: 'kmod_limiter'|'dups'|'umh'|'module_wq'|'resolve_symbol'|'idempotent'|'merge',
 *                      name, phase: 'begin'|'end', status?: 'ok'|'timeout'|'signal', ...}
 *   'dup'             {name, action: 'track'|'duplicate'|'announce'|'complete'|'delete', wait?, ret?}
 *   'umh'             {path, argv, phase: 'exec'|'exit', ret, pid?}
 *   'finit'           {phase: 'enter'|'exit', module, inode, flags?, ret?}
 *   'init_module'     {phase: 'enter'|'exit', module, len?, ret?}
 *   'idempotent'      {inode, role: 'winner'|'winner-done', module, ret?}
 *   'kernel_read_file'{module, bytes}
 *   'decompress'      {module, ok, bytes?|ret?}
 *   'same_name'       {module, reason: 'becoming'|'load', ret}   (only when a record existed or it failed)
 *   'state'           {module, from, to: 'unformed'|'coming'|'live'|'going'|'gone'}
 *   'init'            {module, phase: 'start'|'end', ret?}
 *   'uevent'          {module, action: 'add'|'remove', kobj}
 *   'alloc'           {id, area: 'vmalloc'|'module'|'percpu', kind, bytes, size, module, ok, used?,
 *                      vmap?: true (a vmap() of alloc_page'd pages, not counted in VmallocUsed)}
 *   'free'            {id, area, kind, size, module, used, heldNs}
 *   'fs'              {action: 'register'|'unregister', name, owner?}
 *   'get_fs_type'     {name, found, request: number|null}
 *   'delete_module'   {module, flags, ret}
 *   'printk'          {level, line}
 */
import { CpuPool, frame, type Proc, type Rng, type Sim } from '../sim/index.js';
import type { Compression, FsTypeRef, KernelUevent, KFile, SysfsModuleView, Task, UsermodeHelperHost } from './api.js';
import { KmodDups } from './dups.js';
import { FileSystems } from './filesystems.js';
import { IdempotentTable } from './idempotent.js';
import { Kmod } from './kmod.js';
import { ModuleLoader, type Module } from './main.js';
import type { KernelConfig, KernelInternal, KernelTimings } from './internal.js';
import { KernelMemory, type MemoryOptions } from './memory.js';
import type { SameNamePolicy } from './policy.js';
import { resolvePreset, type KernelFlags, type KernelPreset } from './presets.js';
import { Printk } from './printk.js';
import { ModuleStats } from './stats.js';
import { moduleSections, procModules, sysfsModuleView, writeModprobePath } from './sysfs.js';
import { UsermodeHelper } from './umh.js';
import { whatIfPolicies } from './whatif/index.js';

export const DEFAULT_TIMINGS: Readonly<KernelTimings> = Object.freeze({
  kernelReadBytesPerSec: 2e9,
  copyFromUserBytesPerSec: 4e9,
  decompressBytesPerSec: Object.freeze({ gzip: 300e6, xz: 100e6, zstd: 800e6 }),
  sigVerifyNs: 150_000,
  sigHashBytesPerSec: 1.5e9,
  elfCheckNs: 20_000,
  layoutNs: 30_000,
  sectionCopyBytesPerSec: 4e9,
  relocationNsPerKiB: 1500,
  sysfsSetupNs: 100_000,
  rcuGracePeriodNs: 10_000_000,
  workqueueDelayNs: 20_000,
  umhQueueDelayNs: 200_000,
  freeModuleNs: 50_000,
  tlbFlushNs: 0,
  freeModuleSyncRcuNs: 0,
  mutexWakeQuantilesNs: Object.freeze([]),
});

export interface KernelOptions {
  /** preset name (default 'newest') or a preset object (e.g. from io/presets.ts loadPresetFile) */
  preset?: string | KernelPreset;
  /** flag overrides on top of the preset (validated) */
  flags?: Partial<KernelFlags>;
  /** the machine's CPUs (default: a new pool of 4) */
  cpu?: CpuPool;
  timings?: Partial<Omit<KernelTimings, 'decompressBytesPerSec'>> & { decompressBytesPerSec?: Partial<KernelTimings['decompressBytesPerSec']> };
  /** vmalloc / module area sizes, module-memory estimate α */
  memory?: MemoryOptions;
  /** the usermode helper host (also settable later with setUsermodeHelper) */
  umh?: UsermodeHelperHost;
  /** usermode helpers enabled (default true; false = early boot: request_module → -EBUSY) */
  usermodehelperEnabled?: boolean;
  /** module.sig_enforce (default false) */
  sigEnforce?: boolean;
  /** CONFIG_MODULE_SIG (default true) */
  moduleSig?: boolean;
  /** module.enable_dups_trace (default: the preset's autoloadDupsTrace) */
  dupsTrace?: boolean;
  /** modules_disabled sysctl (default false) */
  modulesDisabled?: boolean;
  moduleBlacklist?: string[];
  forceUnload?: boolean;
  /** in-kernel decompression algorithm; default 'xz' when the preset can decompress xz, else null */
  moduleCompression?: Compression | null;
  /** initial /proc/sys/kernel/modprobe (default the preset's "/sbin/modprobe") */
  modprobePath?: string;
  /** max_threads for the v4.9 limit min(max_threads/2, 50) (default 32768 = 4 GiB / 128 KiB) */
  maxThreads?: number;
  /** built-in filesystem types (default ramfs, tmpfs, proc, sysfs) */
  builtinFilesystems?: string[];
  /** same-name policy plug-in (replaces the builtin duplicate-handling step) */
  policy?: SameNamePolicy;
  /** security_kernel_module_request() hook: non-zero denies a request with that value */
  securityKernelModuleRequest?: (name: string) => number;
  /** echo dmesg lines as they are printed */
  echoDmesg?: (line: string) => void;
  /**
   * Relative ± spread of the kernel's own CPU costs (read, decompress, signature, layout,
   * relocation, sysfs, init), drawn from the seeded "kernel" stream. Real CPUs never run the same
   * path in exactly the same time; without spread, waiters woken together by wake_up_all move in
   * lockstep through the next load. Default 0 (exact costs, for unit tests); systems use 0.2.
   */
  jitter?: number;
}

export class Kernel implements KernelInternal {
  readonly release: string;
  readonly preset: KernelPreset;
  readonly timings: KernelTimings;
  readonly config: KernelConfig;
  readonly cpu: CpuPool;
  readonly printk: Printk;
  readonly memory: KernelMemory;
  readonly stats: ModuleStats;
  readonly loader: ModuleLoader;
  readonly kmod: Kmod;
  readonly umh: UsermodeHelper;
  readonly dups: KmodDups | null;
  readonly idempotent: IdempotentTable | null;
  readonly filesystems: FileSystems;
  /** the same-name policy plug-in (KernelOptions.policy), if any */
  readonly policy: SameNamePolicy | null;
  readonly policies: readonly SameNamePolicy[];
  readonly securityKernelModuleRequest: ((name: string) => number) | null;
  /** relative ± spread of CPU costs (KernelOptions.jitter) */
  readonly jitter: number;
  private readonly costRng: Rng;
  private _modprobePath: string;
  private ueventListener: ((ev: KernelUevent) => void) | null = null;

  constructor(
    readonly sim: Sim,
    opts: KernelOptions = {},
  ) {
    this.preset = resolvePreset(opts.preset, opts.flags);
    this.release = this.preset.name;
    const fl = this.preset.flags;
    this.timings = {
      ...DEFAULT_TIMINGS,
      ...opts.timings,
      decompressBytesPerSec: { ...DEFAULT_TIMINGS.decompressBytesPerSec, ...opts.timings?.decompressBytesPerSec },
    } as KernelTimings;
    const defaultCompression = fl.inKernelDecompress.includes('xz') ? 'xz' : (fl.inKernelDecompress[0] ?? null);
    this.config = {
      sig_enforce: opts.sigEnforce ?? false,
      module_sig: opts.moduleSig ?? true,
      modules_disabled: opts.modulesDisabled ?? false,
      module_blacklist: [...(opts.moduleBlacklist ?? [])],
      force_unload: opts.forceUnload ?? false,
      moduleCompression: opts.moduleCompression === undefined ? defaultCompression : opts.moduleCompression,
    };
    this.cpu = opts.cpu ?? new CpuPool(sim, 4);
    this.jitter = opts.jitter ?? 0;
    this.costRng = sim.rng.stream('kernel');
    this.printk = new Printk(sim, opts.echoDmesg ?? null);
    this.memory = new KernelMemory(sim, this.printk, opts.memory);
    this.stats = new ModuleStats(this.preset.constants);
    this.policy = opts.policy ?? null;
    this.policies = [...(this.policy !== null ? [this.policy] : []), ...whatIfPolicies(fl, this)];
    this.loader = new ModuleLoader(this);
    this.umh = new UsermodeHelper(this);
    this.umh.enabled = opts.usermodehelperEnabled ?? true;
    this.umh.host = opts.umh ?? null;
    this.dups = fl.autoloadDups ? new KmodDups(this) : null;
    if (this.dups !== null && opts.dupsTrace !== undefined) this.dups.enable_dups_trace = opts.dupsTrace;
    this.idempotent = fl.idempotentFinit !== 'off' ? new IdempotentTable(this) : null;
    this.kmod = new Kmod(this, opts.maxThreads ?? 32768);
    this.filesystems = new FileSystems(this, opts.builtinFilesystems ?? ['ramfs', 'tmpfs', 'proc', 'sysfs']);
    this.securityKernelModuleRequest = opts.securityKernelModuleRequest ?? null;
    this._modprobePath = writeModprobePath(opts.modprobePath ?? this.preset.constants.defaultModprobePath, this.preset.constants.kmodPathLen);
  }

  /** the CPU time of one step of kernel work: `ns` with the configured spread, whole ns */
  cost(ns: number): number {
    return this.jitter > 0 ? this.costRng.jitter(ns, this.jitter) : Math.round(ns);
  }

  /** userspace is built after the kernel: plug its modprobe in here */
  setUsermodeHelper(host: UsermodeHelperHost | null): void {
    this.umh.host = host;
  }

  /** userspace's uevent listener (udevd's netlink socket), null: nobody listens and uevents are lost */
  setUeventListener(fn: ((ev: KernelUevent) => void) | null): void {
    this.ueventListener = fn;
  }

  uevent(ev: KernelUevent): void {
    this.ueventListener?.(ev);
  }

  /** usermodehelper_enable() / _disable() */
  setUsermodehelperEnabled(on: boolean): void {
    this.umh.enabled = on;
  }

  // ---- system calls ----
  // each runs as its own frame (sim/frame.ts), as a syscall runs on the task's kernel stack: the
  // load pipeline's many steps do not resume the caller's (userspace's) chain of generators
  finit_module(task: Task, file: KFile | null, args: string, flags: number): Proc<number> {
    return frame(this.loader.finit_module(task, file, args, flags));
  }
  init_module(task: Task, file: KFile, len: number, args: string): Proc<number> {
    return frame(this.loader.init_module(task, file, len, args));
  }
  delete_module(task: Task, name: string, flags: number): Proc<number> {
    return frame(this.loader.delete_module(task, name, flags));
  }

  // ---- in-kernel entry points ----
  request_module(task: Task, name: string, wait = true): Proc<number> {
    return this.kmod.__request_module(task, name, wait);
  }
  get_fs_type(task: Task, name: string): Proc<FsTypeRef | null> {
    return this.filesystems.get_fs_type(task, name);
  }
  put_filesystem(ref: FsTypeRef): void {
    this.filesystems.put_filesystem(ref);
  }
  register_filesystem(name: string, owner: string, hasSubtype = false): number {
    return this.filesystems.register_filesystem(name, owner, hasSubtype);
  }
  unregister_filesystem(name: string): number {
    return this.filesystems.unregister_filesystem(name);
  }

  // ---- views ----
  sysfsModule(name: string): SysfsModuleView {
    return sysfsModuleView(this.loader, name);
  }
  procModules(capSyslog: boolean): string {
    return procModules(this.loader, this.memory, capSyslog);
  }
  moduleSections(name: string, capSyslog: boolean): Map<string, string> | null {
    const m = this.loader.modules.get(name);
    return m === undefined ? null : moduleSections(m, this.memory, this.memory.alpha, capSyslog);
  }
  get modprobePath(): string {
    return this._modprobePath;
  }
  set modprobePath(v: string) {
    this._modprobePath = writeModprobePath(v, this.preset.constants.kmodPathLen);
  }
  /** alias used inside the model (kmod.c's name) */
  get modprobe_path(): string {
    return this._modprobePath;
  }
  moduleState(name: string): 'unformed' | 'coming' | 'live' | 'going' | null {
    return this.loader.modules.get(name)?.state ?? null;
  }
  moduleRefcount(name: string): number {
    return this.loader.modules.get(name)?.refcnt ?? 0;
  }
  dmesg(): string[] {
    return this.printk.lines;
  }
  get moduleCompression(): Compression | null {
    return this.config.moduleCompression;
  }

  // ---- beyond KernelApi: reports and tests ----
  /** /sys/kernel/debug/modules/stats (computed on every preset; flags.moduleStats says if it exists) */
  statsText(): string {
    return this.stats.text();
  }
  /** module records, any state */
  modules(): Module[] {
    return [...this.loader.modules.values()];
  }
  /** sleepers inside the kernel: module_wq, kmod limiter */
  sleepers(): { moduleWq: number; kmodLimiter: number } {
    const lim = this.kmod.slots?.waiting ?? this.kmod.sem?.waiting ?? 0;
    return { moduleWq: this.loader.moduleWqSleepers, kmodLimiter: lim };
  }
}

/** Build a simulated kernel on `sim`. */
export function createKernel(sim: Sim, options: KernelOptions = {}): Kernel {
  return new Kernel(sim, options);
}
