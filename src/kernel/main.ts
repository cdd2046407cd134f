/**
 * DOC: module records, their states, and the load pipeline (kernel/module/main.c; spec §2, §5).
 *
 * A module record exists from add_unformed_module() until free_module(). Its state machine is
 * what every duplicate-handling rule is phrased in:
 *
 *   (none) → UNFORMED → COMING → LIVE → GOING (delete_module) → (none)
 *                           └──→ GOING (init failed) → (none)
 *
 * UNFORMED records are invisible to everyone but the same-name check; /sys/module/NAME (and its
 * initstate) appear only after mod_sysfs_setup() during COMING; try_module_get() works for COMING
 * and LIVE. Sleepers on module_wq are woken at the end of a successful do_init_module (after the
 * LIVE transition and the init-free scheduling), after a failed init, when a half-loaded record
 * is unlinked, and (Khorenko's fix) in delete_module.
 *
 * The load pipeline follows spec §5.4 in the order of the preset: finit_module entry checks →
 * [idempotent wrapper] → [policy hooks] → kernel_read_file → [decompression] → module_sig_check →
 * ELF checks → early_mod_check (blacklist, modinfo, and the v6.4 early same-name check, K15) →
 * layout_and_allocate → add_unformed_module (the same-name check in its release variant) →
 * percpu → simplify_symbols (waiting up to 30 s for a COMING dependency) → relocation →
 * complete_formation (COMING) → sysfs → free the copy → do_init_module → LIVE | GOING. CPU-bound
 * steps hold a CPU of the pool; sleeps do not.
 *
 * The same-name check asks the policies first (policy.ts: a user's plug-in, then the what-ifs of
 * kernel/whatif/ the preset turns on), each wrapping the next, the preset's own check last.
 *
 * module_wq is one wait queue in the kernel: every wake_up_all, whichever module it is for, lets
 * every sleeper re-check. Each sleeper's condition here depends only on the record of one name
 * (finished_loading, resolve_symbol's COMING test), so the model keeps one queue per name and a
 * wake_up_all wakes that name's sleepers and those of every name whose record changed since its
 * sleepers last checked: the others would re-check a condition whose answer cannot have moved.
 * Those changes happen before their own module's wake: a failed init is GOING through its
 * synchronize_rcu, a successful one LIVE through module_enable_ro; another module's wake in that
 * window ends its sleepers' wait (what a real 16-vCPU trace shows, calibration/coldplug-debian-6.1.md).
 *
 * module_mutex is a simulated lock only where the kernel holds it across a point that can wait
 * here: complete_formation() and do_init_module()'s success path hold it across their
 * set_memory_*() calls (module_enable_ro/nx/x, ro_after_init: 4.9 … newest), and so across the
 * waits on vmap_purge_lock, which is one (vmap_purge below) when the machine gives a TLB
 * shootdown a cost; free_module() holds it from the unlink across a synchronize_rcu() when the
 * machine gives that one a length (timings.freeModuleSyncRcuNs). Every other section it
 * protects runs without yielding (look-up and insert are one step): while the lock is held those
 * first wait their turn on it — the same-name checks, every sleeper's finished_loading()
 * re-check, resolve_symbol(), the unlinks and delete_module. A woken sleeper re-checks only once
 * it has the lock, so the state it sees is that of its turn, not of the wake; and every
 * wake_up_all then wakes every name's sleepers, as the kernel's one queue does. With the machine's
 * measured wake→run time (timings.mutexWakeQuantilesNs) the lock is the kernel's since 4.10, not
 * FIFO (sim/mutex.ts): a woken waiter takes it only once it runs, a task that asks in that window
 * goes first, the hand-off flag bounds that to once per waiter; and a woken module_wq sleeper
 * runs before it asks — so the sleepers of one wake leave one by one, behind the holds that came
 * in meanwhile (the real traces: calibration/coldplug-debian-6.1.md, last section). On a machine
 * with none of these costs the lock is never held and nothing waits on it.
 */
import { frame, Mutex, WaitQueue, type Proc, type Rng, type WaitOptions, type WaitResult } from '../sim/index.js';
import {
  MODULE_INIT_COMPRESSED_FILE,
  MODULE_INIT_IGNORE_MODVERSIONS,
  MODULE_INIT_IGNORE_VERMAGIC,
  O_TRUNC,
  type KFile,
  type ModuleImage,
  type ModuleInitContext,
  type Task,
} from './api.js';
import { EBADF, EBUSY, EEXIST, EINTR, EINVAL, EKEYREJECTED, ENOENT, ENOEXEC, ENOMEM, EOPNOTSUPP, EPERM, ERESTARTSYS, EWOULDBLOCK } from './errno.js';
import type { KernelInternal } from './internal.js';
import { decompressorWorkspaceBytes, workspaceFailureIsEinval, XZ_MEM_ERROR } from './decompress.js';
import { estimateSections, moduleLayout, type Allocation, type ModuleLayout } from './memory.js';
import type { LoadFileContext, ModuleRecord, ModuleStateName, SameNameCheckContext, SameNamePolicy, SameNameReason } from './policy.js';

export type ModuleState = ModuleStateName;

/**
 * set_memory_*() calls of a load's strict-RWX steps (kernel/module/strict_rwx.c, 6.1):
 * complete_formation's module_enable_ro(mod, false) 4, module_enable_nx 5, module_enable_x 2;
 * after a successful init module_enable_ro(mod, true) 5. Each goes through
 * change_page_attr_set_clr(), which calls vm_unmap_aliases(): it always takes vmap_purge_lock and
 * flushes only if lazily freed areas wait to be purged. The 16-vCPU debian-6.1 coldplug's trace
 * (calibration/coldplug-debian-6.1.md) shows exactly that: 834 calls, 1.4 flushes per successful
 * load before module_load and 0.85 after, 2 per duplicate (its two module_memfree()s).
 */
const SET_MEMORY_CALLS_FORMATION = 11;
const SET_MEMORY_CALLS_AFTER_INIT = 5;

/**
 * A step that returns `v` at once: `yield* returns(v)` is `v`. It never yields, so it makes no
 * engine event; NOTHING and ZERO are shared ones for the steps that, on this machine or preset,
 * have nothing to do (no generator object made for them on every load).
 */
function returns<T>(v: T): Proc<T> {
  const end: IteratorResult<never, T> = Object.freeze({ done: true, value: v });
  return Object.freeze({
    next: () => end,
    return: () => end,
    throw: (e: unknown): never => {
      throw e;
    },
    [Symbol.iterator]() {
      return this;
    },
  }) as unknown as Proc<T>;
}

const NOTHING = returns<void>(undefined);

/** the probabilities at which timings.mutexWakeQuantilesNs gives a wake→run time: 0, 5 … 95, 99, 100 % */
export const MUTEX_WAKE_QUANTILES: readonly number[] = Object.freeze([...Array.from({ length: 20 }, (_, i) => i / 20), 0.99, 1]);
/** MUTEX_WAKE_QUANTILES' index of the median */
const MUTEX_WAKE_MEDIAN = MUTEX_WAKE_QUANTILES.indexOf(0.5);
const ZERO = returns(0);

/** module_wq waits of the same-name checks (only read) */
const INTERRUPTIBLE: WaitOptions = Object.freeze({ mode: 'interruptible' });

/** ELF header size (init_module rejects shorter buffers) */
const ELF_HDR_SIZE = 64;

/** struct module, reduced to what the model observes. */
export class Module implements ModuleRecord {
  state: ModuleState = 'unformed';
  /** module_refcount(): 1 while initialising (the initial reference), users after */
  refcnt = 0;
  /** modules this one took references on (its symbol dependencies) */
  readonly uses: Module[] = [];
  /** modules using this one (source_list) */
  readonly usedBy = new Set<string>();
  /** /sys/module/NAME (with initstate) exists */
  sysfs = false;
  coreAllocs: Allocation[] = [];
  initAllocs: Allocation[] = [];
  percpu: Allocation | null = null;
  /** taint letters of this module (P C O E …) */
  taints = '';
  readonly loadedAt: number;
  constructor(
    readonly name: string,
    readonly image: ModuleImage,
    readonly file: KFile | null,
    readonly layout: ModuleLayout,
    readonly args: string,
    now: number,
  ) {
    this.loadedAt = now;
  }
}

/** struct load_info: what one load attempt holds. */
interface LoadInfo {
  file: KFile;
  image: ModuleImage;
  /** info->len: the ELF image length (after decompression) */
  len: number;
  /** compressed bytes if MODULE_INIT_COMPRESSED_FILE was used, else 0 */
  compressedLen: number;
  /** the kread buffer / decompressed pages / init_module copy */
  copy: Allocation[];
  /** the buffer is not an ELF image (a compressed file passed without the flag) */
  notElf: boolean;
  /** told when the attempt ends (SameNameCheckContext.atLoadEnd); null until someone asks */
  atEnd: ((ok: boolean) => void)[] | null;
}

/** module_wq, one queue per name, woken as the kernel's single queue (see DOC). */
class ModuleWq {
  private qs = new Map<string, WaitQueue>();
  /** names whose record changed while they had sleepers, not woken since */
  private changed = new Set<string>();
  constructor(
    private readonly k: KernelInternal,
    /** module_mutex is modelled: every woken sleeper re-checks under it (see DOC) */
    private readonly recheckUnderMutex: () => boolean,
  ) {}
  q(name: string): WaitQueue {
    let q = this.qs.get(name);
    if (q === undefined) {
      q = new WaitQueue(this.k.sim, `module_wq:${name}`);
      this.qs.set(name, q);
    }
    return q;
  }
  wait(name: string, cond: () => boolean, opts: WaitOptions): Proc<WaitResult> {
    return this.q(name).waitEvent(cond, opts);
  }
  /** the record of `name` changed (setState): its sleepers re-check at the next wake_up_all */
  stateChanged(name: string): void {
    if ((this.qs.get(name)?.waiting ?? 0) > 0) this.changed.add(name);
  }
  wake_up_all(name: string): void {
    if (this.recheckUnderMutex()) {
      // each woken sleeper takes module_mutex once it runs and re-checks at its turn, when any
      // record may have changed: every sleeper is woken, as from the kernel's one queue
      for (const q of this.qs.values()) q.wakeUpAll();
      this.changed.clear();
      return;
    }
    this.qs.get(name)?.wakeUpAll();
    if (this.changed.size === 0) return;
    for (const n of this.changed) if (n !== name) this.qs.get(n)!.wakeUpAll();
    this.changed.clear();
  }
  get sleepers(): number {
    let n = 0;
    for (const q of this.qs.values()) n += q.waiting;
    return n;
  }
}

export class ModuleLoader {
  /** the `modules` list, by name */
  readonly modules = new Map<string, Module>();
  readonly module_wq: ModuleWq;
  private taintedUnsigned = false;
  private taintedOot = false;
  private vmapPurgeLock: Mutex | null = null;
  /** module_mutex, made at its first hold (held only across vm_unmap_aliases and free_module's synchronize_rcu) */
  private moduleMutex: Mutex | null = null;
  private wakeRng: Rng | null = null;
  /** the policies' init_module_from_file and free_module hooks, outermost first */
  private readonly fileHooks: Required<SameNamePolicy>['init_module_from_file'][];
  private readonly freeHooks: Required<SameNamePolicy>['free_module'][];

  constructor(private readonly k: KernelInternal) {
    this.module_wq = new ModuleWq(k, () => this.moduleMutexHeldAcrossWaits());
    this.fileHooks = k.policies.flatMap((p) => (p.init_module_from_file !== undefined ? [p.init_module_from_file.bind(p)] : []));
    this.freeHooks = k.policies.flatMap((p) => (p.free_module !== undefined ? [p.free_module.bind(p)] : []));
  }

  /** layout_sections() result per image (pure function of the image and the preset) */
  private layouts = new WeakMap<ModuleImage, ModuleLayout>();
  private layoutOf(image: ModuleImage): ModuleLayout {
    let l = this.layouts.get(image);
    if (l === undefined) {
      const sections = image.sections ?? estimateSections(image.imageSize, this.k.memory.alpha);
      l = moduleLayout(sections, this.k.preset.flags.moduleMemoryTypes);
      this.layouts.set(image, l);
    }
    return l;
  }

  // ---- look-ups ----------------------------------------------------------------------------

  /** find_module_all(name, even_unformed = true) */
  find_module_all(name: string): Module | undefined {
    return this.modules.get(name);
  }

  /** try_module_get(): COMING and LIVE modules can be referenced, GOING ones cannot */
  try_module_get(name: string): boolean {
    const m = this.modules.get(name);
    if (m === undefined || (m.state !== 'coming' && m.state !== 'live')) return false;
    m.refcnt++;
    return true;
  }

  module_put(name: string): void {
    const m = this.modules.get(name);
    if (m !== undefined && m.refcnt > 0) m.refcnt--;
  }

  private setState(m: Module, to: ModuleState | 'gone'): void {
    const from = m.state;
    if (to !== 'gone') m.state = to;
    this.module_wq.stateChanged(m.name);
    if (this.k.sim.log.enabled) this.k.sim.log.emit('state', { module: m.name, from, to });
  }

  // ---- syscalls ----------------------------------------------------------------------------

  private may_init_module(task: Task): boolean {
    return task.capSysModule && !this.k.config.modules_disabled;
  }

  /** finit_module(fd, uargs, flags) */
  *finit_module(task: Task, f: KFile | null, args: string, flags: number): Proc<number> {
    const sim = this.k.sim;
    if (sim.log.enabled) sim.log.emit('finit', { phase: 'enter', module: f?.image.name ?? null, inode: f?.inode ?? null, flags }, task.proc);
    const k = this.k;
    let ret: number;
    if (!this.may_init_module(task)) ret = -EPERM;
    else if ((flags & ~k.preset.flags.finitFlagsMask) !== 0) ret = -EINVAL;
    else if (f === null) ret = -EBADF;
    else if (k.idempotent !== null) ret = yield* k.idempotent.idempotent_init_module(task, f, () => this.init_module_from_file(task, f, args, flags));
    else ret = yield* this.init_module_from_file(task, f, args, flags);
    if (ret === -ERESTARTSYS) ret = -EINTR;
    if (sim.log.enabled) sim.log.emit('finit', { phase: 'exit', module: f?.image.name ?? null, inode: f?.inode ?? null, ret }, task.proc);
    return ret;
  }

  /** init_module(umod, len, uargs): userspace passes the (decompressed) image */
  *init_module(task: Task, f: KFile, len: number, args: string): Proc<number> {
    const k = this.k;
    const sim = k.sim;
    if (sim.log.enabled) sim.log.emit('init_module', { phase: 'enter', module: f.image.name, len }, task.proc);
    let ret: number;
    if (!this.may_init_module(task)) ret = -EPERM;
    else if (len < ELF_HDR_SIZE) ret = -ENOEXEC;
    else {
      const a = k.memory.alloc('vmalloc', 'init_module_copy', len, f.image.name);
      if (a === null) {
        k.stats.mod_stat_bump_kread(len);
        ret = -ENOMEM;
      } else {
        yield* k.cpu.compute(k.cost((len / k.timings.copyFromUserBytesPerSec) * 1e9));
        const info: LoadInfo = { file: f, image: f.image, len, compressedLen: 0, copy: [a], notElf: false, atEnd: null };
        ret = yield* frame(this.load_module(task, info, args, 0)); // its own frame (sim/frame.ts), like read_and_load's
      }
    }
    if (ret === -ERESTARTSYS) ret = -EINTR;
    if (sim.log.enabled) sim.log.emit('init_module', { phase: 'exit', module: f.image.name, ret }, task.proc);
    return ret;
  }

  /**
   * init_module_from_file(): the policies' hooks (the what-if exclusive write-deny and kread
   * dedup), each wrapping the next, around kernel_read_file + decompression + load_module.
   */
  private init_module_from_file(task: Task, f: KFile, args: string, flags: number): Proc<number> {
    if (this.fileHooks.length === 0) return this.read_and_load(task, f, args, flags);
    const ctx: LoadFileContext = { task, file: f, record: () => this.modules.get(f.image.name) };
    const step = (i: number): Proc<number> => {
      const hook = this.fileHooks[i];
      return hook === undefined ? this.read_and_load(task, f, args, flags) : hook(ctx, () => step(i + 1));
    };
    return step(0);
  }

  /** kernel_read_file() into vmalloc, module_decompress() if asked to, load_module() */
  private *read_and_load(task: Task, f: KFile, args: string, flags: number): Proc<number> {
    const k = this.k;
    let ret: number;
    const name = f.image.name;
    // kernel_read_file(): vmalloc(file size) and read it all
    const buf = f.size > 0 ? k.memory.alloc('vmalloc', 'kread', f.size, name) : null;
    if (buf === null) {
      k.stats.mod_stat_bump_kread(0);
      ret = f.size > 0 ? -ENOMEM : -EINVAL;
    } else {
      if (k.sim.log.wants('kernel_read_file')) k.sim.log.emit('kernel_read_file', { module: name, bytes: f.size }, task.proc);
      yield* k.cpu.compute(k.cost((f.size / k.timings.kernelReadBytesPerSec) * 1e9));
      const info: LoadInfo = { file: f, image: f.image, len: f.size, compressedLen: 0, copy: [buf], notElf: false, atEnd: null };
      ret = 0;
      if ((flags & MODULE_INIT_COMPRESSED_FILE) !== 0) ret = yield* this.module_decompress(task, info);
      else if (f.compression !== 'none') info.notElf = true; // a compressed blob is not an ELF image
      else info.len = f.image.imageSize;
      // load_module as its own frame (sim/frame.ts): its many steps resume neither this nor the syscall
      if (ret === 0) ret = yield* frame(this.load_module(task, info, args, flags));
    }
    return ret;
  }

  /**
   * module_decompress(): the decompressor's working memory (vmalloc, for the decompression only:
   * decompress.ts), pages for the image, vmap()ed; the kread buffer is freed right after
   */
  private *module_decompress(task: Task, info: LoadInfo): Proc<number> {
    const k = this.k;
    const f = info.file;
    const kread = info.copy[0]!;
    info.compressedLen = f.size;
    const fail = (err: number): number => {
      k.memory.free(kread);
      info.copy = [];
      k.stats.mod_stat_bump_decompress(f.size);
      if (k.sim.log.wants('decompress')) k.sim.log.emit('decompress', { module: f.image.name, ok: false, ret: err }, task.proc);
      return err;
    };
    // without CONFIG_MODULE_DECOMPRESS, module_decompress() is a stub that says "not supported"
    if (k.config.moduleCompression === null) return fail(-EOPNOTSUPP);
    if (f.compression === 'none' || f.compression !== k.config.moduleCompression) {
      k.printk.printk(`${k.config.moduleCompression ?? 'decompress'}: not a ${k.config.moduleCompression ?? ''} compressed module`, 'err');
      return fail(-EINVAL);
    }
    const algo = f.compression;
    const workspace = k.memory.alloc('vmalloc', 'decompress_workspace', decompressorWorkspaceBytes(algo, f), f.image.name);
    if (workspace === null) {
      if (!workspaceFailureIsEinval(algo)) return fail(-ENOMEM);
      k.printk.printk(`decompression failed with status ${XZ_MEM_ERROR}`, 'err');
      return fail(-EINVAL);
    }
    const pages = k.memory.alloc('vmalloc', 'decompress', f.image.imageSize, f.image.name, { vmap: true });
    if (pages === null) {
      k.memory.free(workspace);
      return fail(-ENOMEM);
    }
    yield* k.cpu.compute(k.cost((f.image.imageSize / k.timings.decompressBytesPerSec[algo]) * 1e9));
    // the decompressor's end (xz_dec_end, zlib_inflateEnd + vfree, vfree of zstd's workspace),
    // then vmap() of the pages, then the kread buffer
    k.memory.free(workspace);
    k.memory.free(kread);
    info.copy = [pages];
    info.len = f.image.imageSize;
    if (k.sim.log.wants('decompress')) k.sim.log.emit('decompress', { module: f.image.name, ok: true, bytes: info.len }, task.proc);
    return 0;
  }

  // ---- load_module -------------------------------------------------------------------------

  private *load_module(task: Task, info: LoadInfo, args: string, flags: number): Proc<number> {
    const k = this.k;
    const t = k.timings;
    const image = info.image;
    const name = image.name;

    // module_sig_check(): a signed module is verified (hash + signature); mangled = unsigned
    const mangled = (flags & (MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC)) !== 0;
    const sigOk = image.signed && !mangled && !info.notElf;
    if (image.signed && !info.notElf) yield* k.cpu.compute(k.cost(t.sigVerifyNs + (info.len / t.sigHashBytesPerSec) * 1e9));
    if (!sigOk && k.config.sig_enforce) {
      k.printk.printk(`Loading of ${mangled ? 'module with unavailable key' : 'unsigned module'} is rejected`, 'err');
      return this.failBecoming(info, -EKEYREJECTED);
    }

    // elf_validity_cache_copy / setup_load_info (the CPU time covers early_mod_check's checks too)
    yield* k.cpu.compute(k.cost(t.elfCheckNs));
    if (info.notElf || image.imageSize < ELF_HDR_SIZE) return this.failBecoming(info, -ENOEXEC);
    const err = yield* this.early_mod_check(task, info);
    if (err !== 0) return this.failBecoming(info, err);

    // layout_and_allocate(): layout_sections (cheap), the module memory in the module area, then
    // move_module copies the sections into it — so the memory is held while the copy runs (a
    // duplicate rejected after this, before v6.4, held it that long: the live storms' peaks).
    // One CPU burst for both, after the allocation: nothing in between sleeps.
    const layout = this.layoutOf(image);
    const core: Allocation[] = [];
    const init: Allocation[] = [];
    for (const r of layout.regions) {
      const a = k.memory.alloc('module', r.kind, r.size, name);
      if (a === null) {
        k.memory.freeAll(core);
        k.memory.freeAll(init);
        return this.failBecoming(info, -ENOMEM);
      }
      (r.init ? init : core).push(a);
    }
    yield* k.cpu.compute(k.cost(t.layoutNs + (layout.totalSize / t.sectionCopyBytesPerSec) * 1e9));

    // add_unformed_module(): its same-name check (and the wait in it) runs on this frame; the
    // preset's check takes its turn on module_mutex, and the insert follows it in the same step
    const checked = yield* this.policyCheck(0, task, name, 'load', info);
    this.sameNameChecked(task, name, 'load', checked);
    const mod = this.add_unformed_module(info, layout, args, core, init, checked);
    if (typeof mod === 'number') {
      // module_deallocate(): each region is a VM_FLUSH_RESET_PERMS vfree
      yield* this.vmap_purge(core.length + init.length);
      return this.failInvalid(info, core, init, mod);
    }

    return yield* this.load_formed(task, info, mod, layout.percpu, sigOk, core, init);
  }

  /**
   * load_module from the formed module on: its own generator, so the frame a duplicate keeps
   * while it waits in the same-name check above (thousands at once in a many-CPU storm) holds
   * only the locals up to there
   */
  private *load_formed(task: Task, info: LoadInfo, mod: Module, percpu: number, sigOk: boolean, core: Allocation[], init: Allocation[]): Proc<number> {
    const k = this.k;
    const t = k.timings;
    const image = info.image;
    const name = image.name;
    // percpu, taint
    if (percpu > 0) mod.percpu = k.memory.alloc('percpu', 'percpu', percpu, name);
    if (image.outOfTree === true) {
      mod.taints += 'O';
      if (!this.taintedOot) {
        this.taintedOot = true;
        k.printk.printk(`${name}: loading out-of-tree module taints kernel.`, 'warn');
      }
    }
    if (!sigOk && k.config.module_sig) {
      mod.taints += 'E';
      if (!this.taintedUnsigned) {
        this.taintedUnsigned = true;
        k.printk.printk(`${name}: module verification failed: signature and/or required key missing - tainting kernel`, 'warn');
      }
    }
    mod.refcnt = 1; // module_unload_init(): held during initialisation

    // simplify_symbols(): resolve against dependencies (waiting for COMING ones)
    for (const dep of image.symbolDeps) {
      const err = yield* this.resolve_symbol_wait(task, mod, dep);
      if (err !== 0) {
        yield* this.unlinkFailed(mod);
        yield* this.vmap_purge(core.length + init.length);
        return this.failInvalid(info, core, init, err);
      }
    }
    // apply_relocations + post_relocation
    yield* k.cpu.compute(k.cost((info.len / 1024) * t.relocationNsPerKiB));

    // complete_formation(): under module_mutex the RWX steps (module_enable_ro/nx/x), COMING;
    // then notifier, parse_args, mod_sysfs_setup
    yield* this.module_mutex_locked(SET_MEMORY_CALLS_FORMATION);
    this.setState(mod, 'coming');
    this.module_mutex_unlock();
    yield* k.cpu.compute(k.cost(t.sysfsSetupNs));
    if (this.modules.get(name) === mod) mod.sysfs = true;

    // the copy is freed before init runs
    k.memory.freeAll(info.copy);
    info.copy = [];
    const ret = yield* this.do_init_module(task, mod);
    this.loadEnded(info, ret === 0);
    return ret;
  }

  /** a load that failed before its module memory was allocated (MODULE_STATS "becoming") */
  private failBecoming(info: LoadInfo, err: number): number {
    const k = this.k;
    k.memory.freeAll(info.copy);
    info.copy = [];
    k.stats.mod_stat_bump_becoming(info.len, info.compressedLen);
    this.loadEnded(info, false);
    return err;
  }

  /** a load that failed holding its module memory (MODULE_STATS "invalid"): free it and the copy */
  private failInvalid(info: LoadInfo, core: Allocation[], init: Allocation[], err: number): number {
    const k = this.k;
    k.memory.freeAll(core);
    k.memory.freeAll(init);
    k.memory.freeAll(info.copy);
    info.copy = [];
    k.stats.mod_stat_bump_invalid(info.len, info.compressedLen);
    this.loadEnded(info, false);
    return err;
  }

  /**
   * add_unformed_module(): after the release's same-name check (reason LOAD: after
   * layout_and_allocate, so a duplicate rejected here has allocated its module memory; the
   * caller ran it, `checked` is its answer), the record goes into the list as UNFORMED. The new
   * record, or the errno.
   */
  private add_unformed_module(info: LoadInfo, layout: ModuleLayout, args: string, core: Allocation[], init: Allocation[], checked: number): Module | number {
    const name = info.image.name;
    let err = checked;
    if (err === 0 && this.modules.has(name)) err = -EEXIST; // a plug-in said 0 while a record exists
    if (err !== 0) return err;
    const mod = new Module(name, info.image, info.file, layout, args, this.k.sim.now);
    mod.coreAllocs = core;
    mod.initAllocs = init;
    this.modules.set(name, mod);
    this.setState(mod, 'unformed');
    return mod;
  }

  /** the load attempt is over: tell whoever asked (SameNameCheckContext.atLoadEnd), once */
  private loadEnded(info: LoadInfo, ok: boolean): void {
    const fns = info.atEnd;
    if (fns === null) return;
    info.atEnd = null;
    for (const fn of fns) fn(ok);
  }

  /**
   * early_mod_check(): what load_module checks before any module memory is allocated —
   * module_blacklist=, the modinfo (vermagic) check, and the early same-name check: since v6.4
   * (K15, flags.earlySameNameCheck) module_patient_check_exists() runs here with reason BECOMING,
   * before layout_and_allocate, so a duplicate waits or fails holding only its copy of the file
   * (MODULE_STATS counts it as "Becoming"). Without K15 only the policies are asked here.
   */
  private early_mod_check(task: Task, info: LoadInfo): Proc<number> {
    // not a generator of its own: its checks run as the caller's yield* starts it
    const k = this.k;
    const name = info.image.name;
    if (k.config.module_blacklist.includes(name)) {
      k.printk.printk(`Module ${name} is blacklisted`, 'err');
      return returns(-EPERM);
    }
    if (info.image.badModinfo === true) {
      k.printk.printk(`${name}: version magic mismatch`, 'err');
      return returns(-ENOEXEC);
    }
    return this.sameNameCheck(task, name, 'becoming', info);
  }

  /** the failure path after add_unformed_module: unlink, wake, synchronize_rcu, (caller frees) */
  private *unlinkFailed(mod: Module): Proc<void> {
    const k = this.k;
    yield* this.module_mutex_turn();
    if (mod.state === 'coming') this.setState(mod, 'going');
    mod.sysfs = false;
    this.dropUses(mod);
    if (this.modules.get(mod.name) === mod) this.modules.delete(mod.name);
    this.setState(mod, 'gone');
    if (mod.percpu !== null) k.memory.free(mod.percpu);
    this.module_wq.wake_up_all(mod.name);
    yield k.sim.delay(k.timings.rcuGracePeriodNs);
  }

  private dropUses(mod: Module): void {
    for (const d of mod.uses) {
      d.usedBy.delete(mod.name);
      if (d.refcnt > 0) d.refcnt--;
    }
    mod.uses.length = 0;
  }

  /** resolve_symbol_wait(): a COMING dependency makes the loader wait up to 30 s */
  private *resolve_symbol_wait(task: Task, mod: Module, dep: string): Proc<number> {
    const k = this.k;
    const status = (): number => {
      const d = this.modules.get(dep);
      if (d === undefined || d.state === 'unformed' || d.state === 'going') return -ENOENT;
      if (d.state === 'coming') return -EBUSY;
      return 0;
    };
    yield* this.module_mutex_turn();
    let s = status();
    if (s === -EBUSY) {
      if (k.sim.log.wants('wait')) k.sim.log.emit('wait', { on: 'resolve_symbol', name: dep, module: mod.name, phase: 'begin' }, task.proc);
      const q = this.module_wq.q(dep);
      const timeoutNs = k.preset.constants.resolveSymbolTimeoutS * 1e9;
      const r = this.moduleMutexHeldAcrossWaits()
        ? yield* this.waitUnderMutex(q, () => status() !== -EBUSY, 'uninterruptible', timeoutNs)
        : yield* q.waitEvent(() => status() !== -EBUSY, { mode: 'uninterruptible', timeoutNs });
      if (k.sim.log.wants('wait')) k.sim.log.emit('wait', { on: 'resolve_symbol', name: dep, module: mod.name, phase: 'end', status: r.status }, task.proc);
      s = status();
      if (s === -EBUSY) {
        k.printk.printk(`${mod.name}: gave up waiting for init of module ${dep}.`, 'warn');
        return -EBUSY;
      }
    }
    if (s !== 0) {
      k.printk.printk(`${mod.name}: Unknown symbol from ${dep} (err ${s})`, 'warn');
      return s;
    }
    const d = this.modules.get(dep)!;
    if (!mod.uses.includes(d)) {
      d.refcnt++;
      d.usedBy.add(mod.name);
      mod.uses.push(d);
    }
    return 0;
  }

  // ---- the same-name check -----------------------------------------------------------------

  private sameNameCheck(task: Task, name: string, reason: SameNameReason, info: LoadInfo): Proc<number> {
    // no policy and no early check of the preset: 'becoming' passes at once (no generator for it)
    if (reason === 'becoming' && this.k.policies.length === 0 && !this.k.preset.flags.earlySameNameCheck) {
      this.sameNameChecked(task, name, reason, 0);
      return ZERO;
    }
    return this.sameNameCheckWith(task, name, reason, info);
  }

  private *sameNameCheckWith(task: Task, name: string, reason: SameNameReason, info: LoadInfo): Proc<number> {
    const ret = yield* this.policyCheck(0, task, name, reason, info);
    this.sameNameChecked(task, name, reason, ret);
    return ret;
  }

  /** the log's record of a check that refused, or passed while a record of the name exists */
  private sameNameChecked(task: Task, name: string, reason: SameNameReason, ret: number): void {
    const k = this.k;
    if (k.sim.log.wants('same_name') && (ret !== 0 || this.modules.has(name))) k.sim.log.emit('same_name', { module: name, reason, ret }, task.proc);
  }

  /** policy i's check, whose ctx.builtin() is policy i+1's; after the last, the preset's own */
  private policyCheck(i: number, task: Task, name: string, reason: SameNameReason, info: LoadInfo): Proc<number> {
    const p = this.k.policies[i];
    if (p === undefined) return this.builtinSameNameCheck(task, name, reason);
    return p.check(this.policyContext(task, name, reason, info, () => this.policyCheck(i + 1, task, name, reason, info)));
  }

  private policyContext(task: Task, name: string, reason: SameNameReason, info: LoadInfo, builtin: () => Proc<number>): SameNameCheckContext {
    const k = this.k;
    const modules = this.modules;
    const wq = this.module_wq;
    const finished = () => this.finished_loading(name, 'no-retry');
    return {
      name,
      reason,
      task,
      release: k.release,
      now: () => k.sim.now,
      state: () => modules.get(name)?.state ?? null,
      *waitFinished(opts = {}) {
        const cond = opts.cond ?? finished;
        const r = yield* wq.q(name).waitEvent(cond, { mode: opts.mode ?? 'interruptible', ...(opts.timeoutNs !== undefined ? { timeoutNs: opts.timeoutNs } : {}) });
        return r.status;
      },
      recordDuplicate: () => k.stats.try_add_failed_module(name, reason),
      builtin,
      atLoadEnd: (fn) => {
        (info.atEnd ??= []).push(fn);
      },
    };
  }

  /** the preset's own check: K15's early one at 'becoming', the release's variant at 'load' */
  private builtinSameNameCheck(task: Task, name: string, reason: SameNameReason): Proc<number> {
    // not a generator of its own: it picks the check, which runs as the caller's yield* starts it
    const fl = this.k.preset.flags;
    if (reason === 'becoming') {
      if (!fl.earlySameNameCheck) return ZERO;
      return this.module_patient_check_exists(task, name, 'becoming');
    }
    switch (fl.sameNameCheck) {
      case 'no-retry':
        return this.module_patient_check_exists(task, name, 'load');
      case 'v4.9':
      case 'wait-going-retry':
        return this.add_unformed_module_retry(task, name, fl.sameNameCheck);
    }
  }

  /**
   * finished_loading(name): v4.9 and K12+ stop waiting at LIVE or GOING (or no record);
   * K6 waits through GOING until the record is gone or LIVE.
   */
  finished_loading(name: string, variant: 'v4.9' | 'wait-going-retry' | 'no-retry'): boolean {
    const m = this.modules.get(name);
    if (m === undefined) return true;
    if (variant === 'wait-going-retry') return m.state === 'live';
    return m.state === 'live' || m.state === 'going';
  }

  /** pre-K12 add_unformed_module: wait, then start over ("goto again") */
  private *add_unformed_module_retry(task: Task, name: string, variant: 'v4.9' | 'wait-going-retry'): Proc<number> {
    const k = this.k;
    for (;;) {
      yield* this.module_mutex_turn();
      const old = this.modules.get(name);
      if (old === undefined) return 0;
      const mustWait = variant === 'v4.9' ? old.state === 'unformed' || old.state === 'coming' : old.state !== 'live';
      if (!mustWait) {
        k.stats.try_add_failed_module(name, 'load');
        return -EEXIST;
      }
      const r = yield* this.waitModuleWq(task, name, () => this.finished_loading(name, variant));
      if (r.status !== 'ok') return -ERESTARTSYS;
    }
  }

  /** module_patient_check_exists() (K12 semantics; v6.4+ also at the early check) */
  *module_patient_check_exists(task: Task, name: string, reason: SameNameReason): Proc<number> {
    const k = this.k;
    yield* this.module_mutex_turn();
    let old = this.modules.get(name);
    if (old === undefined) return 0;
    if (old.state === 'coming' || old.state === 'unformed') {
      const r = yield* this.waitModuleWq(task, name, () => this.finished_loading(name, 'no-retry'));
      if (r.status !== 'ok') return -ERESTARTSYS;
      yield* this.module_mutex_turn();
      old = this.modules.get(name); // it might have gone in the meantime
    }
    k.stats.try_add_failed_module(name, reason);
    return old !== undefined && old.state === 'live' ? -EEXIST : -EBUSY;
  }

  private waitModuleWq(task: Task, name: string, cond: () => boolean): Proc<WaitResult> {
    // a log that wants no 'wait' records: the wait itself, without a generator around it
    if (!this.k.sim.log.wants('wait')) return this.waitFinished(name, cond);
    return this.waitModuleWqLogged(task, name, cond);
  }

  /** a module_wq wait whose condition takes module_mutex; with no shootdown cost, the wait op itself */
  private waitFinished(name: string, cond: () => boolean): Proc<WaitResult> {
    const q = this.module_wq.q(name);
    if (!this.moduleMutexHeldAcrossWaits()) return q.waitEvent(cond, INTERRUPTIBLE);
    return this.waitUnderMutex(q, cond, 'interruptible', undefined);
  }

  /**
   * wait_event on `q` for a condition checked under module_mutex (finished_loading,
   * resolve_symbol). At entry the task runs: a free lock gives the answer at once, a held one
   * queues it. A woken sleeper first needs its wake→run time (timings.mutexWakeQuantilesNs) and then
   * takes the lock (uninterruptibly, as mutex_lock): a holder that came in meanwhile goes first,
   * and the state it sees is that of its turn, not of the wake. A false answer sleeps again.
   */
  private *waitUnderMutex(q: WaitQueue, cond: () => boolean, mode: 'interruptible' | 'uninterruptible', timeoutNs: number | undefined): Proc<WaitResult> {
    const m = this.module_mutex();
    let remainingNs = timeoutNs ?? Infinity;
    let deferred = false;
    let woken = false;
    // 'entry': wait_event's first check; 'rechecked': the answer under the lock was just false
    let phase: 'entry' | 'rechecked' | 'asleep' = 'entry';
    const check = (): boolean => {
      const was = phase;
      phase = 'asleep';
      if (was === 'rechecked') return false;
      if (was === 'entry' && !m.locked) return cond();
      deferred = true;
      woken = was === 'asleep';
      return true;
    };
    for (;;) {
      deferred = false;
      const r = yield* q.waitEvent(check, Number.isFinite(remainingNs) ? { mode, timeoutNs: remainingNs } : { mode });
      if (r.status !== 'ok' || !deferred) return r;
      remainingNs = r.remainingNs;
      if (woken) yield this.k.sim.delay(this.wakeToRun());
      yield* m.lock();
      const ok = cond();
      this.moduleMutex!.unlock();
      if (ok) return { status: 'ok', remainingNs };
      phase = 'rechecked';
    }
  }

  private *waitModuleWqLogged(task: Task, name: string, cond: () => boolean): Proc<WaitResult> {
    const sim = this.k.sim;
    sim.log.emit('wait', { on: 'module_wq', name, phase: 'begin' }, task.proc);
    const r = yield* this.waitFinished(name, cond);
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'module_wq', name, phase: 'end', status: r.status }, task.proc);
    return r;
  }

  // ---- init --------------------------------------------------------------------------------

  private *runInit(task: Task, mod: Module): Proc<number> {
    const k = this.k;
    const b = mod.image.behaviour;
    let result: number;
    if (b.init !== undefined) {
      const ctx: ModuleInitContext = { task, kernel: k, module: mod.name, args: mod.args };
      result = yield* b.init(ctx);
    } else {
      yield* k.cpu.compute(k.cost(b.initCpuNs));
      for (const req of b.requests ?? []) yield* k.request_module(task, req, true);
      if (b.initSleepNs > 0) yield k.sim.delay(Math.round(b.initSleepNs));
      result = b.initResultParam === undefined ? b.initResult : (paramErrno(mod.args, b.initResultParam) ?? b.initResult);
      if (result >= 0) for (const fs of b.registersFs ?? []) k.register_filesystem(fs, mod.name);
    }
    // the devices init added (device_add): their uevents go out while the module is still COMING
    if (result >= 0) for (const ev of b.addsDevices ?? []) k.uevent(ev);
    return result;
  }

  /** do_init_module(): run init, then LIVE (+ uevent, init free, wake) or GOING (+ free, wake) */
  private *do_init_module(task: Task, mod: Module): Proc<number> {
    const k = this.k;
    const sim = k.sim;
    if (sim.log.wants('init')) sim.log.emit('init', { module: mod.name, phase: 'start' }, task.proc);
    let ret = yield* this.runInit(task, mod);
    if (sim.log.wants('init')) sim.log.emit('init', { module: mod.name, phase: 'end', ret }, task.proc);
    if (ret < 0) {
      // v7.1: -EEXIST is what [f]init_module tells userspace for "a module of this name is
      // already loaded" (modprobe then reports success), so an init's own -EEXIST is turned into
      // -EBUSY before it leaves the kernel; earlier kernels pass it through unchanged
      if (ret === -EEXIST && k.preset.flags.initEexistAsEbusy) ret = -EBUSY;
      // fail_free_freeinit
      this.setState(mod, 'going');
      yield sim.delay(k.timings.rcuGracePeriodNs);
      if (mod.refcnt > 0) mod.refcnt--;
      yield* this.free_module(mod);
      this.module_wq.wake_up_all(mod.name);
      return ret;
    }
    if (ret > 0) {
      if (k.preset.flags.initPositiveWarning === 'one-line') {
        k.printk.printk(`${mod.name}: init suspiciously returned ${ret}, it should follow 0/-E convention`, 'warn');
      } else {
        k.printk.printk(`do_init_module: '${mod.name}'->init suspiciously returned ${ret}, it should follow 0/-E convention`, 'warn');
        k.printk.printk('do_init_module: loading module anyway...', 'warn');
        // dump_stack(), reduced to its recognisable first line
        k.printk.printk(`CPU: 0 PID: ${task.proc.pid} Comm: ${task.comm}`, 'warn');
      }
      ret = 0;
    }
    this.setState(mod, 'live');
    if (sim.log.wants('uevent')) sim.log.emit('uevent', { module: mod.name, action: 'add', kobj: `/module/${mod.name}` }, task.proc);
    // under module_mutex, module_enable_ro(mod, true) runs after the LIVE transition and before
    // wake_up_all: a newcomer already reads "live" while the same-name waiters still sleep
    yield* this.module_mutex_locked(SET_MEMORY_CALLS_AFTER_INIT);
    if (mod.refcnt > 0) mod.refcnt--; // drop the initial reference
    // init memory is freed later (K5: call_rcu before, workqueue + synchronize_rcu after)
    const initAllocs = mod.initAllocs;
    mod.initAllocs = [];
    if (initAllocs.length > 0) {
      const delay = k.timings.rcuGracePeriodNs + (k.preset.flags.initFreeDeferral === 'workqueue' ? k.timings.workqueueDelayNs : 0);
      sim.at(sim.now + delay, () => k.memory.freeAll(initAllocs));
    }
    this.module_mutex_unlock();
    k.stats.mod_stat_add_success(mod.layout.totalSize, mod.layout.textSize);
    this.module_wq.wake_up_all(mod.name);
    return 0;
  }

  /**
   * module_mutex held across `n` set_memory_*() calls (their vm_unmap_aliases()); the caller's
   * following steps up to module_mutex_unlock() run without yielding. When no hold of the
   * machine can wait (moduleMutexHeldAcrossWaits) the lock is not taken.
   */
  private module_mutex_locked(n: number): Proc<void> {
    return this.moduleMutexHeldAcrossWaits() ? this.lockAcrossUnmap(n) : NOTHING;
  }

  private *lockAcrossUnmap(n: number): Proc<void> {
    yield* this.module_mutex().lock();
    yield* this.vm_unmap_aliases(n);
  }

  /**
   * A woken task's wake→run time: a draw from the machine's measured distribution
   * (timings.mutexWakeQuantilesNs, its values at MUTEX_WAKE_QUANTILES; linear between them), from
   * a stream of its own so that no other draw moves; its median when costs are exact (jitter 0,
   * as explore runs them); 0 without one.
   */
  private wakeToRun(): number {
    const qs = this.k.timings.mutexWakeQuantilesNs;
    if (qs.length === 0) return 0;
    if (this.k.jitter === 0) return qs[MUTEX_WAKE_MEDIAN]!;
    this.wakeRng ??= this.k.sim.rng.stream('module_mutex wake');
    const u = this.wakeRng.float();
    let i = 1;
    while (i < MUTEX_WAKE_QUANTILES.length - 1 && MUTEX_WAKE_QUANTILES[i]! < u) i++;
    const p0 = MUTEX_WAKE_QUANTILES[i - 1]!;
    const p1 = MUTEX_WAKE_QUANTILES[i]!;
    return Math.round(qs[i - 1]! + ((qs[i]! - qs[i - 1]!) * (u - p0)) / (p1 - p0));
  }

  /**
   * Whether a module_mutex hold can span a wait here: the set_memory_*() calls' flushes
   * (tlbFlushNs) or free_module's synchronize_rcu (freeModuleSyncRcuNs). Otherwise every section
   * is one step and the lock is never modelled.
   */
  private moduleMutexHeldAcrossWaits(): boolean {
    const t = this.k.timings;
    return t.tlbFlushNs > 0 || t.freeModuleSyncRcuNs > 0;
  }

  /** module_mutex, made at its first hold; stealable with a measured wake→run time (sim/mutex.ts) */
  private module_mutex(): Mutex {
    return (this.moduleMutex ??= new Mutex(this.k.sim, 'module_mutex', this.k.timings.mutexWakeQuantilesNs.length > 0 ? { wakeToRun: () => this.wakeToRun() } : {}));
  }

  private module_mutex_unlock(): void {
    if (this.moduleMutex?.owner === this.k.sim.current && this.moduleMutex.locked) this.moduleMutex.unlock();
  }

  /**
   * A one-step module_mutex section (look-up, insert, unlink): it waits its turn while another
   * task holds the lock, then runs at once (lock, section, unlock, without a yield in between).
   */
  private module_mutex_turn(): Proc<void> {
    const m = this.moduleMutex;
    return m !== null && m.locked ? this.takeTurn(m) : NOTHING;
  }

  private *takeTurn(m: Mutex): Proc<void> {
    yield* m.lock();
    m.unlock();
  }

  /**
   * vmap_purge_lock (mm/vmalloc.c), the global mutex of the vmalloc layer's TLB shootdowns. A vfree
   * of module memory, which module_alloc() maps VM_FLUSH_RESET_PERMS, flushes the kernel range on
   * every online CPU inside it (vm_reset_perms() → _vm_unmap_aliases(): one per region, `n`); a
   * set_memory_*() call's vm_unmap_aliases() takes it too and flushes only if a lazily freed area
   * waits (KernelMemory.lazyPurgePending). So the frees of same-name duplicates and the RWX steps of
   * the loads beside them queue up one behind another. One flush costs timings.tlbFlushNs (the
   * per-CPU IPIs included); 0 = not modelled, and the mutex is not taken at all.
   */
  private vmap_purge(n: number): Proc<void> {
    // with the flush not modelled there is nothing to do: no generator made for it
    return n > 0 && this.k.timings.tlbFlushNs > 0 ? this.purgeLocked(n) : NOTHING;
  }

  /** `n` vm_unmap_aliases() calls (set_memory_*()): each takes the lock, flushes if one is due */
  private vm_unmap_aliases(n: number): Proc<void> {
    return n > 0 && this.k.timings.tlbFlushNs > 0 ? this.unmapAliases(n) : NOTHING;
  }

  private *unmapAliases(n: number): Proc<void> {
    for (let i = 0; i < n; i++) yield* this.purgeLocked(0);
  }

  /**
   * One hold of vmap_purge_lock: `flushes` forced flushes (module_deallocate's regions, back to
   * back: the freeing task takes the mutex again before the waiter it woke runs — mutex lock
   * stealing, which the real trace shows as one duplicate leaving every two flushes), or with 0 a
   * vm_unmap_aliases() that flushes only if a lazily freed area waits.
   */
  private *purgeLocked(flushes: number): Proc<void> {
    const k = this.k;
    const ns = k.timings.tlbFlushNs;
    if (ns <= 0) return;
    this.vmapPurgeLock ??= new Mutex(k.sim, 'vmap_purge_lock');
    yield* this.vmapPurgeLock.lock();
    const n = flushes > 0 ? flushes : k.memory.lazyPurgePending ? 1 : 0;
    k.memory.lazyPurgePending = false;
    for (let i = 0; i < n; i++) yield* k.cpu.compute(k.cost(ns));
    this.vmapPurgeLock.unlock();
  }

  /**
   * free_module(): sysfs teardown, the unlink under module_mutex (its turn while another task
   * holds it) held across the synchronize_rcu() that guards the module list's readers
   * (timings.freeModuleSyncRcuNs; 0: not modelled, the unlink is one step), drop references, then
   * module_memfree() of each region (VM_FLUSH_RESET_PERMS: a flush under vmap_purge_lock each),
   * outside the lock — so the record is gone before its memory is
   */
  private *free_module(mod: Module): Proc<void> {
    const k = this.k;
    mod.sysfs = false;
    k.filesystems.unregisterOwnedBy(mod.name);
    const syncNs = k.timings.freeModuleSyncRcuNs;
    if (syncNs > 0) yield* this.module_mutex().lock();
    else yield* this.module_mutex_turn();
    if (this.modules.get(mod.name) === mod) this.modules.delete(mod.name);
    this.dropUses(mod);
    this.setState(mod, 'gone');
    if (syncNs > 0) {
      yield k.sim.delay(syncNs);
      this.moduleMutex!.unlock();
    }
    yield* this.vmap_purge(mod.coreAllocs.length + mod.initAllocs.length);
    k.memory.freeAll(mod.coreAllocs);
    k.memory.freeAll(mod.initAllocs);
    mod.coreAllocs = [];
    mod.initAllocs = [];
    if (mod.percpu !== null) k.memory.free(mod.percpu);
    for (const hook of this.freeHooks) hook(mod);
  }

  // ---- delete_module -----------------------------------------------------------------------

  *delete_module(task: Task, name: string, flags: number): Proc<number> {
    const k = this.k;
    const ret = yield* this.delete(task, name, flags);
    if (k.sim.log.wants('delete_module')) k.sim.log.emit('delete_module', { module: name, flags, ret }, task.proc);
    return ret;
  }

  private *delete(task: Task, name: string, flags: number): Proc<number> {
    const k = this.k;
    if (!task.capSysModule || k.config.modules_disabled) return -EPERM;
    yield* this.module_mutex_turn();
    const mod = this.modules.get(name);
    if (mod === undefined || mod.state === 'unformed') return -ENOENT;
    if (mod.usedBy.size > 0) return -EWOULDBLOCK;
    if (mod.state !== 'live') return -EBUSY; // "already dying" (or still initialising)
    // try_stop_module(): O_NONBLOCK is implied since 3.13; O_TRUNC forces if configured
    if (mod.refcnt > 0) {
      if (!((flags & O_TRUNC) !== 0 && k.config.force_unload)) return -EWOULDBLOCK;
      mod.taints += 'F';
    }
    this.setState(mod, 'going');
    yield* k.cpu.compute(k.cost(mod.image.behaviour.exitCpuNs ?? 0));
    if (k.sim.log.wants('uevent')) k.sim.log.emit('uevent', { module: name, action: 'remove', kobj: `/module/${name}` }, task.proc);
    yield* k.cpu.compute(k.cost(k.timings.freeModuleNs));
    yield* this.free_module(mod);
    if (k.preset.flags.deleteModuleWakes) this.module_wq.wake_up_all(name);
    return 0;
  }

  /** processes asleep on module_wq (any name) */
  get moduleWqSleepers(): number {
    return this.module_wq.sleepers;
  }
}

/** -N for a module parameter NAME=N in `args` (the last one given wins), else undefined */
function paramErrno(args: string, name: string): number | undefined {
  let out: number | undefined;
  for (const tok of args.split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq < 0 || tok.slice(0, eq).replace(/-/g, '_') !== name) continue;
    const v = tok.slice(eq + 1);
    if (/^[0-9]+$/.test(v)) out = -Number(v);
  }
  return out;
}
