/**
 * DOC: the storm's result record — one per (machine, CPU count, kernel preset, seed).
 *
 * This is the contract between the experiments and every report (table, chart, CSV, JSON,
 * JSONL, SVG, HTML) and other tools: field names are kept exactly, new fields are added, never
 * renamed. Bytes are integers; times are integer nanoseconds of virtual time.
 */

/** The kernel's own MODULE_STATS waste categories (spec §5.9). */
export interface WasteByCategory {
  kread: number;
  decompress: number;
  becoming: number;
  load: number;
}

/** One row of the stats "Duplicate failed modules" table. */
export interface DuplicateRow {
  module: string;
  count: number;
  /** "Becoming" | "Load" | "Becoming & Load" */
  reason: string;
}

export interface StormRunRecord {
  machine: string;
  cpus: number;
  kernel: string;
  seed: number;
  /** sum of the four categories ("Virtual mem wasted bytes") */
  wastedBytes: number;
  wastedBytesByCategory: WasteByCategory;
  failedBecoming: number;
  failedLoad: number;
  modulesLoaded: number;
  /** finit_module/init_module calls that reached the kernel */
  loadAttempts: number;
  /** load attempts per module name */
  loadAttemptsByModule: Record<string, number>;
  /** failed loads per module: errno name → count (e.g. { EEXIST: 3, EBUSY: 2 }) */
  failuresByModule: Record<string, Record<string, number>>;
  peakVmallocBytes: number;
  peakModuleAreaBytes: number;
  /** allocations that did not fit ("vmap allocation for size N failed") */
  allocFailures: number;
  /** modules whose only/first legitimate load failed because an allocation failed */
  modulesFailedByAllocation: string[];
  /** virtual time from the first coldplug uevent until the last one settled */
  settleNs: number;
  /** total virtual time udev workers spent blocked inside the kernel */
  workerBlockedNs: number;
  uevents: number;
  duplicates: DuplicateRow[];
}

/** The parameters a sweep ran with, for report headers. */
export interface StormParams {
  machine: string;
  cpus: number[];
  kernels: string[];
  seeds: number[];
  command: string;
}
