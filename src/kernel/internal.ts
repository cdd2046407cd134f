/**
 * DOC: what the parts of the simulated kernel share — the one interface they are built against,
 * as kernel/module/internal.h is for the C files beside it.
 *
 * The loader (main.ts), request_module (kmod.ts), the usermode helper (umh.ts), dups.ts,
 * idempotent.ts and filesystems.ts each take a KernelInternal and none of them imports kernel.ts,
 * which builds one of each and hands itself over as this interface. So a part depends on what it
 * uses, not on the file that assembles everything, and no import circle runs through the Kernel
 * class. Here are the shared state (the engine, the preset, timings, run-time configuration,
 * printk, memory, stats, the same-name policies) and, as small interfaces, the calls one part
 * makes into another; what userspace may call is KernelApi (api.ts), which this extends because
 * the parts call the public entry points too (a module's init runs request_module).
 */
import type { CpuPool, Proc, Sim } from '../sim/index.js';
import type { Compression, KernelApi, KernelUevent, KFile, Task } from './api.js';
import type { KernelMemory } from './memory.js';
import type { SameNamePolicy } from './policy.js';
import type { KernelPreset } from './presets.js';
import type { Printk } from './printk.js';
import type { ModuleStats } from './stats.js';

/**
 * Durations of the kernel's own work. No kernel constant exists for any of these (spec §9.3);
 * defaults describe a current x86-64 server with the module files in the page cache. Machine
 * profiles override them (the qemu-tcg profile is ~10–50× slower).
 */
export interface KernelTimings {
  /** kernel_read_file() throughput (page-cache copy into vmalloc), bytes/s. Default 2e9 */
  kernelReadBytesPerSec: number;
  /** init_module's copy_from_user, bytes/s. Default 4e9 */
  copyFromUserBytesPerSec: number;
  /** in-kernel decompression, output bytes/s. Default gzip 300e6, xz 100e6, zstd 800e6 */
  decompressBytesPerSec: Record<Exclude<Compression, 'none'>, number>;
  /** signature verification fixed cost (PKCS#7 + RSA verify), ns. Default 150 µs */
  sigVerifyNs: number;
  /** hashing the signed image, bytes/s. Default 1.5e9 */
  sigHashBytesPerSec: number;
  /** ELF validity, setup_load_info, blacklist and check_modinfo, ns. Default 20 µs */
  elfCheckNs: number;
  /** layout_and_allocate bookkeeping, ns (plus section copy below). Default 30 µs */
  layoutNs: number;
  /** copying SHF_ALLOC sections into module memory, bytes/s. Default 4e9 */
  sectionCopyBytesPerSec: number;
  /** simplify_symbols + apply_relocations, ns per KiB of image. Default 1500 */
  relocationNsPerKiB: number;
  /** mod_sysfs_setup (kobject, parameters, sections, notifiers), ns. Default 100 µs */
  sysfsSetupNs: number;
  /** synchronize_rcu() / call_rcu grace period, ns. Default 10 ms */
  rcuGracePeriodNs: number;
  /** latency until queued work (system_wq / dups complete_work / init free) runs, ns. Default 20 µs */
  workqueueDelayNs: number;
  /** call_usermodehelper: queueing on system_unbound_wq + kernel_thread before exec, ns. Default 200 µs */
  umhQueueDelayNs: number;
  /** free_module bookkeeping in delete_module, ns. Default 50 µs */
  freeModuleNs: number;
  /**
   * one kernel TLB shootdown under vmap_purge_lock (a set_memory_*() call's vm_unmap_aliases(),
   * a vfree of VM_FLUSH_RESET_PERMS module memory), IPIs to every online CPU included, ns.
   * Default 0: not modelled (a few µs on real hardware; under TCG with many vCPUs on few host
   * cores, tens of ms — machine profiles set it)
   */
  tlbFlushNs: number;
  /**
   * free_module()'s synchronize_rcu() after the unlink, with module_mutex held, ns. Default 0:
   * not modelled (the unlink is one step)
   */
  freeModuleSyncRcuNs: number;
  /**
   * a woken task's wake→run time, ns, as its measured distribution: the values at 0, 5, … 95, 99
   * and 100 % (main.ts MUTEX_WAKE_QUANTILES). A module_mutex waiter needs it before it can take
   * the freed lock, so a newcomer in that window takes it first (sim/mutex.ts), and a woken
   * module_wq sleeper before its re-check takes the lock. Default []: FIFO hand-off, no wait
   */
  mutexWakeQuantilesNs: readonly number[];
}

/** Run-time configuration (command line, sysctl, Kconfig choices that are not release-bound). */
export interface KernelConfig {
  /** module.sig_enforce */
  sig_enforce: boolean;
  /** CONFIG_MODULE_SIG: unsigned modules taint 'E' */
  module_sig: boolean;
  /** /proc/sys/kernel/modules_disabled */
  modules_disabled: boolean;
  /** module_blacklist= */
  module_blacklist: string[];
  /** CONFIG_MODULE_FORCE_UNLOAD */
  force_unload: boolean;
  /** CONFIG_MODULE_DECOMPRESS algorithm (/sys/module/compression), null = none */
  moduleCompression: Compression | null;
}

/** The module references other parts take and drop (main.c: try_module_get, module_put). */
export interface ModuleRefs {
  try_module_get(name: string): boolean;
  module_put(name: string): void;
}

/** umh.c, as request_module calls it. */
export interface UsermodeHelperExec {
  call_usermodehelper_exec(task: Task, path: string, argv: string[], envp: string[], wait: number): Proc<number>;
}

/** What kmod_dup_request_exists_wait() tells request_module. */
export interface DupResult {
  /** this request was a duplicate: return `ret` instead of running modprobe */
  dup: boolean;
  ret: number;
}

/** dups.c (CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS), as request_module calls it. */
export interface AutoloadDups {
  kmod_dup_request_exists_wait(task: Task, name: string, wait: boolean): Proc<DupResult>;
  kmod_dup_request_announce(name: string, ret: number): void;
}

/** The idempotent finit_module table, as finit_module calls it. */
export interface IdempotentInit {
  idempotent_init_module(task: Task, f: KFile, load: () => Proc<number>): Proc<number>;
}

/** fs/filesystems.c, as free_module calls it: a module's filesystems go with it. */
export interface FilesystemOwners {
  unregisterOwnedBy(module: string): void;
}

/** The kernel as its parts see it. */
export interface KernelInternal extends KernelApi {
  readonly sim: Sim;
  readonly preset: KernelPreset;
  readonly timings: KernelTimings;
  readonly config: KernelConfig;
  readonly cpu: CpuPool;
  readonly printk: Printk;
  readonly memory: KernelMemory;
  readonly stats: ModuleStats;
  /** the CPU time of one step of kernel work: `ns` with the configured spread, whole ns */
  cost(ns: number): number;
  /** the relative spread of costs (0: every duration exact, as explore runs them) */
  readonly jitter: number;
  /** /proc/sys/kernel/modprobe (kmod.c's name) */
  readonly modprobe_path: string;
  /** security_kernel_module_request() hook: non-zero denies a request with that value */
  readonly securityKernelModuleRequest: ((name: string) => number) | null;
  /** the same-name policies, outermost first: the user's plug-in, then the preset's what-ifs */
  readonly policies: readonly SameNamePolicy[];
  readonly loader: ModuleRefs;
  readonly umh: UsermodeHelperExec;
  /** null unless the preset has CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS */
  readonly dups: AutoloadDups | null;
  /** null before v6.5 (K20) */
  readonly idempotent: IdempotentInit | null;
  readonly filesystems: FilesystemOwners;
  uevent(ev: KernelUevent): void;
}
