/**
 * DOC: the simulated kernel's interface to everything outside it.
 *
 * Userspace (modprobe, udevd), the test_kmod driver and the selftest targets talk to the
 * simulated kernel only through these types: system calls (finit_module, init_module,
 * delete_module), kernel-internal entry points other kernel code uses (request_module,
 * get_fs_type), the usermode-helper hook through which request_module starts a modprobe
 * process, and the read-only views userspace reads (/sys/module/NAME/initstate, /proc/modules,
 * /proc/sys/kernel/modprobe). Keeping this one file small is what lets each side be built and
 * tested alone.
 *
 * Return values follow the kernel: 0 or a negative errno (request_module may also return a
 * positive wait(2) status such as 256). Errno numbers are x86's (see errno.ts).
 */
import type { Proc, Process } from '../sim/index.js';

/** A task (process) making a system call: the engine process plus what permission checks need. */
export interface Task {
  proc: Process;
  /** "modprobe", "systemd-udevd", "test_kmod-3", "insmod" … (for logs and traces) */
  comm: string;
  /** CAP_SYS_MODULE (init_module/finit_module/delete_module) */
  capSysModule: boolean;
  /** CAP_SYSLOG (module addresses in /proc/modules and /sys/module/NAME/sections) */
  capSyslog: boolean;
}

/** What a module's init function does when do_init_module() calls it. */
export interface ModuleInitContext {
  task: Task;
  /** the kernel, for nested request_module / get_fs_type / register_filesystem calls */
  kernel: KernelApi;
  /** the module's own name */
  module: string;
  /** module parameters as passed to init_module/finit_module */
  args: string;
}

export interface ModuleBehaviour {
  /** CPU time the init function spends (held on one CPU) */
  initCpuNs: number;
  /** time the init function sleeps (msleep, waiting for hardware) without holding a CPU */
  initSleepNs: number;
  /** 0 or -errno: what init returns */
  initResult: number;
  /**
   * A module parameter that sets what init returns: given as NAME=N, init returns -N instead of
   * initResult (kml_fail's `retval`, so one module fails with any errno the way the real one does)
   */
  initResultParam?: string;
  /** filesystems the init registers (register_filesystem), e.g. ["xfs"] */
  registersFs?: string[];
  /** request_module() calls init makes, in order (crypto algorithm lookups and the like) */
  requests?: string[];
  /**
   * Full control for special modules (test_kmod's late_initcall, a module that loads itself):
   * runs instead of the fields above and returns init's return value.
   */
  init?: (ctx: ModuleInitContext) => Proc<number>;
  /** the module's exit function (delete_module), CPU ns */
  exitCpuNs?: number;
  /**
   * devices a successful init adds (platform_device_add, a driver's probe during
   * pci_register_driver): device_add() sends each one's "add" uevent as init finishes
   */
  addsDevices?: readonly KernelUevent[];
}

/** A uevent the kernel sends to userspace (kobject_uevent → netlink): the device and its environment. */
export interface KernelUevent {
  action: 'add';
  /** /sys/devices/… */
  devpath: string;
  subsystem: string;
  /** MODALIAS, DEVTYPE, DRIVER and the other KEY=VALUE pairs of the event */
  env: Readonly<Record<string, string>>;
}

/** How a module file is compressed (the file name's .gz / .xz / .zst); finit_module may decompress it. */
export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

/** Bytes of SHF_ALLOC sections by the kernel's module_memory types (v6.4+ names; older kernels
 *  group text+rodata+data+ro_after_init as "core" and init_* as "init"). */
export interface SectionSizes {
  text: number;
  data: number;
  rodata: number;
  roAfterInit: number;
  initText: number;
  initData: number;
  initRodata: number;
  /** .symtab + .strtab bytes: the whole symbol table is copied to the init data for kallsyms */
  symtab: number;
  /**
   * kallsyms' core copy, appended to the core data by layout_symtab(): for each symbol kept after
   * init (a named symbol defined in an allocated, non-init section, or in .data..percpu; with
   * CONFIG_KALLSYMS_ALL data symbols too) an Elf64_Sym (24 bytes), a type byte and its name with
   * the NUL. Known exactly when read from a .ko; a snapshot does not carry it (memory.ts then
   * estimates it from `symtab`).
   */
  coreSymtab?: number;
  /** .symtab entries (the init copy's one type byte each); read from a .ko, else estimated */
  symbols?: number;
  /** .data..percpu (allocated only once the module is unique) */
  percpu: number;
}

/** The SectionSizes every module has (snapshots store exactly these, in src/userspace/depmod/snapshot.ts). */
export type SectionSizeKey = Exclude<keyof SectionSizes, 'coreSymtab' | 'symbols'>;

/** The ELF image a file holds, as load_module sees it. */
export interface ModuleImage {
  /** mod->name ('-' already '_') */
  name: string;
  /** ELF size after decompression, without the signature (D) */
  imageSize: number;
  /** allocated section sizes when known from the real .ko; else estimated from imageSize */
  sections?: SectionSizes;
  /** carries a valid appended signature */
  signed: boolean;
  /** modules this one needs symbols from (resolve_symbol waits up to 30 s for a COMING one) */
  symbolDeps: string[];
  /** what init does */
  behaviour: ModuleBehaviour;
  /** vermagic / modinfo check fails (→ -ENOEXEC) */
  badModinfo?: boolean;
  /** no "intree" modinfo tag: taints the module with 'O' (added by the kernel issue) */
  outOfTree?: boolean;
}

/** An open regular file as finit_module / kernel_read_file see it. */
export interface KFile {
  path: string;
  /** identity of the inode (hard links and every open of one file share it; a copy does not) */
  inode: number;
  /** bytes on disk (F: the compressed size if compressed) */
  size: number;
  compression: Compression;
  /**
   * the dictionary (xz) or window (zstd) size its stream header names, when known; absent →
   * kbuild's (decompress.ts). In-kernel decompression vmallocs it for the decompression.
   */
  compressionWindow?: number;
  image: ModuleImage;
}

/** /sys/module/NAME as userspace sees it (spec §2 "Observable state"). */
export interface SysfsModuleView {
  /** the directory /sys/module/NAME exists */
  dir: boolean;
  /** content of initstate without the newline, or null if the file is absent */
  initstate: 'coming' | 'live' | 'going' | null;
}

/** A filesystem type found by get_fs_type (holds a module reference until put). */
export interface FsTypeRef {
  name: string;
  /** owning module, or null if built in */
  owner: string | null;
}

/**
 * The usermode helper: how request_module's call_usermodehelper_exec starts a user process.
 * Implemented by userspace (the simulated modprobe); the kernel adds UMH's own queueing.
 */
export interface UsermodeHelperHost {
  /**
   * exec(path, argv, envp) in a new user process. Returns -errno synchronously if exec fails
   * (-ENOENT: no such file; -EACCES: not executable; -ENOEXEC: bad format), else the process,
   * whose generator returns the raw wait(2) status (exit code c → c << 8; killed by s → s).
   */
  exec(path: string, argv: string[], envp: string[]): number | Process<number>;
}

/** Load flags of finit_module (spec §1). */
export const MODULE_INIT_IGNORE_MODVERSIONS = 1;
export const MODULE_INIT_IGNORE_VERMAGIC = 2;
export const MODULE_INIT_COMPRESSED_FILE = 4;

/** delete_module flags */
export const O_NONBLOCK = 0o4000;
export const O_TRUNC = 0o1000;

export interface KernelApi {
  /** the preset the kernel was built from (name, for reports) */
  readonly release: string;

  // ---- system calls ----
  finit_module(task: Task, file: KFile | null, args: string, flags: number): Proc<number>;
  /** init_module(): `file` is where userspace read (and maybe decompressed) the image from; len = bytes passed */
  init_module(task: Task, file: KFile, len: number, args: string): Proc<number>;
  delete_module(task: Task, name: string, flags: number): Proc<number>;

  // ---- in-kernel entry points ----
  request_module(task: Task, name: string, wait?: boolean): Proc<number>;
  get_fs_type(task: Task, name: string): Proc<FsTypeRef | null>;
  /** drop the module reference get_fs_type took (module_put of the fs owner) */
  put_filesystem(ref: FsTypeRef): void;
  /** register_filesystem() from a module's init (hasSubtype = FS_HAS_SUBTYPE, added by the kernel issue) */
  register_filesystem(name: string, owner: string, hasSubtype?: boolean): number;
  unregister_filesystem(name: string): number;
  /**
   * kobject_uevent(): send a device's uevent to userspace's listener (udevd's netlink socket);
   * dropped without one. Optional (stand-in kernels of tests have none); added by the coldplug calibration.
   */
  uevent?(ev: KernelUevent): void;

  // ---- what userspace reads ----
  sysfsModule(name: string): SysfsModuleView;
  /** /proc/modules text as seen with or without CAP_SYSLOG */
  procModules(capSyslog: boolean): string;
  /** /sys/module/NAME/sections: file name → content ("0x…\n"), or null if the module is not in sysfs */
  moduleSections(name: string, capSyslog: boolean): Map<string, string> | null;
  /** /proc/sys/kernel/modprobe */
  modprobePath: string;
  /** modules that are loaded (any state), by name */
  moduleState(name: string): 'unformed' | 'coming' | 'live' | 'going' | null;
  /** refcount of a loaded module (for modprobe -r "in use") */
  moduleRefcount(name: string): number;
  /** dmesg so far */
  dmesg(): string[];
  /**
   * /sys/module/compression: the algorithm of in-kernel decompression (CONFIG_MODULE_DECOMPRESS),
   * or null when the kernel cannot decompress (libkmod then decompresses itself and uses
   * init_module). Optional; added by the kernel issue.
   */
  readonly moduleCompression?: Compression | null;
}
