/**
 * DOC: the events the metrics observe — a small vocabulary that a simulated run and a real
 * guest's trace can both speak.
 *
 * The figures of a result record (load attempts and their errnos, memory peaks, modules loaded,
 * settle time, …) are computed by observers (loads.ts, memory.ts, modules.ts, storm.ts) from a
 * stream of these events, never by reading the model's objects. The simulator's event log is
 * adapted to it (sim.ts); a real guest's trace (ftrace/bpftrace syscall and vmalloc events, the
 * harness's own timestamps, a read of debugfs) only has to produce the same few shapes to be
 * measured by the same code.
 *
 * Times are nanoseconds on the run's own clock (virtual time in the simulator); only differences
 * and order matter. A process is named by `pid` and `caller` (its name or comm: a simulated
 * process's name such as `systemd-udevd-worker-3`, a real task's comm such as `(udev-worker)`).
 */

/** One finit_module/init_module call, from entry to return (a syscall enter/exit pair). */
export interface LoadCall {
  type: 'load';
  syscall: 'finit_module' | 'init_module';
  /** the module the file or image is (its name, as modinfo says) */
  module: string;
  pid: number;
  caller: string;
  /** 0 or -errno */
  ret: number;
  start: number;
  end: number;
}

/** A vmalloc()/module_alloc() (or per-CPU) allocation, or one that did not fit (`ok: false`). */
export interface Allocation {
  type: 'alloc';
  t: number;
  /** 'vmalloc', 'module' (the module area) or 'percpu' */
  area: string;
  /** what the allocation takes from its area (page-rounded, with the guard page: vmallocinfo's size) */
  bytes: number;
  /** the module it was made for */
  module: string;
  ok: boolean;
  /**
   * the process whose finit_module/init_module made it, when the source knows (a real trace's
   * pid, a simulated process's pid): the bytes a failing attempt really allocated are summed
   * through it
   */
  pid?: number;
  /**
   * what it is for, in spec §5.8's words: 'kread' (the kernel's copy of the file),
   * 'init_module_copy', 'decompress' (the decompressed image's vmap()ed pages),
   * 'decompress_workspace' (the decompressor's working memory), or module memory ('core',
   * 'init', 'text', 'data', …)
   */
  kind?: string;
}

/** The release of an allocation seen before (same area and bytes). */
export interface Release {
  type: 'free';
  t: number;
  area: string;
  bytes: number;
  module: string;
}

/** A module record changing state (the kernel's enum module_state; `gone` = freed). */
export interface StateChange {
  type: 'state';
  t: number;
  module: string;
  state: 'unformed' | 'coming' | 'live' | 'going' | 'gone';
}

/** One coldplug: `udevadm trigger --action=add` started at `start`, the last uevent was handled at `end`. */
export interface Coldplug {
  type: 'coldplug';
  start: number;
  end: number;
  /** uevents triggered */
  uevents: number;
}

/**
 * The kernel's own MODULE_STATS counters, read once at the end (the debugfs files under
 * /sys/kernel/debug/modules/: one per counter, and the "Duplicate failed modules" table of
 * `stats`). The wasted-bytes figures are the kernel's instrument, not something an outside
 * observer can recount, so they enter as this snapshot.
 */
export interface ModuleStatsSnapshot {
  type: 'module_stats';
  t: number;
  /** the counters by their kernel names (invalid_kread_bytes, failed_becoming, …) */
  counters: ModuleStatsCounters;
  /** the duplicate table, newest first, reasons in the kernel's words ("Becoming & Load") */
  duplicates: { module: string; count: number; reason: string }[];
}

/** The MODULE_STATS counters the storm record needs (a snapshot may hold more). */
export interface ModuleStatsCounters {
  invalid_kread_bytes: number;
  invalid_decompress_bytes: number;
  invalid_becoming_bytes: number;
  invalid_mod_bytes: number;
  failed_becoming: number;
  failed_load_modules: number;
  [counter: string]: number;
}

export type MetricEvent = LoadCall | Allocation | Release | StateChange | Coldplug | ModuleStatsSnapshot;

/** Where events go: an observer's `observe`, or several of them. */
export type EventSink = (e: MetricEvent) => void;
