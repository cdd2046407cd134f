/**
 * DOC: the storm's result record — one per (machine, CPU count, kernel preset, seed) — as a
 * schema, with the TypeScript types derived from it.
 *
 * This is the contract between the experiments and every report (table, chart, CSV, JSON,
 * JSONL, SVG, HTML) and other tools: field names are kept exactly, new fields are added, never
 * renamed. Bytes are integers; times are integer nanoseconds of virtual time.
 *
 * The schema is the one source: the types are `z.infer` of it, so the check a stored or
 * worker-returned record passes and the type the code relies on cannot drift apart. Fields this
 * version does not know are accepted (a newer kmodlab's records still read) and kept, because
 * `validateRecord` returns the value it checked, not zod's copy of it.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';

/** bytes, counts and nanoseconds: non-negative integers */
const count = z.number().int().nonnegative();

/** The kernel's own MODULE_STATS waste categories (spec §5.9). */
export const wasteByCategorySchema = z.object({
  kread: count,
  decompress: count,
  becoming: count,
  load: count,
});

/** One row of the stats "Duplicate failed modules" table. */
export const duplicateRowSchema = z.object({
  module: z.string(),
  count,
  /** "Becoming" | "Load" | "Becoming & Load" */
  reason: z.string(),
});

export const stormRunRecordSchema = z.object({
  machine: z.string().min(1),
  cpus: z.number().int().positive(),
  kernel: z.string().min(1),
  seed: z.number().int(),
  /** sum of the four categories ("Virtual mem wasted bytes") */
  wastedBytes: count,
  wastedBytesByCategory: wasteByCategorySchema,
  failedBecoming: count,
  failedLoad: count,
  modulesLoaded: count,
  /** finit_module/init_module calls that reached the kernel */
  loadAttempts: count,
  /** load attempts per module name */
  loadAttemptsByModule: z.record(z.string(), count),
  /** failed loads per module: errno name → count (e.g. { EEXIST: 3, EBUSY: 2 }) */
  failuresByModule: z.record(z.string(), z.record(z.string(), count)),
  peakVmallocBytes: count,
  peakModuleAreaBytes: count,
  /** allocations that did not fit ("vmap allocation for size N failed") */
  allocFailures: count,
  /** modules whose only/first legitimate load failed because an allocation failed */
  modulesFailedByAllocation: z.array(z.string()),
  /** virtual time from the first coldplug uevent until the last one settled */
  settleNs: count,
  /** total virtual time udev workers spent blocked inside the kernel */
  workerBlockedNs: count,
  uevents: count,
  duplicates: z.array(duplicateRowSchema),
  /** 'simulated' (the default when absent) or 'measured' on a real kernel */
  source: z.enum(['simulated', 'measured']).optional(),
  /** where it ran: 'sim', or 'qemu:debian-6.1' */
  target: z.string().optional(),
  /**
   * where wastedBytes comes from: the kernel's MODULE_STATS ('module_stats', the simulator's
   * model of it included) or the same estimate recomputed from a trace on a kernel without
   * CONFIG_MODULE_STATS ('estimate')
   */
  wastedBytesSource: z.enum(['module_stats', 'estimate']).optional(),
  /**
   * what failing load attempts really allocated (the kernel's copy of the file and module
   * memory, page-rounded with the guard page), unlike MODULE_STATS's estimate in wastedBytes
   */
  failedAttemptBytes: count.optional(),
  /**
   * failedAttemptBytes split: 'file' (kread, init_module_copy, decompress) and 'module' memory;
   * where a failing attempt was decompressed by the kernel also 'workspace' (the decompressor's
   * vmalloc'ed working memory: xz's dictionary, zlib's/zstd's workspace, in the total) and
   * 'vmap' (the part of 'file' that is the decompressed image's vmap()ed pages)
   */
  failedAttemptBytesByKind: z.object({ file: count, module: count, workspace: count.optional(), vmap: count.optional() }).optional(),
  /** the most finit_module/init_module calls by udev workers in flight at once */
  peakLoadsInFlight: count.optional(),
  /**
   * the module set the run booted with, for a reader of the report: `snapshot debian-6.1
   * (6.1.0-… , 3895 modules)`, `tree DIR (RELEASE, N modules)` for --modules, or the guest's own
   * tree on a real kernel; absent in records made before it was recorded
   */
  moduleSet: z.string().optional(),
});

/** The parameters a sweep ran with, for report headers. */
export const stormParamsSchema = z.object({
  machine: z.string(),
  cpus: z.array(z.number().int().positive()),
  kernels: z.array(z.string()),
  seeds: z.array(z.number().int()),
  command: z.string(),
});

export type WasteByCategory = z.infer<typeof wasteByCategorySchema>;
export type DuplicateRow = z.infer<typeof duplicateRowSchema>;
export type StormRunRecord = z.infer<typeof stormRunRecordSchema>;
export type StormParams = z.infer<typeof stormParamsSchema>;

/** zod's first complaint as `path: message` */
export function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid';
  return `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`;
}

/** Check that a parsed value is a StormRunRecord; one-line InputError naming `where` if not. */
export function validateRecord(value: unknown, where: string): StormRunRecord {
  const r = stormRunRecordSchema.safeParse(value);
  if (!r.success) throw new InputError(`${where}: not a storm record (${firstIssue(r.error)})`);
  return value as StormRunRecord;
}

/** The record's fields in schema order: the JSON key order and the CSV column order. */
export const RECORD_FIELDS = Object.keys(stormRunRecordSchema.shape) as (keyof StormRunRecord)[];

/** The waste categories in the kernel's order (kread, decompress, becoming, load). */
export const CATEGORIES = Object.keys(wasteByCategorySchema.shape) as (keyof WasteByCategory)[];
