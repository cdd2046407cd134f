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
 *
 * zod is loaded (its CommonJS build, so validation stays synchronous) and the schemas built only
 * when something needs them: a record that passes `isRecordShaped` — a hand-written check that
 * accepts nothing the schema refuses (test/results/record.test.ts holds it to that) — is valid
 * without them, so a storm's threads, which check every record a worker returns, never load zod
 * (~80 ms of CPU each); any other value is judged by the schema, with its message.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { InputError } from '../errors.js';

function buildSchemas(z: typeof Zod) {
  /** bytes, counts and nanoseconds: non-negative integers */
  const count = z.number().int().nonnegative();

  /** The kernel's own MODULE_STATS waste categories (spec §5.9). */
  const wasteByCategorySchema = z.object({
    kread: count,
    decompress: count,
    becoming: count,
    load: count,
  });

  /** One row of the stats "Duplicate failed modules" table. */
  const duplicateRowSchema = z.object({
    module: z.string(),
    count,
    /** "Becoming" | "Load" | "Becoming & Load" */
    reason: z.string(),
  });

  const stormRunRecordSchema = z.object({
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
  const stormParamsSchema = z.object({
    machine: z.string(),
    cpus: z.array(z.number().int().positive()),
    kernels: z.array(z.string()),
    seeds: z.array(z.number().int()),
    command: z.string(),
  });
  return { wasteByCategorySchema, duplicateRowSchema, stormRunRecordSchema, stormParamsSchema };
}

type RecordSchemas = ReturnType<typeof buildSchemas>;
let schemas: RecordSchemas | undefined;

/** the record schemas (zod loaded and the schemas built on the first call) */
export function recordSchemas(): RecordSchemas {
  return (schemas ??= buildSchemas((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z));
}

export type WasteByCategory = Zod.infer<RecordSchemas['wasteByCategorySchema']>;
export type DuplicateRow = Zod.infer<RecordSchemas['duplicateRowSchema']>;
export type StormRunRecord = Zod.infer<RecordSchemas['stormRunRecordSchema']>;
export type StormParams = Zod.infer<RecordSchemas['stormParamsSchema']>;

/** zod's first complaint as `path: message` */
export function firstIssue(err: Zod.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid';
  return `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`;
}

// ---- the check without zod ---------------------------------------------------------------------
// Each is at least as strict as the schema's part (never true where zod would refuse); false only
// sends the value on to the schema, which decides, with its message.

type Check = (v: unknown) => boolean;

/** a plain object (what JSON.parse and a structured clone make), with no key zod would treat apart */
function plain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(v).length === 0 && !Object.hasOwn(v, '__proto__');
}

const isCount: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isInt: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const isPositive: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isString: Check = (v) => typeof v === 'string';
const isName: Check = (v) => typeof v === 'string' && v.length > 0;
const optional =
  (c: Check): Check =>
  (v) =>
    v === undefined || c(v);
const oneOf =
  (...names: string[]): Check =>
  (v) =>
    typeof v === 'string' && names.includes(v);
const fields =
  (shape: Readonly<Record<string, Check>>): Check =>
  (v) => {
    if (!plain(v)) return false;
    for (const k in shape) if (!shape[k]!(v[k])) return false;
    return true;
  };
const recordOf =
  (c: Check): Check =>
  (v) => {
    if (!plain(v)) return false;
    for (const k of Object.keys(v)) if (!c(v[k])) return false;
    return true;
  };
const arrayOf =
  (c: Check): Check =>
  (v) => {
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (!c(v[i])) return false;
    return true;
  };

/** a check per field of stormRunRecordSchema, in the schema's order (the test holds both to the same keys) */
const RECORD_CHECKS = {
  machine: isName,
  cpus: isPositive,
  kernel: isName,
  seed: isInt,
  wastedBytes: isCount,
  wastedBytesByCategory: fields({ kread: isCount, decompress: isCount, becoming: isCount, load: isCount }),
  failedBecoming: isCount,
  failedLoad: isCount,
  modulesLoaded: isCount,
  loadAttempts: isCount,
  loadAttemptsByModule: recordOf(isCount),
  failuresByModule: recordOf(recordOf(isCount)),
  peakVmallocBytes: isCount,
  peakModuleAreaBytes: isCount,
  allocFailures: isCount,
  modulesFailedByAllocation: arrayOf(isString),
  settleNs: isCount,
  workerBlockedNs: isCount,
  uevents: isCount,
  duplicates: arrayOf(fields({ module: isString, count: isCount, reason: isString })),
  source: optional(oneOf('simulated', 'measured')),
  target: optional(isString),
  wastedBytesSource: optional(oneOf('module_stats', 'estimate')),
  failedAttemptBytes: optional(isCount),
  failedAttemptBytesByKind: optional(fields({ file: isCount, module: isCount, workspace: optional(isCount), vmap: optional(isCount) })),
  peakLoadsInFlight: optional(isCount),
  moduleSet: optional(isString),
} satisfies Record<keyof StormRunRecord, Check>;

/** True only for a value the record schema accepts (without loading zod); false: ask the schema. */
export const isRecordShaped: (value: unknown) => boolean = fields(RECORD_CHECKS);

/** Check that a parsed value is a StormRunRecord; one-line InputError naming `where` if not. */
export function validateRecord(value: unknown, where: string): StormRunRecord {
  if (isRecordShaped(value)) return value as StormRunRecord;
  const r = recordSchemas().stormRunRecordSchema.safeParse(value);
  if (!r.success) throw new InputError(`${where}: not a storm record (${firstIssue(r.error)})`);
  return value as StormRunRecord;
}

/** The record's fields in schema order: the JSON key order and the CSV column order. */
export const RECORD_FIELDS = Object.keys(RECORD_CHECKS) as (keyof StormRunRecord)[];

/** The waste categories in the kernel's order (kread, decompress, becoming, load). */
export const CATEGORIES: readonly (keyof WasteByCategory)[] = ['kread', 'decompress', 'becoming', 'load'];
