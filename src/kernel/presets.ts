/**
 * DOC: kernel version presets — the only place where releases differ.
 *
 * The module loader changed in small, well-dated steps (spec §0, K0–K22): the request_module
 * limiter was rewritten twice, the same-name check was changed three times, duplicate loads got
 * an early check, statistics, a debug-only autoload cache and finally an inode-keyed dedup of
 * finit_module. Each step is one flag below. A preset is plain data — a name, the flags and the
 * constants — so the rest of src/kernel/ asks "what does this kernel do?" (`flags.limiter`) and
 * never "which version is this?". Users can describe a kernel of their own in JSON (a base preset
 * plus overrides) and try an unmerged idea without writing code; the what-if presets here are the
 * unmerged proposals of spec §5.10, each flag turning on one policy of whatif/.
 *
 * JSON presets are validated with zod here (io/presets.ts reads the files); every problem becomes
 * one InputError line naming the field (`preset file x.json: flags.limiter: expected one of …`).
 * zod is loaded (its CommonJS build, so validation stays synchronous) only when something is
 * validated: `kmodlab kernels` and every run of a built-in preset do without its ~95 files.
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { InputError } from '../errors.js';
import type { Compression } from './api.js';

/** The request_module concurrency limiter (spec §3.2). */
export type LimiterKind =
  /** K0 (≤ v4.12): count callers; above min(max_threads/2, 50) fail at once with -ENOMEM */
  | 'fail-fast'
  /** K1+K2 (v4.13 – v6.3): 50 free slots, killable 5 s wait, wake-all on release, -ETIME */
  | 'killable-wake-all'
  /** K13 (v6.4+): counting semaphore(50), FIFO hand-off, uninterruptible down_timeout(5 s) */
  | 'fifo-semaphore';

/** The same-name check in add_unformed_module (spec §5.6). */
export type SameNameCheck =
  /** pre-K6: wait while UNFORMED/COMING, then retry; -EEXIST for LIVE *or GOING* */
  | 'v4.9'
  /** K6 (v5.3 – v6.1.0): wait while not LIVE (incl. GOING) and retry from scratch */
  | 'wait-going-retry'
  /** K12 (v6.2+, 6.1.y stable): wait while UNFORMED/COMING, no retry: -EEXIST if LIVE else -EBUSY */
  | 'no-retry';

export type IdempotentFinit = 'off' | 'uninterruptible' | 'interruptible';

export interface KernelFlags {
  /** K0 / K1+K2 / K13 */
  limiter: LimiterKind;
  /** K8: request_module with an empty /proc/sys/kernel/modprobe returns 0 (≤5.6) or -ENOENT (≥5.7) */
  emptyModprobePath: 'zero' | 'enoent';
  /** K6 / K12 */
  sameNameCheck: SameNameCheck;
  /** K15: the patient same-name check also runs before layout_and_allocate (reason BECOMING) */
  earlySameNameCheck: boolean;
  /** K16: CONFIG_MODULE_STATS, /sys/kernel/debug/modules/stats exists (the model counts always) */
  moduleStats: boolean;
  /** K17: CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS (debug-only, off in distribution kernels) */
  autoloadDups: boolean;
  /** K17: CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS_TRACE, default of module.enable_dups_trace */
  autoloadDupsTrace: boolean;
  /** K20 / K22: finit_module dedup by inode; how waiters sleep */
  idempotentFinit: IdempotentFinit;
  /** finit_module flag bits accepted (1|2; K10 adds 4 = MODULE_INIT_COMPRESSED_FILE) */
  finitFlagsMask: number;
  /** K10: algorithms CONFIG_MODULE_DECOMPRESS can be built with (empty: no in-kernel decompression) */
  inKernelDecompress: Compression[];
  /** K4 / K8: get_fs_type's "request_module fs-X succeeded, but still no fs?" */
  getFsTypeWarning: 'none' | 'warn-once' | 'pr-warn-once';
  /** K5: how init memory is freed after a successful init */
  initFreeDeferral: 'call-rcu' | 'workqueue';
  /** Khorenko's fix: delete_module wakes module_wq */
  deleteModuleWakes: boolean;
  /** K18: module memory is 7 separately allocated types (v6.4+) instead of core + init */
  moduleMemoryTypes: 'core-init' | 'module-memory';
  /** §5.10 what-if: Luis' kread dedup RFC — inode kept for the module's lifetime, -EBUSY before vmalloc */
  kreadDedup: boolean;
  /** §5.10 / K19 what-if: exclusive write-deny for the whole finit → -ETXTBSY for a concurrent finit of the file */
  exclusiveWriteDeny: boolean;
  /** §5.10 what-if: Petr Pavlu's merge of same-name requests (one real attempt; 0 + rest -EEXIST / E + rest -EBUSY) */
  mergeSameName: boolean;
  /** K3 test_kmod of the 4.13 era: `config` shows "EMTPY", the driver/fs reads return the trailing NUL */
  testKmodLegacyShow: boolean;
  /**
   * v6.16 test_kmod ("lib/test_kmod: do not hardcode/depend on any filesystem"): no built-in
   * default fs (TEST_START_TEST_FS "xfs" removed) — the defaults come from the module parameters
   * start_driver (else test_module) and start_test_fs (else none: `config` shows "fs:\tEMPTY", an
   * fs trigger fails with -EINVAL); force_init_test runs the configured driver (and fs, if set)
   * instead of "tun" and "btrfs"
   */
  testKmodStartParams: boolean;
  /** v7.1 (743f8cae549a "module: Override -EEXIST module return"): an init returning -EEXIST is reported as -EBUSY */
  initEexistAsEbusy: boolean;
  /**
   * How do_init_module warns about an init returning > 0: "do_init_module: 'NAME'->init
   * suspiciously returned N, …" + "loading module anyway..." + a stack dump, or, from v7.1
   * (663385f9155f "module: Simplify warning on positive returns from module_init()"), one line
   * "NAME: init suspiciously returned N, …" without a stack dump
   */
  initPositiveWarning: 'dump-stack' | 'one-line';
}

export interface KernelConstants {
  /** MAX_KMOD_CONCURRENT */
  maxKmodConcurrent: number;
  /** MAX_KMOD_ALL_BUSY_TIMEOUT, seconds */
  kmodAllBusyTimeoutS: number;
  /** MODULE_NAME_LEN (64-bit) */
  moduleNameLen: number;
  /** KMOD_PATH_LEN */
  kmodPathLen: number;
  /** default modprobe_path (CONFIG_MODPROBE_PATH) */
  defaultModprobePath: string;
  /** resolve_symbol_wait timeout, seconds */
  resolveSymbolTimeoutS: number;
  /** dups: delete_work delay after completion, seconds */
  dupsDeleteDelayS: number;
  /** v4.9: "runaway loop" messages printed at most this many times per boot */
  runawayLoopPrints: number;
  /** stats.c MAX_PREAMBLE, MAX_FAILED_MOD_PRINT, MAX_BYTES_PER_MOD */
  statsMaxPreamble: number;
  statsMaxFailedModPrint: number;
  statsBytesPerMod: number;
  /** highest kmod.sh test id the release's selftest ships (0: no test_kmod / kmod.sh) */
  kmodShLastTest: number;
  /** the kmod.sh the release ships: its tests, restore trap and usage text (selftest/tests.ts) */
  kmodSh: 'v4.13' | 'v5.7' | 'v5.8';
}

export interface KernelPreset {
  name: string;
  description: string;
  /** the preset this one was derived from (informational) */
  basedOn?: string;
  flags: KernelFlags;
  constants: KernelConstants;
}

const CONSTANTS: KernelConstants = {
  maxKmodConcurrent: 50,
  kmodAllBusyTimeoutS: 5,
  moduleNameLen: 56,
  kmodPathLen: 256,
  defaultModprobePath: '/sbin/modprobe',
  resolveSymbolTimeoutS: 30,
  dupsDeleteDelayS: 60,
  runawayLoopPrints: 5,
  statsMaxPreamble: 1024,
  statsMaxFailedModPrint: 112,
  statsBytesPerMod: 64,
  kmodShLastTest: 0,
  kmodSh: 'v4.13',
};

const V49_FLAGS: KernelFlags = {
  limiter: 'fail-fast',
  emptyModprobePath: 'zero',
  sameNameCheck: 'v4.9',
  earlySameNameCheck: false,
  moduleStats: false,
  autoloadDups: false,
  autoloadDupsTrace: false,
  idempotentFinit: 'off',
  finitFlagsMask: 3,
  inKernelDecompress: [],
  getFsTypeWarning: 'none',
  initFreeDeferral: 'call-rcu',
  deleteModuleWakes: false,
  moduleMemoryTypes: 'core-init',
  kreadDedup: false,
  exclusiveWriteDeny: false,
  mergeSameName: false,
  testKmodLegacyShow: true,
  testKmodStartParams: false,
  initEexistAsEbusy: false,
  initPositiveWarning: 'dump-stack',
};

const BUILTIN: KernelPreset[] = [];
function def(name: string, base: string | null, description: string, flags: Partial<KernelFlags>, constants: Partial<KernelConstants> = {}): void {
  const b = base === null ? undefined : BUILTIN.find((p) => p.name === base);
  if (base !== null && b === undefined) throw new Error(`preset ${name}: unknown base ${base}`);
  BUILTIN.push({
    name,
    description,
    ...(base !== null ? { basedOn: base } : {}),
    flags: { ...(b?.flags ?? V49_FLAGS), ...flags },
    constants: { ...(b?.constants ?? CONSTANTS), ...constants },
  });
}

def('v4.9', null, 'K0: fail-fast limiter (-ENOMEM), v4.9 same-name check (-EEXIST for LIVE or GOING), no test_kmod', {});
def('v4.13', 'v4.9', 'K1+K2: 50 slots, killable 5 s wait (-ETIME), wake-all; K3 test_kmod/kmod.sh 0001-0009; K4 WARN_ONCE in get_fs_type', {
  limiter: 'killable-wake-all',
  getFsTypeWarning: 'warn-once',
}, { kmodShLastTest: 9 });
def('v5.3', 'v4.13', 'K6: same-name waiters wait through GOING and retry (serialized failing loads); init free via workqueue; delete_module wakes module_wq', {
  sameNameCheck: 'wait-going-retry',
  initFreeDeferral: 'workqueue',
  deleteModuleWakes: true,
});
def('v5.7', 'v5.3', 'K8: empty modprobe path → -ENOENT, pr_warn_once in get_fs_type, kmod.sh 0010/0011', {
  emptyModprobePath: 'enoent',
  getFsTypeWarning: 'pr-warn-once',
  testKmodLegacyShow: false,
}, { kmodShLastTest: 11, kmodSh: 'v5.7' });
def('v5.10-stable', 'v5.7', 'Debian 5.10.223 (measured, data/calibration/debian-5.10-storm.md): v5.10 = v5.7 + K9 (kmod.sh 0012/0013), no in-kernel decompression, + K12 "Don\'t wait for GOING modules" backported (-EEXIST/-EBUSY, no retry)', {
  sameNameCheck: 'no-retry',
}, { kmodShLastTest: 13, kmodSh: 'v5.8' });
def('v6.1', 'v5.7', 'v6.1.0: + K9 (kmod.sh 0012/0013), K10 in-kernel decompression (gzip, xz), still K6', {
  finitFlagsMask: 7,
  inKernelDecompress: ['gzip', 'xz'],
}, { kmodShLastTest: 13, kmodSh: 'v5.8' });
def('v6.1-stable', 'v6.1', 'Debian 6.1.176: v6.1.0 + K12 "Don\'t wait for GOING modules" (-EEXIST/-EBUSY, no retry)', {
  sameNameCheck: 'no-retry',
});
def('v6.2', 'v6.1-stable', 'K12 upstream; zstd decompression', {
  inKernelDecompress: ['gzip', 'xz', 'zstd'],
});
def('v6.4', 'v6.2', 'K13 FIFO semaphore limiter, K15 early same-name check (BECOMING), K16 MODULE_STATS, K17 dups available (off), K18 module_memory', {
  limiter: 'fifo-semaphore',
  earlySameNameCheck: true,
  moduleStats: true,
  moduleMemoryTypes: 'module-memory',
});
def('v6.5', 'v6.4', 'K20 idempotent finit_module keyed by inode, uninterruptible waiters', {
  idempotentFinit: 'uninterruptible',
});
def('v6.11', 'v6.5', 'K22: idempotent waiters interruptible (-EINTR)', {
  idempotentFinit: 'interruptible',
});
def('v6.16', 'v6.11', 'v6.16-rc1: test_kmod start_driver/start_test_fs parameters, no default fs ("lib/test_kmod: do not hardcode/depend on any filesystem", Herton R. Krzesinski; Debian 7.2.13 source vs 6.12.117, data/calibration/debian-sid-source.md)', {
  testKmodStartParams: true,
});
def('v7.1', 'v6.16', 'v7.1-rc1: 743f8cae549a init\'s -EEXIST reported as -EBUSY; 663385f9155f one-line warning for a positive init return (Debian 7.2.13 source)', {
  initEexistAsEbusy: true,
  initPositiveWarning: 'one-line',
});
def('newest', 'v7.1', 'newest mainline (= v7.1 behaviour; Debian sid 7.2.13 read from its source)', {});
def('newest-dups', 'newest', 'newest with CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS=y (spec §7.5 last column)', {
  autoloadDups: true,
});
def('whatif-kread-dedup', 'v6.4', 'unmerged (May 2023): kread dedup by inode for the module lifetime, -EBUSY before vmalloc', {
  kreadDedup: true,
});
def('whatif-exclusive-deny', 'v6.4', 'K19 (v6.4-rc4, reverted): exclusive write-deny for the whole finit → -ETXTBSY on concurrent finit of one file', {
  exclusiveWriteDeny: true,
});
def('whatif-merge-same-name', 'v6.1', 'unmerged (Petr Pavlu, 2022): same-name loads merge into one attempt before allocation (0 + -EEXIST / E + -EBUSY)', {
  mergeSameName: true,
});

/** Built-in presets, in release order. */
export const PRESETS: readonly KernelPreset[] = BUILTIN;

/** Aliases accepted for built-in names (the spec spells a few differently). */
const ALIASES: Record<string, string> = {
  'v6.1.0': 'v6.1',
  'v6.1.y-stable': 'v6.1-stable',
  'v6.1.176': 'v6.1-stable',
  'v5.10.223': 'v5.10-stable',
  'v6.3': 'v6.2',
  'v6.6': 'v6.5',
  'v6.10': 'v6.5',
  // releases whose source was read against the model (data/calibration/debian-sid-source.md)
  'v6.12': 'v6.11',
  'v7.2': 'v7.1',
};

/** The alias table (a full stable version such as v6.1.176 names the preset measured on it). */
export function presetAliases(): Readonly<Record<string, string>> {
  return ALIASES;
}

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

/** A built-in preset by name; InputError naming the field for an unknown name. */
export function getPreset(name: string, field = 'preset'): KernelPreset {
  const n = ALIASES[name] ?? name;
  const p = PRESETS.find((x) => x.name === n);
  if (p === undefined) throw new InputError(`${field}: unknown preset '${name}' (known: ${presetNames().join(', ')})`);
  return clonePreset(p);
}

function clonePreset(p: KernelPreset): KernelPreset {
  return { ...p, flags: { ...p.flags, inKernelDecompress: [...p.flags.inKernelDecompress] }, constants: { ...p.constants } };
}

// ---- JSON presets -------------------------------------------------------------------------

/** the JSON schemas, built on first use with zod's CommonJS build (a synchronous load) */
function buildSchemas(z: typeof Zod) {
  const compression = z.enum(['gzip', 'xz', 'zstd']);
  const flagsSchema = z.strictObject({
    limiter: z.enum(['fail-fast', 'killable-wake-all', 'fifo-semaphore']),
    emptyModprobePath: z.enum(['zero', 'enoent']),
    sameNameCheck: z.enum(['v4.9', 'wait-going-retry', 'no-retry']),
    earlySameNameCheck: z.boolean(),
    moduleStats: z.boolean(),
    autoloadDups: z.boolean(),
    autoloadDupsTrace: z.boolean(),
    idempotentFinit: z.enum(['off', 'uninterruptible', 'interruptible']),
    finitFlagsMask: z.number().int().min(0).max(7),
    inKernelDecompress: z.array(compression),
    getFsTypeWarning: z.enum(['none', 'warn-once', 'pr-warn-once']),
    initFreeDeferral: z.enum(['call-rcu', 'workqueue']),
    deleteModuleWakes: z.boolean(),
    moduleMemoryTypes: z.enum(['core-init', 'module-memory']),
    kreadDedup: z.boolean(),
    exclusiveWriteDeny: z.boolean(),
    mergeSameName: z.boolean(),
    testKmodLegacyShow: z.boolean(),
    testKmodStartParams: z.boolean(),
    initEexistAsEbusy: z.boolean(),
    initPositiveWarning: z.enum(['dump-stack', 'one-line']),
  });
  const posInt = z.number().int().positive();
  const constantsSchema = z.strictObject({
    maxKmodConcurrent: posInt,
    kmodAllBusyTimeoutS: posInt,
    moduleNameLen: posInt,
    kmodPathLen: posInt,
    defaultModprobePath: z.string(),
    resolveSymbolTimeoutS: posInt,
    dupsDeleteDelayS: posInt,
    runawayLoopPrints: z.number().int().min(0),
    statsMaxPreamble: posInt,
    statsMaxFailedModPrint: posInt,
    statsBytesPerMod: posInt,
    kmodShLastTest: z.number().int().min(0),
    kmodSh: z.enum(['v4.13', 'v5.7', 'v5.8']),
  });
  const presetFileSchema = z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** built-in (or earlier-defined) preset the flags and constants start from */
    basedOn: z.string().min(1),
    flags: flagsSchema.partial().optional(),
    constants: constantsSchema.partial().optional(),
  });
  return { flagsSchema, presetFileSchema };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;
function presetSchemas(): ReturnType<typeof buildSchemas> {
  return (schemas ??= buildSchemas((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z));
}
export type PresetFile = Zod.infer<ReturnType<typeof buildSchemas>['presetFileSchema']>;

function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function zodLine(err: Zod.ZodError, topLevel = 'field'): string {
  const i = err.issues[0]!;
  if (i.code === 'unrecognized_keys') {
    const where = i.path.length === 0 ? '' : `${issuePath(i.path)}.`;
    const what = i.path[0] === 'flags' ? 'flag' : i.path[0] === 'constants' ? 'constant' : i.path.length === 0 ? topLevel : 'field';
    return `${where}${i.keys[0]}: unknown ${what}`;
  }
  return `${issuePath(i.path)}: ${i.message}`;
}

/** Validate a parsed preset object (a JSON file's content); `source` names it in errors. */
export function presetFromJson(data: unknown, source = 'preset'): KernelPreset {
  const r = presetSchemas().presetFileSchema.safeParse(data);
  if (!r.success) throw new InputError(`${source}: ${zodLine(r.error)}`);
  const f = r.data;
  const base = getPreset(f.basedOn, `${source}: basedOn`);
  return {
    name: f.name,
    description: f.description ?? `custom preset based on ${base.name}`,
    basedOn: base.name,
    flags: { ...base.flags, ...f.flags },
    constants: { ...base.constants, ...f.constants },
  };
}

/** Validate flag overrides given in code (createKernel's `flags` option). */
export function validateFlags(flags: Partial<KernelFlags>, source = 'flags'): Partial<KernelFlags> {
  const r = presetSchemas().flagsSchema.partial().safeParse(flags);
  if (!r.success) throw new InputError(`${source}.${zodLine(r.error, 'flag')}`);
  return r.data;
}

/** A preset by name, or a preset object, with optional flag overrides applied. */
export function resolvePreset(preset: string | KernelPreset | undefined, overrides?: Partial<KernelFlags>): KernelPreset {
  const p = preset === undefined ? getPreset('newest') : typeof preset === 'string' ? getPreset(preset) : clonePreset(preset);
  if (overrides !== undefined && Object.keys(overrides).length > 0) {
    p.flags = { ...p.flags, ...validateFlags(overrides) };
  }
  return p;
}

/** The differences between a preset and its base, for `kmodlab kernels`. */
export function flagDiff(p: KernelPreset): Partial<KernelFlags> {
  const base = p.basedOn === undefined ? undefined : PRESETS.find((x) => x.name === p.basedOn);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.flags)) {
    const bv = base === undefined ? undefined : (base.flags as unknown as Record<string, unknown>)[k];
    if (base === undefined || JSON.stringify(bv) !== JSON.stringify(v)) out[k] = v;
  }
  return out as Partial<KernelFlags>;
}
